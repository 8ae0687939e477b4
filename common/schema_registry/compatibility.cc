#include "common/schema_registry/compatibility.h"

#include "absl/strings/str_cat.h"

namespace sluice::schema_registry {
namespace {

bool Transitive(CompatibilityLevel level) {
  return level == CompatibilityLevel::kBackwardTransitive ||
         level == CompatibilityLevel::kForwardTransitive ||
         level == CompatibilityLevel::kFullTransitive;
}

bool ChecksBackward(CompatibilityLevel level) {
  return level == CompatibilityLevel::kBackward ||
         level == CompatibilityLevel::kBackwardTransitive || level == CompatibilityLevel::kFull ||
         level == CompatibilityLevel::kFullTransitive;
}

bool ChecksForward(CompatibilityLevel level) {
  return level == CompatibilityLevel::kForward || level == CompatibilityLevel::kForwardTransitive ||
         level == CompatibilityLevel::kFull || level == CompatibilityLevel::kFullTransitive;
}

void Append(const std::string& prefix, const std::vector<std::string>& reasons,
            std::vector<std::string>* out) {
  for (const std::string& reason : reasons) out->push_back(absl::StrCat(prefix, reason));
}

}  // namespace

std::vector<std::string> CompatibilityProblems(CompatibilityLevel level,
                                               const ParsedSchema& candidate,
                                               const std::vector<VersionedSchema>& existing) {
  std::vector<std::string> problems;
  if (level == CompatibilityLevel::kNone || existing.empty()) return problems;
  const size_t first = Transitive(level) ? 0 : existing.size() - 1;
  for (size_t i = existing.size(); i-- > first;) {  // newest first
    const VersionedSchema& old = existing[i];
    if (old.schema->type() != candidate.type()) {
      problems.push_back(absl::StrCat("the new schema is of type ",
                                      SchemaTypeName(candidate.type()), " but version ",
                                      old.version, " is ", SchemaTypeName(old.schema->type())));
      continue;
    }
    if (ChecksBackward(level)) {
      Append(absl::StrCat("new schema reading data of version ", old.version, ": "),
             candidate.ReadIncompatibilities(*old.schema), &problems);
    }
    if (ChecksForward(level)) {
      Append(absl::StrCat("version ", old.version, " reading data of the new schema: "),
             old.schema->ReadIncompatibilities(candidate), &problems);
    }
  }
  return problems;
}

}  // namespace sluice::schema_registry
