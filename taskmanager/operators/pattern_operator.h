// PatternOperator: CEP over a keyed stream (Flink CEP's NFA, with deterministic rules). A
// pattern is a sequence of steps, each a condition on one event (over its columns and the
// columns of the events earlier steps took, "small.amount"), a quantifier (exactly one,
// `times: N`, `one_or_more`, `optional`) and how it follows the previous step: followed_by
// (relaxed: events in between are ignored), next (strict: none in between), or negative:
// not_next (the event right after must not match) / not_followed_by (no matching event
// before the next step's). `within` bounds the time from a match's first to its last event.
// Rules (docs/event-time.md):
//   - events of a key are matched in event-time order (ties: arrival): they wait in state
//     until the watermark passes them; an event at or before the watermark on arrival is late
//     (dropped, counted);
//   - every event the first step accepts starts a partial match;
//   - quantifiers are greedy: an event the current step can still take goes to it, and only
//     then to the next step (optional steps are skipped when they cannot take it);
//   - skip no_skip emits every match; skip_past_last_event emits a match and drops every
//     other partial match of the key (they overlap it), so the next match starts after it.
// A match emits one row: the key columns, then the `emit` expressions over the match (a
// step's columns are those of the last event it took; bare columns, the last event's).
// State, per key, in the keyed state backend (checkpointed, rescalable):
//   map "<name>.events": waiting events, (time, sequence) -> the row;
//   value "<name>.partials": the key's partial matches;
//   timers "<name>.timers": at each waiting event's time (process the key's ready events) and
//   at start + within (drop expired partial matches).
// Task thread only (late_records_dropped from any thread).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expr/expr.h"
#include "taskmanager/operators/event_time_operator.h"
#include "taskmanager/operators/keyed_input.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/output_buffer.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::taskmanager {

class PatternOperator : public EventTimeOperator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::Status ProcessWatermark(int64_t watermark, Collector& out) override;

  // Partial matches and waiting events over every key (tests: both 0 at the end).
  absl::StatusOr<int64_t> NumStateEntries();

 private:
  enum class After { kFollowedBy, kNext, kNotNext, kNotFollowedBy };
  struct Step {
    std::string name;
    After after = After::kFollowedBy;
    int min = 1;
    int max = 1;  // -1: unbounded
    bool negative() const { return after == After::kNotNext || after == After::kNotFollowedBy; }
    std::unique_ptr<expr::CompiledExpr> condition;
  };
  // A partial match: the step being filled and what the steps took so far.
  struct Partial {
    int pos = 0;         // index in steps_ of the positive step being filled
    int taken = 0;       // events it took
    bool skipped = false;  // an event went untaken since the last taken one
    int not_next = -1;     // a not_next step the next event must not satisfy
    int not_followed = -1; // a not_followed_by step no event may satisfy until a step takes one
    int64_t start = 0;     // time of the first event
    // Per step: the last event it took (a one-row batch), null when none.
    std::vector<std::shared_ptr<const types::RecordBatch>> events;
  };

  PatternOperator() = default;
  absl::Status BindState();
  // Step `s`'s condition on `event` given partial `p` (null: a new match).
  absl::StatusOr<bool> Matches(int s, const types::RecordBatch& event, const Partial* p);
  // Fills match_ (one row: the event's columns, then each step's last event) for
  // evaluating conditions and emits.
  absl::Status FillMatchRow(const types::RecordBatch& event, const Partial* p);
  // Takes `event` into step `s` of `p`; moves past the step once it is full.
  void Take(Partial& p, int s, const std::shared_ptr<const types::RecordBatch>& event);
  // The next positive step after `s`, setting `p`'s guards for the negative steps between.
  int NextPositive(Partial& p, int s) const;
  // Offers `event` to `p`: false when the partial is dead.
  absl::StatusOr<bool> Advance(Partial& p, const std::shared_ptr<const types::RecordBatch>& event,
                               int64_t time);
  // Whether `p` can still take a future event after one went untaken.
  bool CanProgress(const Partial& p) const;
  // The key's ready events (time <= watermark), in order, through its partial matches.
  absl::Status ProcessKey(Collector& out);
  // Drops the key's partial matches that can no longer complete within `within` at `time`.
  absl::Status Expire(int64_t time);
  absl::Status EmitMatch(const Partial& p, Collector& out);
  absl::StatusOr<std::vector<Partial>> LoadPartials();
  absl::Status StorePartials(const std::vector<Partial>& partials);

  std::string name_;
  types::SchemaPtr input_;
  types::SchemaPtr output_;
  types::SchemaPtr match_schema_;  // input columns, then "<step>.<column>" per step
  std::unique_ptr<KeyedInput> keys_;
  int time_column_ = -1;
  std::vector<Step> steps_;
  std::vector<std::unique_ptr<expr::CompiledExpr>> emits_;
  int64_t within_ = 0;
  bool skip_past_last_ = false;
  state::KeyedStateBackend* backend_ = nullptr;
  state::MapState* events_ = nullptr;
  state::ValueState* partials_ = nullptr;
  std::unique_ptr<state::TimerService> timers_;
  uint64_t sequence_ = 0;
  // Scratch.
  std::unique_ptr<types::RecordBatch> one_row_;
  std::unique_ptr<types::RecordBatch> match_;
  std::string bytes_scratch_;
  types::Column bool_out_{types::TypeId::kBool};
  std::vector<types::Column> emit_values_;
  std::unique_ptr<OutputBuffer> output_buffer_;
};

}  // namespace sluice::taskmanager
