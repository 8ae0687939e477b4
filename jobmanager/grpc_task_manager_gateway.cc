#include "jobmanager/grpc_task_manager_gateway.h"

#include <chrono>
#include <deque>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.grpc.pb.h"

namespace sluice::jobmanager {
namespace {

struct Call {
  enum class Kind { kSubmit, kCancel, kTrigger, kNotify };
  Kind kind = Kind::kSubmit;
  proto::TaskDeploymentDescriptor tdd;
  proto::CancelTaskRequest cancel;
  proto::TriggerCheckpointRequest trigger;
  proto::CheckpointNotification notify;
  proto::Ack response;
  grpc::ClientContext context;
  TaskManagerGateway::Callback done;
  std::string address;
  std::string tm_id;
};

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<proto::TaskManagerService::Stub> stub;
  std::deque<std::unique_ptr<Call>> queue;
  std::unique_ptr<Call> in_flight;
};

const char* RpcName(Call::Kind kind) {
  switch (kind) {
    case Call::Kind::kSubmit: return "SubmitTask";
    case Call::Kind::kCancel: return "CancelTasks";
    case Call::Kind::kTrigger: return "TriggerCheckpoint";
    case Call::Kind::kNotify: return "NotifyCheckpoint";
  }
  return "?";
}

absl::Status FromGrpc(const grpc::Status& s, const Call& call) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      absl::StrCat(RpcName(call.kind), " to TaskManager ", call.tm_id,
                   " (", call.address, "): ", s.error_message()));
}

}  // namespace

// Shared with the gRPC callbacks, so it outlives the gateway while calls complete.
struct GrpcTaskManagerGateway::Core : std::enable_shared_from_this<Core> {
  GrpcTaskManagerGatewayOptions options;
  absl::Mutex mu;
  bool shutdown ABSL_GUARDED_BY(mu) = false;
  int delivering ABSL_GUARDED_BY(mu) = 0;  // `done` callbacks running now
  absl::flat_hash_map<std::string, std::shared_ptr<Connection>> connections ABSL_GUARDED_BY(mu);

  std::shared_ptr<Connection> ConnectionFor(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& conn = connections[address];
    if (conn == nullptr) {
      conn = std::make_shared<Connection>();
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_size));
      args.SetMaxSendMessageSize(static_cast<int>(options.max_message_size));
      conn->channel = options.credentials.CreateChannel(address, std::move(args));
      conn->stub = proto::TaskManagerService::NewStub(conn->channel);
    }
    return conn;
  }

  void Enqueue(std::unique_ptr<Call> call) {
    std::shared_ptr<Connection> conn;
    Call* start = nullptr;
    {
      absl::MutexLock lock(&mu);
      if (shutdown) return;
      conn = ConnectionFor(call->address);
      if (conn->in_flight == nullptr) {
        conn->in_flight = std::move(call);
        start = conn->in_flight.get();
      } else {
        conn->queue.push_back(std::move(call));
      }
    }
    if (start != nullptr) Start(std::move(conn), start);
  }

  // Issues `call` (the connection's in-flight call); not under `mu`.
  void Start(std::shared_ptr<Connection> conn, Call* call) {
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(options.rpc_timeout_ms));
    auto self = shared_from_this();
    auto on_done = [self, conn, call](grpc::Status status) {
      self->OnDone(conn, call, std::move(status));
    };
    switch (call->kind) {
      case Call::Kind::kSubmit:
        conn->stub->async()->SubmitTask(&call->context, &call->tdd, &call->response, on_done);
        break;
      case Call::Kind::kCancel:
        conn->stub->async()->CancelTasks(&call->context, &call->cancel, &call->response, on_done);
        break;
      case Call::Kind::kTrigger:
        conn->stub->async()->TriggerCheckpoint(&call->context, &call->trigger, &call->response,
                                               on_done);
        break;
      case Call::Kind::kNotify:
        conn->stub->async()->NotifyCheckpoint(&call->context, &call->notify, &call->response,
                                              on_done);
        break;
    }
  }

  void OnDone(const std::shared_ptr<Connection>& conn, Call* call, grpc::Status status) {
    std::unique_ptr<Call> finished;
    Call* next = nullptr;
    bool deliver = false;
    {
      absl::MutexLock lock(&mu);
      finished = std::move(conn->in_flight);
      if (!shutdown && !conn->queue.empty()) {
        conn->in_flight = std::move(conn->queue.front());
        conn->queue.pop_front();
        next = conn->in_flight.get();
      }
      deliver = !shutdown;
      if (deliver) ++delivering;
    }
    if (deliver) {
      finished->done(FromGrpc(status, *finished));
      absl::MutexLock lock(&mu);
      --delivering;
    }
    if (next != nullptr) Start(conn, next);
  }

  void Shutdown() {
    absl::MutexLock lock(&mu);
    if (!shutdown) {
      shutdown = true;
      for (auto& [address, conn] : connections) {
        conn->queue.clear();
        if (conn->in_flight != nullptr) conn->in_flight->context.TryCancel();
      }
    }
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &delivering));
  }
};

GrpcTaskManagerGateway::GrpcTaskManagerGateway(GrpcTaskManagerGatewayOptions options)
    : core_(std::make_shared<Core>()) {
  core_->options = options;
}

GrpcTaskManagerGateway::~GrpcTaskManagerGateway() { Shutdown(); }

void GrpcTaskManagerGateway::Shutdown() { core_->Shutdown(); }

namespace {

// A call of `kind` to `tm` reporting to `done`; the caller sets its request.
std::unique_ptr<Call> NewCall(Call::Kind kind, const TaskManagerLocation& tm,
                              TaskManagerGateway::Callback done) {
  auto call = std::make_unique<Call>();
  call->kind = kind;
  call->done = std::move(done);
  call->address = tm.control_address;
  call->tm_id = tm.tm_id;
  return call;
}

}  // namespace

void GrpcTaskManagerGateway::SubmitTask(const TaskManagerLocation& tm,
                                        proto::TaskDeploymentDescriptor tdd, Callback done) {
  auto call = NewCall(Call::Kind::kSubmit, tm, std::move(done));
  call->tdd = std::move(tdd);
  core_->Enqueue(std::move(call));
}

void GrpcTaskManagerGateway::CancelTasks(const TaskManagerLocation& tm,
                                         proto::CancelTaskRequest request, Callback done) {
  auto call = NewCall(Call::Kind::kCancel, tm, std::move(done));
  call->cancel = std::move(request);
  core_->Enqueue(std::move(call));
}

void GrpcTaskManagerGateway::TriggerCheckpoint(const TaskManagerLocation& tm,
                                               proto::TriggerCheckpointRequest request,
                                               Callback done) {
  auto call = NewCall(Call::Kind::kTrigger, tm, std::move(done));
  call->trigger = std::move(request);
  core_->Enqueue(std::move(call));
}

void GrpcTaskManagerGateway::NotifyCheckpoint(const TaskManagerLocation& tm,
                                              proto::CheckpointNotification request,
                                              Callback done) {
  auto call = NewCall(Call::Kind::kNotify, tm, std::move(done));
  call->notify = std::move(request);
  core_->Enqueue(std::move(call));
}

}  // namespace sluice::jobmanager
