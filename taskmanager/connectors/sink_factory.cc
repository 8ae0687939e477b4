#include "taskmanager/connectors/sink_factory.h"

#include "absl/strings/str_cat.h"
#include "taskmanager/connectors/blackhole_sink.h"
#include "taskmanager/connectors/file_sink.h"
#include "taskmanager/connectors/kafka_sink.h"
#include "taskmanager/connectors/print_sink.h"

namespace sluice::taskmanager::connectors {

bool IsSinkSpec(const proto::OperatorSpec& spec) {
  switch (spec.kind_case()) {
    case proto::OperatorSpec::kFileSink:
    case proto::OperatorSpec::kPrintSink:
    case proto::OperatorSpec::kBlackholeSink:
    case proto::OperatorSpec::kKafkaSink:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<Operator>> CreateSink(const proto::OperatorSpec& spec) {
  switch (spec.kind_case()) {
    case proto::OperatorSpec::kFileSink: {
      auto sink = FileSink::Create(spec);
      if (!sink.ok()) return sink.status();
      return std::unique_ptr<Operator>(std::move(*sink));
    }
    case proto::OperatorSpec::kPrintSink: {
      auto sink = PrintSink::Create(spec);
      if (!sink.ok()) return sink.status();
      return std::unique_ptr<Operator>(std::move(*sink));
    }
    case proto::OperatorSpec::kBlackholeSink:
      return std::unique_ptr<Operator>(BlackholeSink::Create(spec));
    case proto::OperatorSpec::kKafkaSink: {
      auto sink = KafkaSink::Create(spec);
      if (!sink.ok()) return sink.status();
      return std::unique_ptr<Operator>(std::move(*sink));
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "' is not a sink"));
  }
}

}  // namespace sluice::taskmanager::connectors
