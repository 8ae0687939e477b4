#include "taskmanager/network/tcp_exchange_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_server.h"
#include "spdlog/spdlog.h"

namespace sluice::network {

absl::StatusOr<std::unique_ptr<TcpExchangeServer>> TcpExchangeServer::Start(
    const std::string& bind_host, int port, ExchangeServiceImpl* service) {
  const std::string requested = rpc::JoinHostPort(bind_host, port);
  auto unavailable = [&requested](absl::string_view why) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on data port ", requested, ": ", why));
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service_name = std::to_string(port);
  if (int rc = getaddrinfo(bind_host.empty() ? nullptr : bind_host.c_str(), service_name.c_str(),
                           &hints, &found);
      rc != 0) {
    return unavailable(gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) return unavailable(std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // TIME_WAIT after a restart
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 128) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return unavailable(why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int actual = ntohs(bound.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<TcpExchangeServer> server(new TcpExchangeServer(fd, actual, service));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

TcpExchangeServer::TcpExchangeServer(int listen_fd, int port, ExchangeServiceImpl* service)
    : listen_fd_(listen_fd), port_(port), service_(service) {}

TcpExchangeServer::~TcpExchangeServer() {
  Shutdown();
  ::close(listen_fd_);
}

void TcpExchangeServer::AcceptLoop() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno != EINTR && errno != ECONNABORTED) {
        spdlog::warn("data port {}: accept failed: {}", port_, std::strerror(errno));
        // Out of file descriptors and the like: do not spin.
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(100));
      }
      continue;
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    connections_.push_back({std::thread([this, fd, done] {
                              Serve(fd);
                              done->store(true);
                            }),
                            done});
  }
}

void TcpExchangeServer::Serve(int fd) {
  FrameSocket socket(fd);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    sockets_.insert(&socket);
  }
  std::string error;
  if (socket.AcceptHello(&error)) {
    TcpServerWire wire(&socket);
    absl::Status served = service_->Serve(&wire);
    (void)served;  // protocol errors are logged by the stream; a shutdown is not an error
  } else {
    spdlog::warn("data port {}: refused a connection from {}: {}", port_, socket.peer(), error);
  }
  absl::MutexLock lock(&mu_);
  sockets_.erase(&socket);
}

void TcpExchangeServer::Shutdown() {
  std::vector<ConnectionThread> connections;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !acceptor_.joinable()) return;
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept
    for (FrameSocket* s : sockets_) s->Shutdown();
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (ConnectionThread& c : connections) c.thread.join();
}

}  // namespace sluice::network
