// RequireBearerToken: wraps an HttpHandler so that requests must carry
// `Authorization: Bearer <token>` (security.auth.token_file). A request without it, or with
// another token, gets 401 {"error": "..."} with `WWW-Authenticate: Bearer` and never
// reaches the handler; paths for which `is_public` is true (health checks, the dashboard's
// static files) pass without a token. The token is never logged or echoed. Used by the
// JobManager's REST server and the TaskManagers' /metrics. Thread-safe like the handler.
#pragma once

#include <functional>
#include <string>

#include "common/http/http_server.h"
#include "common/security/bearer_token.h"

namespace sluice::http {

HttpHandler RequireBearerToken(HttpHandler handler, security::BearerToken token,
                               std::function<bool(const HttpRequest&)> is_public);

}  // namespace sluice::http
