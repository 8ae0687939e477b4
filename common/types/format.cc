#include "common/types/format.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/algorithm/container.h"
#include "absl/strings/str_join.h"
#include "common/types/avro_format.h"
#include "common/types/csv_format.h"
#include "common/types/json_format.h"
#include "common/types/proto_format.h"

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

bool IsProtobuf(absl::string_view name) {
  return name == "protobuf" || name == "protobuf-confluent";
}

}  // namespace

const std::vector<std::string>& FormatNames() {
  static const auto* const kNames =
      new std::vector<std::string>{"json",           "csv",      "avro",
                                   "avro-confluent", "protobuf", "protobuf-confluent"};
  return *kNames;
}

bool UsesSchemaRegistry(absl::string_view name) {
  return name == "avro-confluent" || name == "protobuf-confluent";
}

std::string SchemaRegistryFormatNames() { return "avro-confluent or protobuf-confluent"; }

bool FormatOptions::uses_registry() const { return UsesSchemaRegistry(name); }

std::string FormatOptions::RecordName() const {
  if (!record_name.empty()) return record_name;
  if (!message.empty()) return message;
  return "sluice.Row";
}

absl::StatusOr<FormatOptions> ParseFormatOptions(const proto::FormatSpec& format) {
  FormatOptions options;
  options.name = absl::AsciiStrToLower(format.name());
  const std::string expected = absl::StrCat("expected ", absl::StrJoin(FormatNames(), ", "));
  if (options.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no format given (", expected, ")"));
  }
  if (!absl::c_linear_search(FormatNames(), options.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown format '", format.name(), "' (", expected, ")"));
  }
  const bool csv = options.name == "csv";
  const bool avro = options.name == "avro";
  const bool protobuf = IsProtobuf(options.name);
  const bool registry = options.uses_registry();
  std::string allowed = "timestamp_unit";
  if (csv) allowed = "delimiter, header or timestamp_unit";
  if (avro) allowed = "record_name, schema_file or timestamp_unit";
  if (protobuf) allowed = "message, proto_file, record_name or timestamp_unit";
  if (registry) {
    allowed = absl::StrCat(protobuf ? "message, proto_file, " : "",
                           "record_name, registry, subject, subject_strategy or timestamp_unit");
  }
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
    } else if (avro && key == "schema_file") {
      options.schema_file = value;
    } else if ((avro || protobuf || registry) && key == "record_name") {
      options.record_name = value;
    } else if (protobuf && key == "proto_file") {
      options.proto_file = value;
    } else if (protobuf && key == "message") {
      options.message = value;
    } else if (registry && key == "registry") {
      options.registry = value;
    } else if (registry && key == "subject") {
      options.subject = value;
    } else if (registry && key == "subject_strategy") {
      if (value != "topic_name" && value != "record_name" && value != "topic_record_name") {
        return absl::InvalidArgumentError(absl::StrCat(
            "format ", options.name, ": subject_strategy must be topic_name, record_name or "
            "topic_record_name, not '", value, "'"));
      }
      options.subject_strategy = value;
    } else {
      return UnknownOption(options.name, key, allowed);
    }
  }
  return options;
}

absl::Status CheckLineFormat(const FormatOptions& options, absl::string_view connector) {
  if (options.line_delimited()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("format ", options.name,
                                                 " has one record per message: the ", connector,
                                                 " connector takes json or csv"));
}

std::string ConfluentSubject(const FormatOptions& options, absl::string_view topic, bool key) {
  if (!options.subject.empty()) return options.subject;
  const std::string record = options.RecordName();
  if (options.subject_strategy == "record_name") return record;
  if (options.subject_strategy == "topic_record_name") return absl::StrCat(topic, "-", record);
  return absl::StrCat(topic, key ? "-key" : "-value");
}

FormatOptions KeyFormatOptions(const FormatOptions& options) {
  FormatOptions key = options;
  key.record_name = absl::StrCat(options.RecordName(), "Key");
  key.proto_file.clear();
  key.message.clear();
  key.subject.clear();
  return key;
}

std::unique_ptr<BatchDecoder> MakeLineDecoder(const FormatOptions& options, SchemaPtr schema) {
  if (options.name == "csv") {
    return MakeCsvDecoder(std::move(schema), options.delimiter, options.timestamp_unit);
  }
  return MakeJsonDecoder(std::move(schema), options.timestamp_unit);
}

std::unique_ptr<BatchEncoder> MakeLineEncoder(const FormatOptions& options, SchemaPtr schema) {
  if (options.name == "csv") return MakeCsvEncoder(std::move(schema), options.delimiter);
  return MakeJsonEncoder(std::move(schema));
}

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeDecoder(const FormatOptions& options,
                                                          SchemaPtr schema) {
  if (options.line_delimited()) return MakeLineDecoder(options, std::move(schema));
  if (IsProtobuf(options.name)) return MakeProtobufDecoder(options, std::move(schema));
  return MakeAvroDecoder(options, std::move(schema));
}

absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeEncoder(const FormatOptions& options,
                                                          SchemaPtr schema) {
  if (options.line_delimited()) return MakeLineEncoder(options, std::move(schema));
  if (IsProtobuf(options.name)) return MakeProtobufEncoder(options, std::move(schema));
  return MakeAvroEncoder(options, std::move(schema));
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
