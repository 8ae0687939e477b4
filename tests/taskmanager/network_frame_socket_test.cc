// The tcp transport's framing (FrameSocket) over a socketpair and a real listening port:
// every Buffer field survives the envelope, requests round-trip, a wrong peer fails the hello,
// a corrupt or truncated stream is an error naming why; and the transport's configuration
// (unknown name, tcp with TLS) is refused with the key in the message.
#include "taskmanager/network/frame_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "common/rpc/credentials.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "taskmanager/network/network_environment.h"
#include "tests/test_certs.h"
#include "tests/test_dirs.h"

namespace sluice::network {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::util::MessageDifferencer;

struct Pair {
  std::unique_ptr<FrameSocket> a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    a = std::make_unique<FrameSocket>(fds[0]);
    b = std::make_unique<FrameSocket>(fds[1]);
  }
};

// A buffer with every field but `more` set to a non-default value (found by reflection, so a
// field added to exchange.proto later is covered too).
proto::Buffer EveryField(int salt) {
  proto::Buffer b;
  const auto* descriptor = b.GetDescriptor();
  const auto* reflection = b.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (f->is_repeated()) continue;  // `more`
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: reflection->SetInt32(&b, f, 10 + i + salt); break;
      case FieldDescriptor::CPPTYPE_INT64: reflection->SetInt64(&b, f, 1000 + i + salt); break;
      case FieldDescriptor::CPPTYPE_BOOL: reflection->SetBool(&b, f, true); break;
      case FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(&b, f, std::string(100 * (i + 1) + salt, 'a' + i));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnumValue(&b, f, f->enum_type()->value(f->enum_type()->value_count() - 1)->number());
        break;
      default: ADD_FAILURE() << "a Buffer field of an untested type: " << f->name();
    }
  }
  return b;
}

