// Helpers shared by the record-format tests: the transaction schema, FormatSpec building and
// decoding a list of lines into a batch plus its per-line errors.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/types/format.h"
#include "gtest/gtest.h"

namespace sluice::types::format_testing {

inline SchemaPtr TxnSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"card", TypeId::kInt64},
                                                     {"amount", TypeId::kFloat64},
                                                     {"country", TypeId::kString},
                                                     {"ts", TypeId::kTimestamp}});
}

inline proto::FormatSpec Spec(const std::string& name,
                              std::vector<std::pair<std::string, std::string>> options = {}) {
  proto::FormatSpec spec;
  spec.set_name(name);
  for (auto& [k, v] : options) (*spec.mutable_options())[k] = v;
  return spec;
}

struct Decoded {
  RecordBatch batch;
  std::vector<DecodeError> errors;
};

inline Decoded DecodeWith(const proto::FormatSpec& spec, SchemaPtr schema,
                          const std::vector<absl::string_view>& lines) {
  auto decoder = MakeDecoder(spec, schema);
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  Decoded d{RecordBatch(schema), {}};
  (*decoder)->DecodeLines(lines, &d.batch, &d.errors);
  return d;
}

}  // namespace sluice::types::format_testing
