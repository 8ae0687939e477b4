#include "taskmanager/state/keyed_state_backend.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "taskmanager/state/heap_backend.h"
#include "taskmanager/state/rocksdb_backend.h"

namespace sluice::state {

absl::StatusOr<BackendKind> ParseBackendKind(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "heap") return BackendKind::kHeap;
  if (n == "rocksdb") return BackendKind::kRocksDb;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown state backend '", name, "' (expected heap or rocksdb)"));
}

absl::StatusOr<std::unique_ptr<KeyedStateBackend>> CreateKeyedStateBackend(
    const BackendOptions& options) {
  if (options.key_groups.size() <= 0 || options.key_groups.first < 0 ||
      options.key_groups.last >= options.max_parallelism) {
    return absl::InvalidArgumentError(absl::StrCat(
        "state backend: key group range ", options.key_groups.first, "..",
        options.key_groups.last, " is empty or outside 0..", options.max_parallelism - 1));
  }
  switch (options.kind) {
    case BackendKind::kHeap:
      return std::unique_ptr<KeyedStateBackend>(new HeapKeyedStateBackend(options));
    case BackendKind::kRocksDb:
      return CreateRocksDbBackend(options);
  }
  return absl::InvalidArgumentError("unknown state backend kind");
}

}  // namespace sluice::state
