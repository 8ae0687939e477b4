// PrintSink: the `print` sink. Writes every row to stdout (or a given stream) as one line
// `<sink name>[<subtask>]> <row as JSON>` (subtask 0-based), e.g.
// `out[0]> {"card":1,"amount":12.5}`. Each batch is written with one fwrite and flushed under
// a process-wide lock, so lines of concurrent tasks never interleave.
// Task thread only (the stream lock is internal).
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/types/format.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class PrintSink : public Operator {
 public:
  // `spec.input_schema()`; `out` defaults to stdout.
  static absl::StatusOr<std::unique_ptr<PrintSink>> Create(const proto::OperatorSpec& spec,
                                                           std::FILE* out = stdout);

  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

 private:
  PrintSink(std::string name, types::SchemaPtr schema, std::FILE* out);

  std::string name_;
  std::FILE* out_;
  std::unique_ptr<types::BatchEncoder> encoder_;
  std::string prefix_;
  std::string json_;
  std::string text_;
};

}  // namespace sluice::taskmanager::connectors
