#include "common/types/json_format.h"

#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/types/format_values.h"
#include "simdjson.h"

namespace sluice::types {
namespace {

namespace dom = simdjson::dom;

absl::string_view ToAbsl(std::string_view v) { return absl::string_view(v.data(), v.size()); }

class JsonDecoder : public BatchDecoder {
 public:
  JsonDecoder(SchemaPtr schema, TimestampUnit unit)
      : schema_(std::move(schema)),
        unit_(unit),
        micros_per_unit_(MicrosPerUnit(unit)),
        seen_(schema_->size(), 0) {
    for (size_t c = 0; c < schema_->size(); ++c) {
      index_.emplace(schema_->field(c).name, static_cast<int>(c));
    }
  }

  void DecodeLines(const std::vector<absl::string_view>& lines, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < lines.size(); ++i) {
      absl::string_view line = lines[i];
      if (line.empty()) continue;
      if (absl::ascii_isspace(static_cast<unsigned char>(line[0])) &&
          absl::StripLeadingAsciiWhitespace(line).empty()) {
        continue;
      }
      size_t rows = out->num_rows();
      error_.clear();
      if (DecodeLine(line, out)) {
        out->SetNumRows(rows + 1);
      } else {
        for (Column& col : out->mutable_columns()) TruncateColumn(&col, rows);
        errors->push_back({i, std::move(error_)});
      }
    }
  }

 private:
  // Copies `line` into the padded buffer simdjson reads from.
  void CopyToPadded(absl::string_view line) {
    size_t need = line.size() + simdjson::SIMDJSON_PADDING;
    if (need > capacity_) {
      capacity_ = std::max(need, 2 * capacity_);
      buffer_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }
    std::memcpy(buffer_.get(), line.data(), line.size());
    std::memset(buffer_.get() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  }

  bool InvalidJson(simdjson::error_code code) {
    error_ = absl::StrCat("invalid JSON: ", simdjson::error_message(code));
    return false;
  }

  // Appends one value per column for the object on `line`, or sets error_ and returns false
  // (the caller rolls the columns back).
  bool DecodeLine(absl::string_view line, RecordBatch* out) {
    CopyToPadded(line);
    dom::element doc;
    if (auto e = parser_.parse(buffer_.get(), line.size(), false).get(doc)) {
      return InvalidJson(e);
    }
    dom::object object;
    if (doc.get_object().get(object)) {
      error_ = absl::StrCat("expected a JSON object, got ",
                            QuoteForMessage(absl::StripAsciiWhitespace(line)));
      return false;
    }
    ++stamp_;
    size_t position = 0;
    for (dom::key_value_pair field : object) {
      int col = ColumnOf(ToAbsl(field.key), position++);
      if (col < 0 || seen_[col] == stamp_) continue;  // unknown or repeated key: skip value
      seen_[col] = stamp_;
      if (!DecodeValue(col, field.value, &out->mutable_column(col))) return false;
    }
    for (size_t c = 0; c < seen_.size(); ++c) {
      if (seen_[c] != stamp_) out->mutable_column(c).AppendNull();
    }
    return true;
  }

  // Column index of `key`, the key at `position` in its object, or -1. Records usually repeat
  // the key order of the previous record, so that guess is checked before the hash map.
  int ColumnOf(absl::string_view key, size_t position) {
    if (position < predicted_.size()) {
      int guess = predicted_[position];
      if (guess >= 0 && schema_->field(guess).name == key) return guess;
    } else {
      predicted_.resize(position + 1, -1);
    }
    auto it = index_.find(key);
    int col = it == index_.end() ? -1 : it->second;
    predicted_[position] = col;
    return col;
  }

  bool DecodeValue(int col, dom::element value, Column* column) {
    dom::element_type type = value.type();
    if (type == dom::element_type::NULL_VALUE) {
      column->AppendNull();
      return true;
    }
    switch (column->type()) {
      case TypeId::kInt64:
        if (type == dom::element_type::INT64) {
          column->AppendInt(value.get_int64().value_unsafe());
          return true;
        }
        break;
      case TypeId::kFloat64:
        if (type == dom::element_type::DOUBLE || type == dom::element_type::INT64 ||
            type == dom::element_type::UINT64) {
          column->AppendDouble(value.get_double().value_unsafe());
          return true;
        }
        break;
      case TypeId::kBool:
        if (type == dom::element_type::BOOL) {
          column->AppendInt(value.get_bool().value_unsafe() ? 1 : 0);
          return true;
        }
        break;
      case TypeId::kString:
        if (type == dom::element_type::STRING) {
          column->AppendString(ToAbsl(value.get_string().value_unsafe()));
          return true;
        }
        break;
      case TypeId::kBytes:
        if (type == dom::element_type::STRING &&
            absl::Base64Unescape(ToAbsl(value.get_string().value_unsafe()), &scratch_)) {
          column->AppendString(scratch_);
          return true;
        }
        break;
      case TypeId::kTimestamp:
        if (DecodeTimestamp(type, value, column)) return true;
        break;
    }
    return TypeError(col, value);
  }

  bool DecodeTimestamp(dom::element_type type, dom::element value, Column* column) {
    int64_t micros;
    if (type == dom::element_type::STRING) {
      if (!ParseRfc3339(ToAbsl(value.get_string().value_unsafe()), &micros)) return false;
    } else if (type == dom::element_type::INT64) {
      if (!EpochToMicros(value.get_int64().value_unsafe(), unit_, &micros)) return false;
    } else if (type == dom::element_type::DOUBLE) {
      double m = value.get_double().value_unsafe() * static_cast<double>(micros_per_unit_);
      if (!(std::fabs(m) < 9.2e18)) return false;
      micros = static_cast<int64_t>(std::floor(m));
    } else {
      return false;
    }
    column->AppendInt(micros);
    return true;
  }

  bool TypeError(int col, dom::element value) {
    std::string got;
    if (value.is_object()) {
      got = "an object";
    } else if (value.is_array()) {
      got = "an array";
    } else {
      got = simdjson::minify(value);
    }
    error_ = ValueErrorMessage(schema_->field(col).name, schema_->field(col).type, unit_, got);
    return false;
  }

  SchemaPtr schema_;
  TimestampUnit unit_;
  int64_t micros_per_unit_;
  dom::parser parser_;
  std::unique_ptr<char[]> buffer_;  // the current line + SIMDJSON_PADDING bytes
  size_t capacity_ = 0;
  absl::flat_hash_map<std::string, int> index_;  // column name -> index
  std::vector<int> predicted_;  // column index of the key at each position, last record
  std::vector<uint64_t> seen_;  // per column: stamp_ of the last record that set it
  uint64_t stamp_ = 0;
  std::string error_;
  std::string scratch_;
};

// Characters that need escaping in a JSON string: '"', '\\' and control characters.
struct EscapeTable {
  bool needs[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) needs[c] = true;
    needs[static_cast<int>('"')] = true;
    needs[static_cast<int>('\\')] = true;
  }
};
constexpr EscapeTable kEscape;

class JsonEncoder : public BatchEncoder {
 public:
  explicit JsonEncoder(SchemaPtr schema) : schema_(std::move(schema)) {
    for (size_t c = 0; c < schema_->size(); ++c) {
      std::string prefix = c == 0 ? "{" : ",";
      AppendJsonString(schema_->field(c).name, &prefix);
      prefix += ':';
      prefixes_.push_back(std::move(prefix));
    }
  }

