// The TaskManager's HTTP endpoints (taskmanager_metrics.h ServeHttp): /metrics, the liveness
// probe /health and the readiness probe /ready, which follows the JobManager registration.
#include "gtest/gtest.h"
#include "taskmanager/taskmanager_metrics.h"

namespace sluice::taskmanager {
namespace {

http::HttpRequest Request(const std::string& method, const std::string& path) {
  http::HttpRequest r;
  r.method = method;
  r.path = path;
  return r;
}

TEST(TaskManagerHttpTest, ProbesFollowTheRegistration) {
  metrics::MetricsRegistry registry;
  bool registered = false;
  auto serve = [&](const std::string& method, const std::string& path) {
    return ServeHttp(registry, [&] { return registered; }, Request(method, path));
  };
  EXPECT_EQ(serve("GET", "/health").status, 200);
  http::HttpResponse ready = serve("GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("not registered with a JobManager"), std::string::npos);
  registered = true;
  EXPECT_EQ(serve("GET", "/ready").status, 200);
  EXPECT_EQ(serve("GET", "/health").status, 200);
  registered = false;  // the JobManager went away: not ready, still alive
  EXPECT_EQ(serve("GET", "/ready").status, 503);
  EXPECT_EQ(serve("GET", "/health").status, 200);
}

TEST(TaskManagerHttpTest, MetricsAndErrors) {
  metrics::MetricsRegistry registry;
  auto serve = [&](const std::string& method, const std::string& path) {
    return ServeHttp(registry, [] { return true; }, Request(method, path));
  };
  http::HttpResponse metrics = serve("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, metrics::MetricsRegistry::kContentType);
  http::HttpResponse unknown = serve("GET", "/v1/jobs");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("/health"), std::string::npos);
  http::HttpResponse post = serve("POST", "/ready");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET");
}

}  // namespace
}  // namespace sluice::taskmanager
