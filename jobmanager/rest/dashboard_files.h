// DashboardFiles: serves the web dashboard (web/, embedded into the JobManager at build time
// by cmake/EmbedFiles.cmake): `GET /` is web/index.html and `GET /web/<name>` a file of web/.
// Names are matched against the embedded files only, never joined to a path on disk, so no
// request reaches another file (Flink's CVE-2020-17519 was a path joined from the URL).
// For dashboard development, a directory (SLUICE_WEB_DIR) may replace the embedded copies:
// a name that passes the same check is then read from that directory on every request.
// Thread-safe (immutable after construction).
#pragma once

#include <optional>
#include <string>

#include "common/http/http_server.h"

namespace sluice::jobmanager {

class DashboardFiles {
 public:
  // `dev_dir` empty: the embedded files.
  explicit DashboardFiles(std::string dev_dir = "");

  // The file for `path` ("/" or "/web/<name>"), or nullopt when `path` is not a dashboard
  // file (the caller answers 404 with its own message).
  std::optional<http::HttpResponse> Serve(const std::string& path) const;

  // "text/html; charset=utf-8", "text/javascript; charset=utf-8", ...; empty for a name
  // that is not one of ours (see IsDashboardFileName).
  static std::string ContentType(const std::string& name);
  // A base name like "app.js": [a-z0-9_-]+ then .html/.js/.css/.svg; nothing else (no
  // slashes, no "..", no leading dot).
  static bool IsDashboardFileName(const std::string& name);

 private:
  std::optional<std::string> Read(const std::string& name) const;

  const std::string dev_dir_;
};

}  // namespace sluice::jobmanager
