// Record format throughput: JSON lines, CSV, Avro, Protobuf and the Confluent wire formats
// (against Sluice's schema registry, in this process on a free port: the ids are looked up
// once, then cached) decode/encode of a typical transaction row, next to a bare simdjson loop (parse each line, read the four fields by key) in the same
// binary as the speed reference. Items = records.
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "benchmark/benchmark.h"
#include "common/schema_registry/registry_server.h"
#include "common/types/format.h"
#include "simdjson.h"

namespace sluice::types {
namespace {

constexpr int kLines = 1024;

SchemaPtr TxnSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"card", TypeId::kInt64},
                                                     {"amount", TypeId::kFloat64},
                                                     {"country", TypeId::kString},
                                                     {"ts", TypeId::kTimestamp}});
}

RecordBatch TxnBatch() {
  std::mt19937_64 rng(1);
  const char* countries[] = {"NL", "DE", "FR", "BE", "United Kingdom"};
  RecordBatch batch(TxnSchema());
  for (int i = 0; i < kLines; ++i) {
    batch.mutable_column(0).AppendInt(static_cast<int64_t>(rng() % 100000));
    batch.mutable_column(1).AppendDouble(static_cast<double>(rng() % 1000000) / 100);
    batch.mutable_column(2).AppendString(countries[rng() % 5]);
    batch.mutable_column(3).AppendInt(1'795'000'000'000'000 +
                                      static_cast<int64_t>(rng() % 1'000'000'000));
  }
  batch.SetNumRows(kLines);
  return batch;
}

struct Text {
  std::string data;
  std::vector<absl::string_view> lines;
};

// The records of TxnBatch() in `format`, split where the encoder says each one ends.
// The registry the Confluent formats use: started once, on a free port.
const std::string& RegistryUrl() {
  static const std::string url = [] {
    schema_registry::SchemaRegistryServerOptions options;
    options.port = 0;
    options.dir = std::filesystem::temp_directory_path() / ("sluice-bench-registry-" + std::to_string(getpid()));
    std::filesystem::remove_all(options.dir);
    static auto server = schema_registry::SchemaRegistryServer::Start(options);
    if (!server.ok()) {
      std::fprintf(stderr, "format_bench: %s\n", server.status().ToString().c_str());
      std::exit(1);
    }
    return (*server)->url();
  }();
  return url;
}

proto::FormatSpec SpecOf(const std::string& format) {
  proto::FormatSpec spec;
  spec.set_name(format);
  if (absl::EndsWith(format, "-confluent")) {
    (*spec.mutable_options())["registry"] = RegistryUrl();
    (*spec.mutable_options())["subject"] = "bench-" + format;
  }
  return spec;
}

Text Encoded(const std::string& format) {
  proto::FormatSpec spec = SpecOf(format);
  Text t;
  auto encoder = *MakeEncoder(spec, TxnSchema());
  std::vector<size_t> ends;
  encoder->EncodeBatch(TxnBatch(), &t.data, &ends);
  size_t start = 0;
  for (size_t end : ends) {
    t.lines.push_back(absl::string_view(t.data).substr(start, end - start));
    start = end + (encoder->newline_terminated() ? 1 : 0);
  }
  return t;
}

void Decode(benchmark::State& state, const std::string& format) {
  Text text = Encoded(format);
  proto::FormatSpec spec = SpecOf(format);
  auto decoder = *MakeDecoder(spec, TxnSchema());
  RecordBatch out(TxnSchema());
  std::vector<DecodeError> errors;
  for (auto _ : state) {
    out.Clear();
    decoder->DecodeLines(text.lines, &out, &errors);
    benchmark::DoNotOptimize(out.num_rows());
  }
  if (!errors.empty() || out.num_rows() != kLines) state.SkipWithError("decode failed");
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * text.data.size());
}

void Encode(benchmark::State& state, const std::string& format) {
  proto::FormatSpec spec = SpecOf(format);
  auto encoder = *MakeEncoder(spec, TxnSchema());
  RecordBatch batch = TxnBatch();
  std::string out;
  for (auto _ : state) {
    out.clear();
    encoder->EncodeBatch(batch, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * out.size());
}

void BM_JsonDecode(benchmark::State& state) { Decode(state, "json"); }
void BM_CsvDecode(benchmark::State& state) { Decode(state, "csv"); }
void BM_JsonEncode(benchmark::State& state) { Encode(state, "json"); }
void BM_CsvEncode(benchmark::State& state) { Encode(state, "csv"); }
void BM_AvroDecode(benchmark::State& state) { Decode(state, "avro"); }
void BM_AvroEncode(benchmark::State& state) { Encode(state, "avro"); }
void BM_AvroConfluentDecode(benchmark::State& state) { Decode(state, "avro-confluent"); }
void BM_AvroConfluentEncode(benchmark::State& state) { Encode(state, "avro-confluent"); }
void BM_ProtobufDecode(benchmark::State& state) { Decode(state, "protobuf"); }
void BM_ProtobufEncode(benchmark::State& state) { Encode(state, "protobuf"); }
void BM_ProtobufConfluentDecode(benchmark::State& state) { Decode(state, "protobuf-confluent"); }
void BM_ProtobufConfluentEncode(benchmark::State& state) { Encode(state, "protobuf-confluent"); }

// The reference: simdjson DOM over the same lines (each copied into a padded buffer, as the
// decoder must), reading the four fields by key, no RecordBatch.
void BM_BareSimdjsonDom(benchmark::State& state) {
  Text text = Encoded("json");
  simdjson::dom::parser parser;
  std::vector<char> buf(4096 + simdjson::SIMDJSON_PADDING);
  int64_t sum = 0;
  for (auto _ : state) {
    for (absl::string_view line : text.lines) {
      std::memcpy(buf.data(), line.data(), line.size());
      simdjson::dom::element doc;
      if (parser.parse(buf.data(), line.size(), false).get(doc)) continue;
      simdjson::dom::object obj = doc.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair kv : obj) {
        sum += static_cast<int64_t>(kv.key.size());
        if (kv.value.is_int64()) sum += kv.value.get_int64().value_unsafe();
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * text.data.size());
}

BENCHMARK(BM_JsonDecode);
BENCHMARK(BM_BareSimdjsonDom);
BENCHMARK(BM_CsvDecode);
BENCHMARK(BM_JsonEncode);
BENCHMARK(BM_CsvEncode);
BENCHMARK(BM_AvroDecode);
BENCHMARK(BM_AvroEncode);
BENCHMARK(BM_AvroConfluentDecode);
BENCHMARK(BM_AvroConfluentEncode);
BENCHMARK(BM_ProtobufDecode);
BENCHMARK(BM_ProtobufEncode);
BENCHMARK(BM_ProtobufConfluentDecode);
BENCHMARK(BM_ProtobufConfluentEncode);

}  // namespace
}  // namespace sluice::types

BENCHMARK_MAIN();
