#include "taskmanager/connectors/schema_util.h"

#include "absl/strings/str_cat.h"

namespace sluice::taskmanager::connectors {

absl::StatusOr<types::SchemaPtr> SchemaOf(const proto::Schema& proto) {
  if (proto.fields_size() == 0) return absl::InvalidArgumentError("no schema (no columns)");
  auto schema = types::Schema::FromProto(proto);
  if (!schema.ok()) return schema.status();
  return std::make_shared<const types::Schema>(*std::move(schema));
}

}  // namespace sluice::taskmanager::connectors
