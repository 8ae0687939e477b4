// CreateSource / IsSourceSpec (declared in taskmanager/operators/operator.h): the sources by
// spec kind: file, datagen and kafka.
#include "absl/strings/str_cat.h"
#include "taskmanager/connectors/datagen_source.h"
#include "taskmanager/connectors/file_source.h"
#include "taskmanager/connectors/kafka_source.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager {

bool IsSourceSpec(const proto::OperatorSpec& spec) {
  return spec.kind_case() == proto::OperatorSpec::kFileSource ||
         spec.kind_case() == proto::OperatorSpec::kDatagenSource ||
         spec.kind_case() == proto::OperatorSpec::kKafkaSource;
}

absl::StatusOr<std::unique_ptr<SourceOperator>> CreateSource(const proto::OperatorSpec& spec) {
  switch (spec.kind_case()) {
    case proto::OperatorSpec::kFileSource: {
      auto source = connectors::FileSource::Create(spec);
      if (!source.ok()) return source.status();
      return std::unique_ptr<SourceOperator>(std::move(*source));
    }
    case proto::OperatorSpec::kDatagenSource: {
      auto source = connectors::DatagenSource::Create(spec);
      if (!source.ok()) return source.status();
      return std::unique_ptr<SourceOperator>(std::move(*source));
    }
    case proto::OperatorSpec::kKafkaSource: {
      auto source = connectors::KafkaSource::Create(spec);
      if (!source.ok()) return source.status();
      return std::unique_ptr<SourceOperator>(std::move(*source));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("operator '", spec.name(), "' is not a source"));
  }
}

}  // namespace sluice::taskmanager
