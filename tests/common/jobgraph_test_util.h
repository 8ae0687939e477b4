// Helpers shared by the jobgraph tests: exact JobGraph comparison against text protos.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobgraph::testing {

inline proto::JobGraph GraphFromText(const std::string& text) {
  proto::JobGraph graph;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &graph)) << text;
  return graph;
}

// Empty when equal, else the differences. `ignore_yaml_line` compares graphs of the two front
// ends (the JobBuilder has no YAML lines).
inline std::string GraphDiff(const proto::JobGraph& expected, const proto::JobGraph& actual,
                             bool ignore_yaml_line = false) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string diff;
  differencer.ReportDifferencesToString(&diff);
  if (ignore_yaml_line) {
    differencer.IgnoreField(proto::OperatorSpec::descriptor()->FindFieldByName("yaml_line"));
  }
  if (differencer.Compare(expected, actual)) return "";
  return diff + "\nactual:\n" + actual.DebugString();
}

}  // namespace sluice::jobgraph::testing
