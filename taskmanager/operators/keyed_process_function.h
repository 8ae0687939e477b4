// KeyedProcessFunction: the C++ API for keyed event-time logic with state and timers (Flink's
// KeyedProcessFunction). Subclass it, register a factory in the TaskManager binary, and place
// it in a job with JobBuilder::KeyedProcess:
//
//   class Counter : public KeyedProcessFunction {
//     absl::Status Open(state::KeyedStateBackend& backend) override;   // register states
//     absl::Status ProcessElement(const types::RecordBatch& batch, size_t row,
//                                 Context& ctx) override;              // ctx.RegisterTimer(t)
//     absl::Status OnTimer(int64_t time, Context& ctx) override;       // ctx.output() + Emit()
//   };
//   RegisterKeyedProcessFunction("counter", [] { return std::make_unique<Counter>(); });
//
// The input is hash-partitioned by the key columns; ProcessElement runs with the row's key
// current in the state backend (so every state the function registered reads and writes that
// key's value), OnTimer with the timer's key. Event-time timers are kept per key in the keyed
// state backend (TimerService), so state and timers are checkpointed, restored after a
// failure and redistributed by key group on rescaling. An event-time timer fires once the
// watermark reaches its time (all of them at the end of a bounded input); a processing-time
// timer once the task's clock reaches it (checked between batches, so at most one batch or
// one idle wait late; processing-time timers still pending at the end of a bounded input do
// not fire, as in Flink). OnTimer tells which by ctx.timer_domain(). Task thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::taskmanager {

class KeyedProcessFunction {
 public:
  // What a call may do: timers of the current key, the watermark, and output rows.
  class Context {
   public:
    virtual ~Context() = default;
    // Event-time timers of the current key, in µs (registering one twice fires it once).
    virtual absl::Status RegisterTimer(int64_t time) = 0;
    virtual absl::Status DeleteTimer(int64_t time) = 0;
    // Processing-time timers of the current key, in ms of the task's clock.
    virtual absl::Status RegisterProcessingTimer(int64_t time_ms) = 0;
    virtual absl::Status DeleteProcessingTimer(int64_t time_ms) = 0;
    // The operator's current watermark (µs; INT64_MIN before the first).
    virtual int64_t watermark() const = 0;
    // The task's clock (ms since the epoch).
    virtual int64_t current_processing_time() const = 0;
    // In OnTimer: the domain of the timer firing.
    virtual state::TimeDomain timer_domain() const = 0;
    // The output row being built: append one value to each column (the operator's output
    // schema), then Emit. AppendKey appends the current key's columns to its first columns
    // (OnTimer has no input row to take them from).
    virtual types::RecordBatch& output() = 0;
    virtual absl::Status AppendKey() = 0;
    virtual absl::Status Emit() = 0;
  };

  virtual ~KeyedProcessFunction() = default;
  // Once, before any record: register the states the function uses.
  virtual absl::Status Open(state::KeyedStateBackend& backend) { return absl::OkStatus(); }
  // Row `row` of `batch` (the input schema), its key current.
  virtual absl::Status ProcessElement(const types::RecordBatch& batch, size_t row,
                                      Context& ctx) = 0;
  // A timer of the current key reached `time` (µs for event time, ms for processing time:
  // ctx.timer_domain()).
  virtual absl::Status OnTimer(int64_t time, Context& ctx) = 0;
};

using KeyedProcessFunctionFactory = std::function<std::unique_ptr<KeyedProcessFunction>()>;

// Registers `name` as a user operator (operator_registry.h) running the function on the
// spec's `key_by` option. Before any task starts.
void RegisterKeyedProcessFunction(const std::string& name, KeyedProcessFunctionFactory factory);

// The operator of a keyed process function: `spec` is a user operator whose options hold
// `key_by` (comma-separated key columns).
absl::StatusOr<std::unique_ptr<Operator>> MakeKeyedProcessOperator(
    const proto::OperatorSpec& spec, std::unique_ptr<KeyedProcessFunction> function);

}  // namespace sluice::taskmanager
