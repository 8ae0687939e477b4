#include "common/jobgraph/job_settings.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/duration.h"
#include "common/suggest.h"
#include "common/status_macros.h"

namespace sluice::jobgraph {

const std::vector<JobConfigKey>& JobConfigKeys() {
  static const std::vector<JobConfigKey> keys = {
      {"buffer_timeout", JobConfigType::kDuration, {},
       "A partly filled network buffer of this job is sent after this long (default: the "
       "cluster's pipeline.buffer_timeout)."},
      {"checkpointing.interval", JobConfigType::kDuration, {},
       "Time between two checkpoints. Checkpointing is off when not set."},
      {"checkpointing.mode", JobConfigType::kChoice, {"exactly_once", "at_least_once"},
       "exactly_once (aligned barriers, default) or at_least_once."},
      {"checkpointing.timeout", JobConfigType::kDuration, {},
       "A checkpoint not complete after this long is aborted (default 10m)."},
      {"checkpointing.dir", JobConfigType::kString, {},
       "Directory checkpoints are written to (default: the cluster's)."},
      {"checkpointing.min_pause", JobConfigType::kDuration, {},
       "Least time between the end of one checkpoint and the start of the next (default 0)."},
      {"checkpointing.max_concurrent", JobConfigType::kPositiveInt, {},
       "Checkpoints in progress at once (default 1)."},
      {"checkpointing.retained", JobConfigType::kPositiveInt, {},
       "Completed checkpoints kept (default 1)."},
      {"state.backend", JobConfigType::kChoice, {"heap", "rocksdb"},
       "Keyed state backend: heap (default) or rocksdb."},
      {"state.incremental", JobConfigType::kChoice, {"true", "false"},
       "rocksdb: checkpoints upload only new SST files and share the rest (true, default) or "
       "write every file into each checkpoint (false). heap checkpoints are always full."},
  };
  return keys;
}

namespace {

const JobConfigKey* FindConfigKey(absl::string_view name) {
  for (const JobConfigKey& key : JobConfigKeys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string JoinWords(const std::vector<absl::string_view>& words) {
  return absl::StrJoin(words, ", ");
}

absl::Status CheckConfigValue(const LogicalPlan& plan, const JobConfigKey& key,
                              const OptionEntry& entry) {
  const std::string& value = entry.value.text;
  switch (key.type) {
    case JobConfigType::kDuration: {
      absl::StatusOr<int64_t> ms = ParseDurationMillis(value);
      if (!ms.ok()) {
        return SpecError(plan, entry.value.pos, "", absl::StrCat(key.name, ": ", ms.status().message()));
      }
      return absl::OkStatus();
    }
    case JobConfigType::kPositiveInt: {
      int64_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 1) {
        return SpecError(plan, entry.value.pos, "",
                         absl::StrCat(key.name, " must be an integer >= 1, got '", value, "'"));
      }
      return absl::OkStatus();
    }
    case JobConfigType::kChoice: {
      if (std::find(key.choices.begin(), key.choices.end(), value) == key.choices.end()) {
        return SpecError(plan, entry.value.pos, "",
                         absl::StrCat(key.name, " must be one of ", JoinWords(key.choices),
                                      ", got '", value, "'"));
      }
      return absl::OkStatus();
    }
    case JobConfigType::kString:
      if (value.empty()) {
        return SpecError(plan, entry.value.pos, "", absl::StrCat(key.name, " must not be empty"));
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PlanJobConfig(const LogicalPlan& plan,
                           google::protobuf::Map<std::string, std::string>* config) {
  std::vector<std::string> names;
  for (const JobConfigKey& key : JobConfigKeys()) names.emplace_back(key.name);
  absl::flat_hash_set<std::string> seen;
  for (const OptionEntry& entry : plan.config) {
    const JobConfigKey* key = FindConfigKey(entry.key.text);
    if (key == nullptr) {
      return SpecError(plan, entry.key.pos, "",
                       absl::StrCat("unknown job setting '", entry.key.text, "'",
                                    DidYouMean(entry.key.text, names)));
    }
    if (!seen.insert(entry.key.text).second) {
      return SpecError(plan, entry.key.pos, "",
                       absl::StrCat("job setting '", entry.key.text, "' is set twice"));
    }
    RETURN_IF_ERROR(CheckConfigValue(plan, *key, entry));
    (*config)[entry.key.text] = entry.value.text;
  }
  return absl::OkStatus();
}

namespace {

struct StrategyKeys {
  absl::string_view strategy;
  std::vector<absl::string_view> keys;
};

const std::vector<StrategyKeys>& Strategies() {
  static const std::vector<StrategyKeys> strategies = {
      {"none", {}},
      {"fixed_delay", {"attempts", "delay"}},
      {"exponential_delay", {"initial", "max", "multiplier", "jitter", "reset_after"}},
      {"failure_rate", {"max_failures", "interval", "delay"}},
  };
  return strategies;
}

// Reads the restart options of one strategy, each at most once.
class RestartOptions {
 public:
  explicit RestartOptions(const LogicalPlan& plan) : plan_(plan) {}

  absl::Status Duration(absl::string_view key, int64_t default_ms, int64_t* out) {
    const OptionEntry* e = Find(key);
    *out = default_ms;
    if (e == nullptr) return absl::OkStatus();
    absl::StatusOr<int64_t> ms = ParseDurationMillis(e->value.text);
    if (!ms.ok()) {
      return SpecError(plan_, e->value.pos, "",
                       absl::StrCat("restart ", key, ": ", ms.status().message()));
    }
    *out = *ms;
    return absl::OkStatus();
  }

  absl::Status Int(absl::string_view key, int min, int default_value, int* out) {
    const OptionEntry* e = Find(key);
    *out = default_value;
    if (e == nullptr) return absl::OkStatus();
    int v = 0;
    if (!absl::SimpleAtoi(e->value.text, &v) || v < min) {
      return SpecError(plan_, e->value.pos, "",
                       absl::StrCat("restart ", key, " must be an integer >= ", min, ", got '",
                                    e->value.text, "'"));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Double(absl::string_view key, double min, double max, double default_value,
                      double* out) {
    const OptionEntry* e = Find(key);
    *out = default_value;
    if (e == nullptr) return absl::OkStatus();
    double v = 0;
    if (!absl::SimpleAtod(e->value.text, &v) || v < min || v > max) {
      std::string range = max >= 1e300 ? absl::StrCat(">= ", min)
                                       : absl::StrCat("between ", min, " and ", max);
      return SpecError(plan_, e->value.pos, "",
                       absl::StrCat("restart ", key, " must be a number ", range, ", got '",
                                    e->value.text, "'"));
    }
    *out = v;
    return absl::OkStatus();
  }

  const OptionEntry* Find(absl::string_view key) const {
    for (const OptionEntry& e : plan_.restart_options) {
      if (e.key.text == key) return &e;
    }
    return nullptr;
  }

 private:
  const LogicalPlan& plan_;
};

}  // namespace

absl::StatusOr<proto::RestartStrategy> PlanRestartStrategy(const LogicalPlan& plan) {
  proto::RestartStrategy restart;
  const Located& name = plan.restart_strategy;
  if (name.empty()) {
    if (!plan.restart_options.empty()) {
      return SpecError(plan, plan.restart_pos, "",
                       "restart needs a strategy: none, fixed_delay, exponential_delay or "
                       "failure_rate");
    }
    restart.set_strategy("none");
    return restart;
  }
  const StrategyKeys* strategy = nullptr;
  std::vector<absl::string_view> strategy_names;
  for (const StrategyKeys& s : Strategies()) {
    strategy_names.push_back(s.strategy);
    if (s.strategy == name.text) strategy = &s;
  }
  if (strategy == nullptr) {
    std::vector<std::string> candidates(strategy_names.begin(), strategy_names.end());
    std::string hint = DidYouMean(name.text, candidates);
    if (hint.empty()) hint = " (expected none, fixed_delay, exponential_delay or failure_rate)";
    return SpecError(plan, name.pos, "",
                     absl::StrCat("unknown restart strategy '", name.text, "'", hint));
  }
  // Every option must belong to the strategy, once.
  absl::flat_hash_set<std::string> seen;
  for (const OptionEntry& e : plan.restart_options) {
    const std::string& key = e.key.text;
    if (std::find(strategy->keys.begin(), strategy->keys.end(), key) == strategy->keys.end()) {
      bool other_strategy_key = false;
      std::vector<std::string> all_keys;
      for (const StrategyKeys& s : Strategies()) {
        for (absl::string_view k : s.keys) {
          all_keys.emplace_back(k);
          if (k == key) other_strategy_key = true;
        }
      }
      if (other_strategy_key || strategy->keys.empty()) {
        std::string keys = strategy->keys.empty()
                               ? std::string("it takes no other keys")
                               : absl::StrCat("its keys: ", JoinWords(strategy->keys));
        return SpecError(plan, e.key.pos, "",
                         absl::StrCat("restart key '", key, "' does not apply to strategy ",
                                      strategy->strategy, " (", keys, ")"));
      }
      return SpecError(plan, e.key.pos, "",
                       absl::StrCat("unknown restart key '", key, "'", DidYouMean(key, all_keys)));
    }
    if (!seen.insert(key).second) {
      return SpecError(plan, e.key.pos, "", absl::StrCat("restart key '", key, "' is set twice"));
    }
  }

  RestartOptions options(plan);
  restart.set_strategy(std::string(strategy->strategy));
  if (strategy->strategy == "fixed_delay") {
    int attempts = 0;
    int64_t delay = 0;
    RETURN_IF_ERROR(options.Int("attempts", 0, 3, &attempts));
    RETURN_IF_ERROR(options.Duration("delay", 1000, &delay));
    restart.set_attempts(attempts);
    restart.set_delay_ms(delay);
  } else if (strategy->strategy == "exponential_delay") {
    int64_t initial = 0, max = 0, reset_after = 0;
    double multiplier = 0, jitter = 0;
    RETURN_IF_ERROR(options.Duration("initial", 1000, &initial));
    RETURN_IF_ERROR(options.Duration("max", 60'000, &max));
    RETURN_IF_ERROR(options.Double("multiplier", 1.0, 1e308, 2.0, &multiplier));
    RETURN_IF_ERROR(options.Double("jitter", 0.0, 1.0, 0.1, &jitter));
    RETURN_IF_ERROR(options.Duration("reset_after", 3'600'000, &reset_after));
    if (max < initial) {
      const OptionEntry* e = options.Find("max");
      if (e == nullptr) e = options.Find("initial");
      return SpecError(plan, e->value.pos, "",
                       absl::StrCat("restart max (", FormatDurationMillis(max),
                                    ") must be at least initial (", FormatDurationMillis(initial),
                                    ")"));
    }
    restart.set_initial_ms(initial);
    restart.set_max_ms(max);
    restart.set_multiplier(multiplier);
    restart.set_jitter(jitter);
    restart.set_reset_after_ms(reset_after);
  } else if (strategy->strategy == "failure_rate") {
    int max_failures = 0;
    int64_t interval = 0, delay = 0;
    RETURN_IF_ERROR(options.Int("max_failures", 1, 1, &max_failures));
    RETURN_IF_ERROR(options.Duration("interval", 60'000, &interval));
    RETURN_IF_ERROR(options.Duration("delay", 1000, &delay));
    if (interval <= 0) {
      return SpecError(plan, options.Find("interval")->value.pos, "",
                       "restart interval must be longer than 0ms");
    }
    restart.set_max_failures(max_failures);
    restart.set_interval_ms(interval);
    restart.set_delay_ms(delay);
  }
  return restart;
}

}  // namespace sluice::jobgraph
