#include "jobmanager/rest/dashboard_files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/embedded_file.h"

namespace sluice {
// Generated from web/ by cmake/EmbedFiles.cmake (jobmanager/CMakeLists.txt).
extern const EmbeddedFile kDashboardFiles[];
extern const size_t kDashboardFiles_count;
}  // namespace sluice

namespace sluice::jobmanager {
namespace {

constexpr char kWebPrefix[] = "/web/";
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

}  // namespace

DashboardFiles::DashboardFiles(std::string dev_dir) : dev_dir_(std::move(dev_dir)) {}

bool DashboardFiles::IsDashboardFileName(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string::npos || name.find('.', dot + 1) != std::string::npos) {
    return false;
  }
  for (size_t i = 0; i < dot; ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return !ContentType(name).empty();
}

std::string DashboardFiles::ContentType(const std::string& name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(name, ".svg")) return "image/svg+xml";
  return "";
}

std::optional<std::string> DashboardFiles::Read(const std::string& name) const {
  if (!dev_dir_.empty()) {
    std::ifstream in(dev_dir_ + "/" + name, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }
  for (size_t i = 0; i < kDashboardFiles_count; ++i) {
    if (name == kDashboardFiles[i].name) {
      return std::string(kDashboardFiles[i].data, kDashboardFiles[i].size);
    }
  }
  return std::nullopt;
}

std::optional<http::HttpResponse> DashboardFiles::Serve(const std::string& path) const {
  std::string name;
  if (path == "/" || path == "/index.html") {
    name = "index.html";
  } else if (absl::StartsWith(path, kWebPrefix)) {
    name = path.substr(sizeof(kWebPrefix) - 1);
  } else {
    return std::nullopt;
  }
  if (!IsDashboardFileName(name)) return std::nullopt;
  std::optional<std::string> body = Read(name);
  if (!body.has_value()) return std::nullopt;
  http::HttpResponse r;
  r.content_type = ContentType(name);
  r.body = std::move(*body);
  // Revalidate after an upgrade; the files are small and served from memory.
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (name == "index.html") {
    // Scripts and styles from this origin only (no inline script), never framed.
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Frame-Options", "DENY");
  }
  return r;
}

}  // namespace sluice::jobmanager
