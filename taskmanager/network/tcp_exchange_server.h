// TcpExchangeServer: the data port of a TaskManager whose `taskmanager.network.transport` is
// tcp. Accepts consumer TaskManagers' connections (FrameSocket, after the hello) and serves
// each on its own thread with the ExchangeService's protocol (ExchangeServiceImpl::Serve), as
// the gRPC server serves its Exchange calls. Its address is the TaskManager's data address,
// "tcp://host:port". Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "taskmanager/network/exchange_service.h"
#include "taskmanager/network/frame_socket.h"

namespace sluice::network {

class TcpExchangeServer {
 public:
  // Listens on `bind_host`:`port` (0: a free port). Unavailable naming the address when it
  // cannot (address in use, bad host).
  static absl::StatusOr<std::unique_ptr<TcpExchangeServer>> Start(const std::string& bind_host,
                                                                  int port,
                                                                  ExchangeServiceImpl* service);
  ~TcpExchangeServer();  // Shutdown()

  int port() const { return port_; }
  // Stops accepting, ends every connection (their streams' channels are canceled) and joins
  // the threads. Idempotent.
  void Shutdown();

 private:
  TcpExchangeServer(int listen_fd, int port, ExchangeServiceImpl* service);
  struct ConnectionThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set by the thread as it ends
  };

  void AcceptLoop();
  void Serve(int fd);

  const int listen_fd_;
  const int port_;
  ExchangeServiceImpl* const service_;
  std::thread acceptor_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<FrameSocket*> sockets_ ABSL_GUARDED_BY(mu_);
  // Finished ones are joined at the next accept (a consumer TaskManager reconnects after
  // every broken stream).
  std::vector<ConnectionThread> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::network
