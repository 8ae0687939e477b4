#include "common/types/format.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/types/csv_format.h"
#include "common/types/json_format.h"

namespace sluice::types {
namespace {

absl::Status UnknownOption(absl::string_view format, absl::string_view key,
                           absl::string_view allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat("format ", format, ": unknown option '", key, "' (expected ", allowed, ")"));
}

absl::StatusOr<TimestampUnit> ParseUnit(absl::string_view format, absl::string_view text) {
  std::string unit = absl::AsciiStrToLower(text);
  if (unit == "s") return TimestampUnit::kSeconds;
  if (unit == "ms") return TimestampUnit::kMillis;
  if (unit == "us") return TimestampUnit::kMicros;
  return absl::InvalidArgumentError(
      absl::StrCat("format ", format, ": timestamp_unit must be s, ms or us, not '", text, "'"));
}

absl::StatusOr<char> ParseDelimiter(absl::string_view text) {
  if (text == "\\t" || absl::EqualsIgnoreCase(text, "tab")) return '\t';
  if (text.size() != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r') {
    return absl::InvalidArgumentError(absl::StrCat(
        "format csv: delimiter must be one character other than a quote or a newline (or "
        "\"\\t\"), not '",
        text, "'"));
  }
  return text[0];
}

absl::StatusOr<bool> ParseBool(absl::string_view format, absl::string_view key,
                               absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, "true")) return true;
  if (absl::EqualsIgnoreCase(text, "false")) return false;
  return absl::InvalidArgumentError(
      absl::StrCat("format ", format, ": ", key, " must be true or false, not '", text, "'"));
}

}  // namespace

absl::StatusOr<FormatOptions> ParseFormatOptions(const proto::FormatSpec& format) {
  FormatOptions options;
  options.name = absl::AsciiStrToLower(format.name());
  if (options.name != "json" && options.name != "csv") {
    if (options.name.empty()) {
      return absl::InvalidArgumentError("no format given (expected json or csv)");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown format '", format.name(), "' (expected json or csv)"));
  }
  const bool csv = options.name == "csv";
  // Sorted, so that the first bad option reported does not depend on hash order.
  std::map<std::string, std::string> sorted(format.options().begin(), format.options().end());
  for (const auto& [key, value] : sorted) {
    if (key == "timestamp_unit") {
      auto unit = ParseUnit(options.name, value);
      if (!unit.ok()) return unit.status();
      options.timestamp_unit = *unit;
    } else if (csv && key == "delimiter") {
      auto delimiter = ParseDelimiter(value);
      if (!delimiter.ok()) return delimiter.status();
      options.delimiter = *delimiter;
    } else if (csv && key == "header") {
      auto header = ParseBool(options.name, key, value);
      if (!header.ok()) return header.status();
      options.header = *header;
    } else {
      return UnknownOption(options.name, key,
                           csv ? "delimiter, header or timestamp_unit" : "timestamp_unit");
    }
  }
  return options;
}

std::unique_ptr<BatchDecoder> MakeDecoder(const FormatOptions& options, SchemaPtr schema) {
  if (options.name == "csv") {
    return MakeCsvDecoder(std::move(schema), options.delimiter, options.timestamp_unit);
  }
  return MakeJsonDecoder(std::move(schema), options.timestamp_unit);
}

std::unique_ptr<BatchEncoder> MakeEncoder(const FormatOptions& options, SchemaPtr schema) {
  if (options.name == "csv") return MakeCsvEncoder(std::move(schema), options.delimiter);
  return MakeJsonEncoder(std::move(schema));
}

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeDecoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema) {
  auto options = ParseFormatOptions(format);
  if (!options.ok()) return options.status();
  return MakeDecoder(*options, std::move(schema));
}

absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeEncoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema) {
  auto options = ParseFormatOptions(format);
  if (!options.ok()) return options.status();
  return MakeEncoder(*options, std::move(schema));
}

}  // namespace sluice::types
