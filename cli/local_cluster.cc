#include "cli/local_cluster.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/format.h"
#include "common/file_util.h"

namespace sluice::cli {
namespace {

constexpr int kLogTailLines = 20;
constexpr int64_t kReadyPollMs = 20;

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {}

LocalCluster::~LocalCluster() { Stop(); }

std::vector<std::string> LocalCluster::CommonFlags() const {
  std::vector<std::string> flags;
  if (!options_.config_file.empty()) flags.insert(flags.end(), {"--config", options_.config_file});
  return flags;
}

absl::StatusOr<LocalCluster::Child> LocalCluster::StartChild(const std::string& name,
                                                             const std::string& binary,
                                                             std::vector<std::string> args) {
  const std::filesystem::path dir(options_.log_dir);
  const std::string ready_path = (dir / (name + ".ready.json")).string();
  std::error_code ignored;
  std::filesystem::remove(ready_path, ignored);
  // The user's --set flags come last so that they win over ours.
  for (const std::string& flag : options_.set_flags) args.insert(args.end(), {"--set", flag});
  args.insert(args.end(), {"--ready-file", ready_path});
  args.insert(args.begin(), (std::filesystem::path(options_.bin_dir) / binary).string());
  Child child;
  child.info.name = name;
  child.info.log_path = (dir / (name + ".log")).string();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(args, child.info.log_path);
  if (!process.ok()) return process.status();
  child.process = *std::move(process);
  child.info.pid = child.process->pid();
  return child;
}

absl::Status LocalCluster::WaitReady(Child& child, const std::string& ready_path,
                                     const std::function<bool()>& interrupted) {
  const std::string binary =
      child.info.name == "jobmanager" ? "sluice-jobmanager" : "sluice-taskmanager";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.startup_timeout_ms);
  while (true) {
    if (interrupted()) return absl::CancelledError("interrupted during startup");
    if (std::filesystem::exists(ready_path)) {
      absl::StatusOr<std::string> text = ReadFile(ready_path);
      if (text.ok()) {
        nlohmann::json ready = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
        if (ready.is_object()) {
          const char* address_key = child.info.name == "jobmanager" ? "rpc_address" : "address";
          child.info.address = ready.value(address_key, "");
          child.info.http_address =
              ready.value(child.info.name == "jobmanager" ? "rest_address" : "metrics_address", "");
          child.info.tm_id = ready.value("tm_id", "");
          child.info.pid = ready.value("pid", static_cast<int64_t>(child.info.pid));
          return absl::OkStatus();
        }
      }
    }
    if (!child.process->Running()) {
      failed_log_tail_ = child.process->LogTail(kLogTailLines);
      std::string reason = absl::StrCat(binary, " (", child.info.name, ") ",
                                        child.process->ExitDescription(), " before it was ready");
      if (!failed_log_tail_.empty()) absl::StrAppend(&reason, ": ", failed_log_tail_.back());
      child.death_reported = true;
      return absl::FailedPreconditionError(reason);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      failed_log_tail_ = child.process->LogTail(kLogTailLines);
      return absl::DeadlineExceededError(
          absl::StrCat(binary, " (", child.info.name, ") was not ready within ",
                       HumanDuration(options_.startup_timeout_ms), "; see ", child.info.log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kReadyPollMs));
  }
}

absl::Status LocalCluster::Start(const std::function<bool()>& interrupted) {
  const std::filesystem::path dir(options_.log_dir);
  std::vector<std::string> jm_args = CommonFlags();
  jm_args.insert(jm_args.end(),
                 {"--set", absl::StrCat("jobmanager.rpc.port=", options_.jobmanager_port)});
  absl::StatusOr<Child> jm = StartChild("jobmanager", "sluice-jobmanager", std::move(jm_args));
  if (!jm.ok()) return jm.status();
  children_.push_back(*std::move(jm));
  if (absl::Status s = WaitReady(children_[0], (dir / "jobmanager.ready.json").string(), interrupted);
      !s.ok()) {
    return s;
  }
  jobmanager_ = children_[0].info;

  // TaskManagers start together and register in parallel.
  for (int i = 1; i <= options_.taskmanagers; ++i) {
    std::vector<std::string> args = {"--jobmanager", jobmanager_.address};
    for (std::string& flag : CommonFlags()) args.push_back(std::move(flag));
    args.insert(args.end(), {"--set", "taskmanager.port=0", "--set",
                             absl::StrCat("taskmanager.slots=", options_.slots)});
    absl::StatusOr<Child> tm =
        StartChild(absl::StrCat("taskmanager-", i), "sluice-taskmanager", std::move(args));
    if (!tm.ok()) return tm.status();
    children_.push_back(*std::move(tm));
  }
  for (size_t i = 1; i < children_.size(); ++i) {
    Child& tm = children_[i];
    if (absl::Status s =
            WaitReady(tm, (dir / (tm.info.name + ".ready.json")).string(), interrupted);
        !s.ok()) {
      return s;
    }
    taskmanagers_.push_back(tm.info);
  }
  return absl::OkStatus();
}

nlohmann::json LocalCluster::ReadyJson() const {
  nlohmann::json tms = nlohmann::json::array();
  for (const LocalProcess& tm : taskmanagers_) {
    tms.push_back({{"tm_id", tm.tm_id},
                   {"address", tm.address},
                   {"metrics_address", tm.http_address},
                   {"pid", tm.pid},
                   {"log", tm.log_path}});
  }
  return nlohmann::json{{"jobmanager", jobmanager_.address},
                        {"jobmanager_pid", jobmanager_.pid},
                        {"rest_address", jobmanager_.http_address},
                        {"log_dir", options_.log_dir},
                        {"taskmanagers", std::move(tms)}};
}

std::vector<std::string> LocalCluster::PollDeaths() {
  std::vector<std::string> deaths;
  for (Child& child : children_) {
    if (child.death_reported || child.process->Running()) continue;
    child.death_reported = true;
    deaths.push_back(absl::StrCat(child.info.name, " (pid ", child.info.pid, ") ",
                                  child.process->ExitDescription(), "; log: ",
                                  child.info.log_path));
  }
  return deaths;
}

void LocalCluster::Stop() {
  for (Child& child : children_) child.process->Signal(SIGTERM);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
  for (Child& child : children_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!child.process->WaitForExit(std::max<int64_t>(0, left.count()))) {
      child.process->Signal(SIGKILL);
      child.process->WaitForExit(5000);
    }
    child.death_reported = true;
  }
}

}  // namespace sluice::cli
