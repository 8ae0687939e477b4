// Confluent Schema Registry error codes (40401 subject not found, 42201 invalid schema, ...)
// carried on absl::Status: the store and the schema parsers return RegistryError(code, ...),
// and the HTTP service turns the status back into Confluent's {"error_code", "message"} body
// and HTTP status. Pure functions: safe from any thread.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::schema_registry {

inline constexpr int kSubjectNotFound = 40401;
inline constexpr int kVersionNotFound = 40402;
inline constexpr int kSchemaNotFound = 40403;
inline constexpr int kSubjectSoftDeleted = 40404;
inline constexpr int kSubjectNotSoftDeleted = 40405;
inline constexpr int kVersionSoftDeleted = 40406;
inline constexpr int kVersionNotSoftDeleted = 40407;
inline constexpr int kIncompatibleSchema = 409;
inline constexpr int kInvalidSchema = 42201;
inline constexpr int kInvalidVersion = 42202;
inline constexpr int kInvalidCompatibilityLevel = 42203;
inline constexpr int kInvalidSubject = 42208;
inline constexpr int kStoreError = 50001;

// A status with the canonical code matching `error_code` (NotFound for 404xx,
// InvalidArgument for 422xx, FailedPrecondition for 409, Internal for 500xx) and the
// Confluent code attached as a payload.
absl::Status RegistryError(int error_code, absl::string_view message);

// The Confluent code of `status`: its payload when it has one, else derived from the
// canonical code (NotFound 404, InvalidArgument 422, ... Internal 50001).
int RegistryErrorCode(const absl::Status& status);

// The HTTP status of a Confluent code: 40401 -> 404, 42201 -> 422, 409 -> 409, 50001 -> 500.
int HttpStatusOf(int error_code);

}  // namespace sluice::schema_registry
