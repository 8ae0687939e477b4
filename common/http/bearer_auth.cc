#include "common/http/bearer_auth.h"

#include <utility>

#include "nlohmann/json.hpp"

namespace sluice::http {

HttpHandler RequireBearerToken(HttpHandler handler, security::BearerToken token,
                               std::function<bool(const HttpRequest&)> is_public) {
  return [handler = std::move(handler), token = std::move(token),
          is_public = std::move(is_public)](const HttpRequest& request) {
    if ((is_public && is_public(request)) || token.MatchesAuthorization(request.authorization)) {
      return handler(request);
    }
    HttpResponse response;
    response.status = 401;
    response.body = nlohmann::json{{"error", request.authorization.empty()
                                                 ? "missing bearer token (send Authorization: "
                                                   "Bearer <token of security.auth.token_file>)"
                                                 : "wrong bearer token"}}
                        .dump();
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
    return response;
  };
}

}  // namespace sluice::http
