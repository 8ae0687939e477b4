#include "common/schema_registry/avro_compatibility.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::schema_registry {
namespace {

bool Promotable(AvroKind writer, AvroKind reader) {
  switch (writer) {
    case AvroKind::kInt:
      return reader == AvroKind::kLong || reader == AvroKind::kFloat || reader == AvroKind::kDouble;
    case AvroKind::kLong:
      return reader == AvroKind::kFloat || reader == AvroKind::kDouble;
    case AvroKind::kFloat:
      return reader == AvroKind::kDouble;
    case AvroKind::kString:
      return reader == AvroKind::kBytes;
    case AvroKind::kBytes:
      return reader == AvroKind::kString;
    default:
      return false;
  }
}

std::string Join(const std::string& path, absl::string_view part) {
  return path.empty() ? std::string(part) : absl::StrCat(path, ".", part);
}

// "field 'a.b': " or "" at the top of the schema.
std::string At(const std::string& path) {
  return path.empty() ? "" : absl::StrCat("field '", path, "': ");
}

// Walks a reader and a writer schema side by side, collecting reasons.
class Resolver {
 public:
  Resolver(const AvroSchema& reader, const AvroSchema& writer) : reader_(reader), writer_(writer) {}

  void Check(int r, int w, const std::string& path, std::vector<std::string>* reasons) {
    const AvroNode& rn = reader_.node(r);
    const AvroNode& wn = writer_.node(w);
    if (wn.kind == AvroKind::kUnion) return CheckWriterUnion(r, wn, path, reasons);
    if (rn.kind == AvroKind::kUnion) {
      for (int branch : rn.branches) {
        if (Resolves(branch, w, path)) return;
      }
      reasons->push_back(absl::StrCat(At(path), "writer type ", writer_.Describe(w),
                                      " matches no branch of reader ", reader_.Describe(r)));
      return;
    }
    if (rn.kind != wn.kind) {
      if (Promotable(wn.kind, rn.kind)) return;
      reasons->push_back(absl::StrCat(At(path), "reader type ", reader_.Describe(r),
                                      " cannot read writer type ", writer_.Describe(w)));
      return;
    }
    switch (rn.kind) {
      case AvroKind::kRecord:
      case AvroKind::kEnum:
      case AvroKind::kFixed:
        if (!NamesMatch(rn, wn)) {
          reasons->push_back(absl::StrCat(At(path), "reader ", reader_.Describe(r),
                                          " does not match writer ", writer_.Describe(w),
                                          " (the names differ)"));
          return;
        }
        if (!visited_.insert({r, w}).second) return;  // recursion, or already checked
        if (rn.kind == AvroKind::kRecord) return CheckRecord(rn, wn, path, reasons);
        if (rn.kind == AvroKind::kEnum) return CheckEnum(rn, wn, path, reasons);
        if (rn.size != wn.size) {
          reasons->push_back(absl::StrCat(At(path), "reader fixed '", rn.full_name, "' has size ",
                                          rn.size, " but the writer's has size ", wn.size));
        }
        return;
      case AvroKind::kArray:
        return Check(rn.element, wn.element, absl::StrCat(path, "[]"), reasons);
      case AvroKind::kMap:
        return Check(rn.element, wn.element, absl::StrCat(path, "{}"), reasons);
      default:
        return;  // the same primitive
    }
  }

 private:
  // Whether reader node `r` reads writer node `w` without any reason against it.
  bool Resolves(int r, int w, const std::string& path) {
    std::vector<std::string> ignored;
    const std::set<std::pair<int, int>> visited = visited_;
    Check(r, w, path, &ignored);
    if (!ignored.empty()) visited_ = visited;  // a failed trial proves nothing for later
    return ignored.empty();
  }

  void CheckWriterUnion(int r, const AvroNode& wn, const std::string& path,
                        std::vector<std::string>* reasons) {
    const AvroNode& rn = reader_.node(r);
    for (int branch : wn.branches) {
      if (rn.kind != AvroKind::kUnion) {
        Check(r, branch, path, reasons);
        continue;
      }
      const bool resolved = std::any_of(rn.branches.begin(), rn.branches.end(),
                                        [&](int rb) { return Resolves(rb, branch, path); });
      if (!resolved) {
        reasons->push_back(absl::StrCat(At(path), "writer union branch ", writer_.Describe(branch),
                                        " matches no branch of reader ", reader_.Describe(r)));
      }
    }
  }

  static bool NamesMatch(const AvroNode& rn, const AvroNode& wn) {
    if (UnqualifiedName(rn.full_name) == UnqualifiedName(wn.full_name)) return true;
    return std::find(rn.aliases.begin(), rn.aliases.end(), wn.full_name) != rn.aliases.end();
  }

  void CheckRecord(const AvroNode& rn, const AvroNode& wn, const std::string& path,
                   std::vector<std::string>* reasons) {
    for (const AvroField& rf : rn.fields) {
      const AvroField* wf = nullptr;
      for (const AvroField& candidate : wn.fields) {
        if (candidate.name == rf.name ||
            std::find(rf.aliases.begin(), rf.aliases.end(), candidate.name) != rf.aliases.end()) {
          wf = &candidate;
          break;
        }
      }
      const std::string field_path = Join(path, rf.name);
      if (wf != nullptr) {
        Check(rf.type, wf->type, field_path, reasons);
      } else if (!rf.has_default) {
        reasons->push_back(absl::StrCat("reader field '", field_path,
                                        "' has no default and is missing from the writer "
                                        "schema"));
      }
    }
  }

  static void CheckEnum(const AvroNode& rn, const AvroNode& wn, const std::string& path,
                        std::vector<std::string>* reasons) {
    if (rn.has_enum_default) return;
    for (const std::string& symbol : wn.symbols) {
      if (std::find(rn.symbols.begin(), rn.symbols.end(), symbol) == rn.symbols.end()) {
        reasons->push_back(absl::StrCat(At(path), "writer enum symbol '", symbol,
                                        "' is missing from reader enum '", rn.full_name,
                                        "', which has no default"));
      }
    }
  }

  const AvroSchema& reader_;
  const AvroSchema& writer_;
  std::set<std::pair<int, int>> visited_;
};

}  // namespace

std::vector<std::string> AvroReadIncompatibilities(const AvroSchema& reader,
                                                   const AvroSchema& writer) {
  std::vector<std::string> reasons;
  Resolver(reader, writer).Check(reader.root(), writer.root(), "", &reasons);
  return reasons;
}

}  // namespace sluice::schema_registry
