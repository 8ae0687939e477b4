// RawExchange: sends raw bytes to an HTTP server on 127.0.0.1 and returns its first answer,
// for requests no well-behaved client sends (malformed request lines, encoded "..", oversized
// headers). Shared by the HTTP server unit test and the REST integration tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

namespace sluice::testing {

// The first response (or whatever came back until the peer closed, or 5 s passed).
inline std::string RawExchange(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  // No half-close: cpp-httplib drops a connection whose peer already shut its side down.
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  (void)!write(fd, bytes.data(), bytes.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    out.append(buf, n);
    // Stop after one complete response (error answers keep the connection alive).
    const size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const size_t at = out.find("Content-Length: ");
    const size_t length = at < end ? std::stoul(out.substr(at + 16)) : 0;
    if (out.size() >= end + 4 + length) break;
  }
  close(fd);
  return out;
}

}  // namespace sluice::testing
