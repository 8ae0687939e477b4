#include "common/schema_registry/registry_errors.h"

#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace sluice::schema_registry {
namespace {

constexpr char kPayloadUrl[] = "type.sluice.dev/schema_registry.error_code";

absl::StatusCode CanonicalCode(int error_code) {
  switch (HttpStatusOf(error_code)) {
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kFailedPrecondition;
    case 422:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status RegistryError(int error_code, absl::string_view message) {
  absl::Status status(CanonicalCode(error_code), message);
  status.SetPayload(kPayloadUrl, absl::Cord(std::to_string(error_code)));
  return status;
}

int RegistryErrorCode(const absl::Status& status) {
  if (auto payload = status.GetPayload(kPayloadUrl)) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*payload), &code)) return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
      return 422;
    case absl::StatusCode::kFailedPrecondition:
      return kIncompatibleSchema;
    default:
      return kStoreError;
  }
}

int HttpStatusOf(int error_code) {
  // Confluent codes are the HTTP status followed by two digits (40401) or the status itself.
  const int status = error_code >= 10000 ? error_code / 100 : error_code;
  return status >= 400 && status < 600 ? status : 500;
}

}  // namespace sluice::schema_registry
