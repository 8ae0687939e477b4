#include "common/types/csv_format.h"

#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/types/format_values.h"

namespace sluice::types {
namespace {

class CsvDecoder : public BatchDecoder {
 public:
  CsvDecoder(SchemaPtr schema, char delimiter, TimestampUnit unit)
      : schema_(std::move(schema)), delimiter_(delimiter), unit_(unit) {}

  void DecodeLines(const std::vector<absl::string_view>& lines, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < lines.size(); ++i) {
      absl::string_view line = lines[i];
      if (line.empty() && schema_->size() != 1) continue;
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
  bool Fail(size_t field, absl::string_view what) {
    if (field < schema_->size()) {
      error_ = absl::StrCat("column '", schema_->field(field).name, "': ", what);
    } else {
      error_ = std::string(what);
    }
    return false;
  }

  // Splits `line` into fields and appends one value per column, or sets error_.
  bool DecodeLine(absl::string_view line, RecordBatch* out) {
    const size_t columns = schema_->size();
    const size_t n = line.size();
    const char* data = line.data();
    size_t field = 0;
    size_t pos = 0;
    while (true) {
      absl::string_view text;
      bool quoted = pos < n && data[pos] == '"';
      if (quoted) {
        scratch_.clear();
        bool escaped = false;
        size_t start = pos + 1;
        size_t i = start;
        while (true) {
          const void* q = i < n ? std::memchr(data + i, '"', n - i) : nullptr;
          if (q == nullptr) {
            return Fail(field, "unterminated quoted field (a quoted CSV field cannot span lines)");
          }
          size_t qi = static_cast<const char*>(q) - data;
          if (qi + 1 < n && data[qi + 1] == '"') {  // "" inside quotes: one quote
            scratch_.append(data + start, qi + 1 - start);
            i = start = qi + 2;
            escaped = true;
            continue;
          }
          if (escaped) {
            scratch_.append(data + start, qi - start);
            text = scratch_;
          } else {
            text = line.substr(start, qi - start);
          }
          pos = qi + 1;
          break;
        }
        if (pos < n && data[pos] != delimiter_) {
          return Fail(field, absl::StrCat("unexpected text after a closing quote: ",
                                          QuoteForMessage(line.substr(pos))));
        }
      } else {
        const void* d = pos < n ? std::memchr(data + pos, delimiter_, n - pos) : nullptr;
        size_t end = d == nullptr ? n : static_cast<const char*>(d) - data;
        text = line.substr(pos, end - pos);
        pos = end;
      }
      if (field < columns && !AppendField(field, text, quoted, &out->mutable_column(field))) {
        return false;
      }
      ++field;
      if (pos >= n) break;
      ++pos;  // the delimiter; a trailing one starts a last, empty field
    }
    if (field != columns) {
      error_ = absl::StrCat("expected ", columns, " fields, got ", field);
      return false;
    }
    return true;
  }

  bool AppendField(size_t field, absl::string_view text, bool quoted, Column* column) {
    TypeId type = column->type();
    if (text.empty() && (!quoted || !IsStringStored(type))) {
      column->AppendNull();
      return true;
    }
    if (AppendParsedText(type, text, unit_, column)) return true;
    error_ = ValueErrorMessage(schema_->field(field).name, type, unit_, QuoteForMessage(text));
    return false;
  }

  SchemaPtr schema_;
  char delimiter_;
  TimestampUnit unit_;
  std::string error_;
  std::string scratch_;  // unescaped text of a quoted field with "" inside
};

class CsvEncoder : public BatchEncoder {
 public:
  CsvEncoder(SchemaPtr schema, char delimiter) : schema_(std::move(schema)) {
    for (char c : {delimiter, '"', '\r', '\n'}) needs_quotes_[static_cast<unsigned char>(c)] = true;
    delimiter_ = delimiter;
  }

  void EncodeBatch(const RecordBatch& batch, std::string* out,
                   std::vector<size_t>* record_ends) override {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        if (c > 0) out->push_back(delimiter_);
        const Column& col = batch.column(c);
        if (col.IsNull(r)) continue;
        scratch_.clear();
        switch (col.type()) {
          case TypeId::kBool:
            scratch_.append(col.Int(r) ? "true" : "false");
            break;
          case TypeId::kInt64:
            AppendInt64(col.Int(r), &scratch_);
            break;
          case TypeId::kFloat64:
            AppendDouble(col.Double(r), &scratch_);
            break;
          case TypeId::kTimestamp:
            AppendRfc3339(col.Int(r), &scratch_);
            break;
          case TypeId::kBytes:
          case TypeId::kString: {
            absl::string_view s = col.Str(r);
            if (col.type() == TypeId::kBytes) {
              absl::Base64Escape(s, &scratch_);
              s = scratch_;
            }
            if (s.empty()) {
              out->append("\"\"");
            } else {
              AppendField(s, out);
            }
            continue;
          }
        }
        AppendField(scratch_, out);
      }
      if (record_ends != nullptr) record_ends->push_back(out->size());
      out->push_back('\n');
    }
  }

 private:
  void AppendField(absl::string_view s, std::string* out) {
    bool quote = false;
    for (char c : s) quote |= needs_quotes_[static_cast<unsigned char>(c)];
    if (!quote) {
      out->append(s.data(), s.size());
      return;
    }
    out->push_back('"');
    for (char c : s) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  }

  SchemaPtr schema_;
  char delimiter_;
  bool needs_quotes_[256] = {};
  std::string scratch_;
};

}  // namespace

void AppendCsvHeader(const Schema& schema, char delimiter, std::string* out) {
  for (size_t c = 0; c < schema.size(); ++c) {
    if (c > 0) out->push_back(delimiter);
    const std::string& name = schema.field(c).name;
    bool quote = name.empty();
    for (char ch : name) quote |= ch == delimiter || ch == '"' || ch == '\r' || ch == '\n';
    if (!quote) {
      out->append(name);
      continue;
    }
    out->push_back('"');
    for (char ch : name) {
      if (ch == '"') out->push_back('"');
      out->push_back(ch);
    }
    out->push_back('"');
  }
  out->push_back('\n');
}

std::unique_ptr<BatchDecoder> MakeCsvDecoder(SchemaPtr schema, char delimiter, TimestampUnit unit) {
  return std::make_unique<CsvDecoder>(std::move(schema), delimiter, unit);
}

std::unique_ptr<BatchEncoder> MakeCsvEncoder(SchemaPtr schema, char delimiter) {
  return std::make_unique<CsvEncoder>(std::move(schema), delimiter);
}

}  // namespace sluice::types
