// The batch adapters of the message formats (avro, protobuf and their Confluent variants):
// one record per message. MessageDecoder reads each record with a row reader, MessageEncoder
// writes each row with a row writer after a fixed header (the Confluent wire format's, or
// none). Reader: bool Read(absl::string_view, RecordBatch*, std::string* error);
// Writer: void Write(const RecordBatch&, size_t row, std::string* out) const.
// Not thread-safe (one per subtask, like every BatchDecoder/BatchEncoder).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/types/format.h"

namespace sluice::types {

template <typename Reader>
class MessageDecoder : public BatchDecoder {
 public:
  explicit MessageDecoder(Reader reader) : reader_(std::move(reader)) {}

  void DecodeLines(const std::vector<absl::string_view>& records, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < records.size(); ++i) {
      if (!reader_.Read(records[i], out, &error_)) errors->push_back({i, std::move(error_)});
    }
  }

 private:
  Reader reader_;
  std::string error_;
};

template <typename Writer>
class MessageEncoder : public BatchEncoder {
 public:
  MessageEncoder(Writer writer, std::string header)
      : writer_(std::move(writer)), header_(std::move(header)) {}

  void EncodeBatch(const RecordBatch& batch, std::string* out,
                   std::vector<size_t>* record_ends) override {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      out->append(header_);
      writer_.Write(batch, r, out);
      if (record_ends != nullptr) record_ends->push_back(out->size());
    }
  }
  bool newline_terminated() const override { return false; }

 private:
  Writer writer_;
  std::string header_;
};

}  // namespace sluice::types
