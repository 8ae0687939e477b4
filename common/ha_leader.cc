#include "common/ha_leader.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "nlohmann/json.hpp"

namespace sluice {

std::string LeaderFilePath(const std::string& ha_dir) { return ha_dir + "/leader"; }

absl::Status WriteLeaderFile(const std::string& ha_dir, const LeaderInfo& leader) {
  std::error_code ec;
  std::filesystem::create_directories(ha_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("high availability: cannot create ", ha_dir, ": ", ec.message()));
  }
  nlohmann::json json = {{"rpc_address", leader.rpc_address},
                         {"rest_address", leader.rest_address},
                         {"session_id", leader.session_id},
                         {"pid", leader.pid}};
  absl::Status s = WriteFileAtomically(LeaderFilePath(ha_dir), json.dump());
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("high availability: writing the leader file: ",
                                               s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<LeaderInfo> ReadLeaderFile(const std::string& ha_dir) {
  const std::string path = LeaderFilePath(ha_dir);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  nlohmann::json json = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("rpc_address") || !json["rpc_address"].is_string() ||
      !json.contains("session_id") || !json["session_id"].is_string() ||
      json["rpc_address"].get<std::string>().empty()) {
    return absl::DataLossError(absl::StrCat(
        path, " is not a leader file (JSON with rpc_address and session_id expected)"));
  }
  LeaderInfo leader;
  leader.rpc_address = json["rpc_address"].get<std::string>();
  leader.session_id = json["session_id"].get<std::string>();
  if (json.contains("rest_address") && json["rest_address"].is_string()) {
    leader.rest_address = json["rest_address"].get<std::string>();
  }
  if (json.contains("pid") && json["pid"].is_number_integer()) leader.pid = json["pid"].get<int64_t>();
  return leader;
}

}  // namespace sluice