TEST(FrameSocketTest, EveryBufferFieldSurvivesAndCoalescedBuffersArriveAsOneBurst) {
  Pair p;
  proto::Buffer message = EveryField(0);
  *message.add_more() = EveryField(1);
  proto::Buffer empty_data = EveryField(2);
  empty_data.clear_data();  // an event: no data bytes
  *message.add_more() = empty_data;
  std::thread writer([&] { EXPECT_TRUE(p.a->WriteBuffers(message)); });
  proto::Buffer got;
  // Reused receive strings, longer than needed, and one `more` element too many.
  got.mutable_data()->assign(50'000, 'x');
  for (int i = 0; i < 3; ++i) got.add_more()->mutable_data()->assign(70'000, 'y');
  ASSERT_TRUE(p.b->ReadBuffers(&got)) << p.b->error();
  EXPECT_TRUE(MessageDifferencer::Equals(got, message)) << got.DebugString();
  EXPECT_EQ(got.more(1).data(), "");
  writer.join();

  // The next burst, smaller and then larger, into the same message: nothing of the previous
  // burst's `more` is left over.
  std::thread writer2([&] {
    proto::Buffer single = EveryField(3);
    EXPECT_TRUE(p.a->WriteBuffers(single));
    EXPECT_TRUE(p.a->WriteBuffers(message));
  });
  ASSERT_TRUE(p.b->ReadBuffers(&got)) << p.b->error();
  EXPECT_TRUE(MessageDifferencer::Equals(got, EveryField(3))) << got.DebugString();
  ASSERT_TRUE(p.b->ReadBuffers(&got)) << p.b->error();
  EXPECT_TRUE(MessageDifferencer::Equals(got, message)) << got.DebugString();
  writer2.join();
}

TEST(FrameSocketTest, LargeBuffersAndRequestsRoundTrip) {
  Pair p;
  proto::Buffer big;
  big.set_channel_id(3);
  big.set_seq(9);
  for (int i = 0; i < (4 << 20); ++i) big.mutable_data()->push_back(static_cast<char>(i * 7));
  proto::ExchangeRequest request;
  request.mutable_partition_request()->set_partition_id("job/0/1/2");
  request.mutable_partition_request()->set_initial_credit(4);
  std::thread writer([&] {
    EXPECT_TRUE(p.a->WriteBuffers(big));  // more than the socket holds: partial writes
    EXPECT_TRUE(p.a->WriteBuffers(big));
  });
  for (int i = 0; i < 2; ++i) {
    proto::Buffer got;
    ASSERT_TRUE(p.b->ReadBuffers(&got)) << p.b->error();
    EXPECT_EQ(got.seq(), 9);
    EXPECT_TRUE(got.data() == big.data());
  }
  writer.join();
  ASSERT_TRUE(p.b->WriteRequest(request));
  proto::ExchangeRequest read;
  ASSERT_TRUE(p.a->ReadRequest(&read)) << p.a->error();
  EXPECT_TRUE(MessageDifferencer::Equals(read, request));
}

// The reader of `bytes` on a socket: false, and the error it gives.
std::string ReadError(const std::string& bytes) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_EQ(send(fds[0], bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  close(fds[0]);
  FrameSocket reader(fds[1]);
  proto::Buffer message;
  EXPECT_FALSE(reader.ReadBuffers(&message));
  return reader.error();
}

TEST(FrameSocketTest, CorruptOrTruncatedStreamsAreErrors) {
  using namespace std::string_literals;
  // u32 count, then per buffer u32 envelope length + u32 data length.
  EXPECT_EQ(ReadError("\0\0\0\0"s), "corrupt stream: a burst of 0 buffers");
  EXPECT_EQ(ReadError("\xff\xff\0\0"s), "corrupt stream: a burst of 65535 buffers");
  EXPECT_EQ(ReadError("\x01\0\0\0\xff\xff\xff\x7f\0\0\0\0"s),
            "corrupt stream: a buffer frame of 2147483647 + 0 bytes");
  // Frames each under the limit, together far over it: refused before anything is sized.
  std::string burst("\x04\0\0\0"s);
  for (int i = 0; i < 4; ++i) burst += "\0\0\0\0\0\0\0\x30"s;  // 768 MiB of data each
  EXPECT_EQ(ReadError(burst), "corrupt stream: a burst of 4 buffers and 3221225472 bytes");
  // An envelope that is not a Buffer (a field with a bad wire type).
  EXPECT_EQ(ReadError("\x01\0\0\0\x02\0\0\0\0\0\0\0\x0f\x0f"s),
            "corrupt stream: a bad buffer envelope");
  // Cut in the middle of the header, and in the middle of the data.
  EXPECT_EQ(ReadError("\x01\0\0\0\x00\0"s), "connection closed");
  EXPECT_EQ(ReadError("\x01\0\0\0\x00\0\0\0\x10\0\0\0abc"s), "connection closed");
  {
    Pair p;
    proto::Buffer message;
    message.mutable_data()->assign(1000, 'd');
    ASSERT_TRUE(p.a->WriteBuffers(message));
    p.a.reset();  // closes: the reader gets the burst, then the end
    proto::Buffer got;
    ASSERT_TRUE(p.b->ReadBuffers(&got));
    EXPECT_EQ(got.data(), message.data());
    EXPECT_FALSE(p.b->ReadBuffers(&got));
    EXPECT_EQ(p.b->error(), "connection closed");
  }
}

// Connect to a fake data port on loopback (its address in `address`) that reads the hello
// and answers with the 8 bytes `answer`.
absl::StatusOr<std::unique_ptr<FrameSocket>> ConnectToPeerAnswering(const char* answer,
                                                                    std::string* address) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  *address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::thread server([&] {
    const int fd = accept(listener, nullptr, nullptr);
    char hello[8];
    EXPECT_EQ(recv(fd, hello, sizeof(hello), MSG_WAITALL), 8);
    EXPECT_EQ(send(fd, answer, 8, 0), 8);
    close(fd);
  });
  absl::StatusOr<std::unique_ptr<FrameSocket>> socket = FrameSocket::Connect(*address);
  server.join();
  close(listener);
  return socket;
}

TEST(FrameSocketTest, ConnectNeedsTheHelloOfASluiceDataPort) {
  // A listener that answers with something else (as a gRPC port or another service would).
  std::string address;
  absl::StatusOr<std::unique_ptr<FrameSocket>> socket =
      ConnectToPeerAnswering("HTTP/1.1", &address);
  ASSERT_FALSE(socket.ok());
  EXPECT_EQ(socket.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(socket.status().message().find(address), std::string::npos) << socket.status();
  EXPECT_NE(socket.status().message().find("hello"), std::string::npos) << socket.status();

  Pair p;  // and a producer refuses a consumer that does not greet
  proto::ExchangeRequest request;
  request.mutable_partition_request()->set_partition_id("job/0/1/0");
  ASSERT_TRUE(p.a->WriteRequest(request));
  std::string error;
  EXPECT_FALSE(p.b->AcceptHello(&error));
  EXPECT_NE(error.find("no hello"), std::string::npos) << error;
}

// TaskManagers of different Sluice versions (another wire version in the hello) say so on
// both sides, instead of "no hello".
TEST(FrameSocketTest, AnotherWireVersionIsNamedOnBothSides) {
  std::string address;  // an older producer: reads the hello, answers with version 01
  absl::StatusOr<std::unique_ptr<FrameSocket>> socket =
      ConnectToPeerAnswering("SLXCHG01", &address);
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find("exchange wire SLXCHG01"), std::string::npos)
      << socket.status();
  EXPECT_NE(socket.status().message().find("same Sluice version"), std::string::npos);

  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_EQ(send(fds[0], "SLXCHG01", 8, 0), 8);  // an old consumer
  FrameSocket producer(fds[1]);
  std::string error;
  EXPECT_FALSE(producer.AcceptHello(&error));
  EXPECT_NE(error.find("exchange wire SLXCHG01"), std::string::npos) << error;
  char answer[8];
  ASSERT_EQ(recv(fds[0], answer, sizeof(answer), MSG_WAITALL), 8);  // it was answered
  EXPECT_EQ(std::string(answer, 8).substr(0, 6), "SLXCHG");
  close(fds[0]);
}

// A peer that never answers (a vanished pod's address) does not hold the consumer for the
// kernel's SYN retries: Connect gives up after its timeout, or at once when canceled.
TEST(FrameSocketTest, ConnectGivesUpAfterItsTimeoutOrWhenCanceled) {
  const std::string nowhere = "10.255.255.1:6125";  // not routed: no answer, or unreachable
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<FrameSocket>> socket = FrameSocket::Connect(nowhere, 300);
  EXPECT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find(nowhere), std::string::npos) << socket.status();
  std::atomic<bool> canceled{true};
  socket = FrameSocket::Connect(nowhere, 60'000, &canceled);
  EXPECT_FALSE(socket.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(NetworkTransportConfigTest, UnknownTransportAndTcpWithTlsAreRefusedNamingTheKey) {
  NetworkConfig config;
  config.transport = "udp";
  NetworkEnvironment env(config, "tm", SystemClock::Get());
  absl::StatusOr<std::string> address = env.StartDataTransport("127.0.0.1", "127.0.0.1", "x:1");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("taskmanager.network.transport"), std::string::npos);

  const std::filesystem::path certs =
      sluice::testing::MakeTestCerts(sluice::testing::FreshTestDir("frame-socket-certs"));
  rpc::TlsSettings tls;
  tls.enabled = true;
  tls.ca = {(certs / "ca.crt").string(), "ca"};
  tls.cert = {(certs / "cluster.crt").string(), "cert"};
  tls.key = {(certs / "cluster.key").string(), "key"};
  absl::StatusOr<rpc::RpcCredentials> credentials = rpc::RpcCredentials::Load(tls);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  config.transport = "tcp";
  NetworkEnvironment secure(config, "tm", SystemClock::Get(), *credentials);
  address = secure.StartDataTransport("127.0.0.1", "127.0.0.1", "x:1");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("security.tls.enabled"), std::string::npos);

  config.transport = "tcp";
  NetworkEnvironment plain(config, "tm", SystemClock::Get());
  address = plain.StartDataTransport("127.0.0.1", "localhost", "x:1");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->rfind("tcp://localhost:", 0), 0u) << *address;
}

}  // namespace
}  // namespace sluice::network
