// What the benchmarks share: a collector that only counts the rows an operator emits, and an
// operator opened on a keyed state backend as its task would open it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::bench {

class RowCounter : public taskmanager::Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    rows += static_cast<int64_t>(batch.num_rows());
    return absl::OkStatus();
  }
  int64_t rows = 0;
};

// Ends the benchmark on an error, naming it.
inline void CheckOrExit(const absl::Status& s, const char* bench) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", bench, s.ToString().c_str());
  std::exit(1);
}

// Opens `op` and initializes its state on a new backend of `kind` in `dir` holding every key
// group of max_parallelism 128 (one subtask). The backend lives as long as the result.
inline std::unique_ptr<state::KeyedStateBackend> OpenOnBackend(taskmanager::Operator& op,
                                                               state::BackendKind kind,
                                                               const std::string& dir,
                                                               const char* bench) {
  state::BackendOptions o;
  o.kind = kind;
  o.max_parallelism = 128;
  o.key_groups = {0, 127};
  o.local_dir = dir;
  absl::StatusOr<std::unique_ptr<state::KeyedStateBackend>> backend =
      state::CreateKeyedStateBackend(o);
  CheckOrExit(backend.status(), bench);
  taskmanager::OperatorContext ctx;
  CheckOrExit(op.Open(ctx), bench);
  taskmanager::StateInitContext init;
  state::KeyedStateBackend* raw = backend->get();
  init.keyed_backend = [raw]() -> absl::StatusOr<state::KeyedStateBackend*> { return raw; };
  CheckOrExit(op.InitializeState(init), bench);
  return *std::move(backend);
}

}  // namespace sluice::bench
