// Config: the cluster configuration of a JobManager or TaskManager process. Every key is
// declared once in the table of config.cc (name, type, default, doc); that table validates
// input and generates docs/configuration.md (`sluice config-docs`). Values come from a YAML
// file (`--config sluice.yaml`, nested maps or dotted keys) overridden by `--set key=value`.
// Built on the main thread, then read-only: safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace sluice {

enum class ConfigType { kInt, kDuration, kString, kBytes, kBool };

struct ConfigKey {
  absl::string_view name;
  ConfigType type;
  absl::string_view default_value;
  absl::string_view doc;
};

// The table of every key.
const std::vector<ConfigKey>& ConfigKeys();
// Markdown for docs/configuration.md.
std::string ConfigDocsMarkdown();

class Config {
 public:
  // Defaults for every key.
  Config();

  // Reads a YAML file; unknown keys and bad values are errors naming the file and key.
  absl::Status LoadFile(const std::string& path);
  // "key=value" from a --set flag.
  absl::Status SetFlag(absl::string_view assignment);
  absl::Status Set(absl::string_view key, absl::string_view value);

  int64_t GetInt(absl::string_view key) const;
  int64_t GetDurationMillis(absl::string_view key) const;
  int64_t GetBytes(absl::string_view key) const;
  std::string GetString(absl::string_view key) const;
  bool GetBool(absl::string_view key) const;  // "true" or "false"

  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Parses "32kb", "64mb", "1gb" or a plain number of bytes.
absl::StatusOr<int64_t> ParseBytes(absl::string_view text);

}  // namespace sluice