  void EncodeBatch(const RecordBatch& batch, std::string* out,
                   std::vector<size_t>* record_ends) override {
    const size_t columns = batch.num_columns();
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      if (columns == 0) out->push_back('{');
      for (size_t c = 0; c < columns; ++c) {
        out->append(prefixes_[c]);
        const Column& col = batch.column(c);
        if (col.IsNull(r)) {
          out->append("null");
          continue;
        }
        switch (col.type()) {
          case TypeId::kBool:
            out->append(col.Int(r) ? "true" : "false");
            break;
          case TypeId::kInt64:
            AppendInt64(col.Int(r), out);
            break;
          case TypeId::kFloat64: {
            double v = col.Double(r);
            if (std::isfinite(v)) {
              AppendDouble(v, out);
            } else {
              out->append("null");
            }
            break;
          }
          case TypeId::kString:
            AppendJsonString(col.Str(r), out);
            break;
          case TypeId::kBytes:
            out->push_back('"');
            absl::Base64Escape(col.Str(r), &scratch_);
            out->append(scratch_);
            out->push_back('"');
            break;
          case TypeId::kTimestamp:
            out->push_back('"');
            AppendRfc3339(col.Int(r), out);
            out->push_back('"');
            break;
        }
      }
      out->push_back('}');
      if (record_ends != nullptr) record_ends->push_back(out->size());
      out->push_back('\n');
    }
  }

 private:
  SchemaPtr schema_;
  std::vector<std::string> prefixes_;  // {"name": for column 0, ,"name": for the others
  std::string scratch_;
};

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kEscape.needs[c]) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::unique_ptr<BatchDecoder> MakeJsonDecoder(SchemaPtr schema, TimestampUnit unit) {
  return std::make_unique<JsonDecoder>(std::move(schema), unit);
}

std::unique_ptr<BatchEncoder> MakeJsonEncoder(SchemaPtr schema) {
  return std::make_unique<JsonEncoder>(std::move(schema));
}

}  // namespace sluice::types
