// Print and blackhole sinks, and the source/sink factories that dispatch on spec kinds.
#include <cstdio>

#include "gtest/gtest.h"
#include "taskmanager/connectors/blackhole_sink.h"
#include "taskmanager/connectors/print_sink.h"
#include "taskmanager/connectors/sink_factory.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {
namespace {

class NoOutput : public Collector {
 public:
  absl::Status Collect(types::RecordBatch&) override { return absl::OkStatus(); }
};

types::SchemaPtr TheSchema() {
  return std::make_shared<types::Schema>(std::vector<types::Field>{
      {"card", types::TypeId::kInt64}, {"amount", types::TypeId::kFloat64}});
}

types::RecordBatch Rows(int n) {
  types::RecordBatch batch(TheSchema());
  for (int i = 0; i < n; ++i) {
    batch.mutable_column(0).AppendInt(i);
    if (i == 1) {
      batch.mutable_column(1).AppendNull();
    } else {
      batch.mutable_column(1).AppendDouble(i + 0.5);
    }
  }
  batch.SetNumRows(n);
  return batch;
}

proto::OperatorSpec SinkSpec(const std::string& name) {
  proto::OperatorSpec spec;
  spec.set_name(name);
  *spec.mutable_input_schema() = TheSchema()->ToProto();
  return spec;
}

TEST(ConnectorsSinksTest, PrintSinkWritesNamedSubtaskLinesOfJson) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  proto::OperatorSpec spec = SinkSpec("out");
  spec.mutable_print_sink();
  auto sink = PrintSink::Create(spec, f);
  ASSERT_TRUE(sink.ok());
  OperatorContext ctx;
  ctx.subtask = 2;
  ASSERT_TRUE((*sink)->Open(ctx).ok());
  NoOutput out;
  types::RecordBatch batch = Rows(3);
  ASSERT_TRUE((*sink)->ProcessBatch(0, batch, out).ok());
  std::rewind(f);
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n),
            "out[2]> {\"card\":0,\"amount\":0.5}\n"
            "out[2]> {\"card\":1,\"amount\":null}\n"
            "out[2]> {\"card\":2,\"amount\":2.5}\n");
}

TEST(ConnectorsSinksTest, BlackholeCountsRows) {
  proto::OperatorSpec spec = SinkSpec("drop");
  spec.mutable_blackhole_sink();
  auto sink = BlackholeSink::Create(spec);
  ASSERT_TRUE(sink->Open(OperatorContext()).ok());
  NoOutput out;
  for (int i = 0; i < 3; ++i) {
    types::RecordBatch batch = Rows(10);
    ASSERT_TRUE(sink->ProcessBatch(0, batch, out).ok());
  }
  EXPECT_EQ(sink->rows(), 30);
}

TEST(ConnectorsSinksTest, ThrottledBlackholeTakesRowsAtItsPace) {
  ManualClock clock;
  int64_t slept = 0;
  proto::OperatorSpec spec = SinkSpec("slow");
  spec.mutable_blackhole_sink()->set_rows_per_second(2000);  // 1000 rows/s per subtask
  auto sink = BlackholeSink::Create(spec, [&](int64_t ms) {
    EXPECT_LE(ms, 50);
    slept += ms;
    clock.Advance(ms);
  });
  OperatorContext ctx;
  ctx.parallelism = 2;
  ctx.clock = &clock;
  ASSERT_TRUE(sink->Open(ctx).ok());
  NoOutput out;
  for (int i = 0; i < 5; ++i) {
    types::RecordBatch batch = Rows(1000);
    ASSERT_TRUE(sink->ProcessBatch(0, batch, out).ok());
  }
  EXPECT_EQ(slept, 5000);  // 5000 rows at 1 row/ms
  EXPECT_EQ(sink->rows(), 5000);

  // Cancellation ends the wait.
  std::atomic<bool> canceled{true};
  ctx.canceled = &canceled;
  auto canceled_sink = BlackholeSink::Create(spec, [&](int64_t ms) { clock.Advance(ms); });
  ASSERT_TRUE(canceled_sink->Open(ctx).ok());
  int64_t before = clock.NowMillis();
  types::RecordBatch batch = Rows(1000);
  ASSERT_TRUE(canceled_sink->ProcessBatch(0, batch, out).ok());
  EXPECT_EQ(clock.NowMillis(), before);
}

TEST(ConnectorsSinksTest, FactoriesDispatchOnTheSpecKind) {
  proto::OperatorSpec file = SinkSpec("out");
  file.mutable_file_sink()->set_path("/tmp/x");
  file.mutable_file_sink()->mutable_format()->set_name("json");
  proto::OperatorSpec print = SinkSpec("p");
  print.mutable_print_sink();
  proto::OperatorSpec hole = SinkSpec("b");
  hole.mutable_blackhole_sink();
  proto::OperatorSpec filter = SinkSpec("f");
  filter.mutable_filter()->set_predicate("true");
  for (const auto* spec : {&file, &print, &hole}) {
    EXPECT_TRUE(IsSinkSpec(*spec));
    EXPECT_FALSE(IsSourceSpec(*spec));
    EXPECT_TRUE(CreateSink(*spec).ok()) << spec->name();
  }
  EXPECT_FALSE(IsSinkSpec(filter));
  EXPECT_EQ(CreateSink(filter).status().message(), "operator 'f' is not a sink");

  proto::OperatorSpec gen;
  gen.set_name("gen");
  gen.mutable_datagen_source()->set_count(1);
  *gen.mutable_output_schema() = TheSchema()->ToProto();
  proto::OperatorSpec src = gen;
  src.mutable_file_source()->set_path("/tmp/in");
  src.mutable_file_source()->mutable_format()->set_name("csv");
  for (const auto* spec : {&gen, &src}) {
    EXPECT_TRUE(IsSourceSpec(*spec));
    EXPECT_FALSE(IsSinkSpec(*spec));
    EXPECT_TRUE(CreateSource(*spec).ok()) << spec->name();
  }
  EXPECT_EQ(CreateSource(filter).status().message(), "operator 'f' is not a source");
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
