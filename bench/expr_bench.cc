// Micro-benchmarks of compiled expressions (common/expr) over 1024-row batches, each next to a
// hand-written loop computing the same column, so the ratio shows the cost of the tree.
//   bench/expr_bench --benchmark_filter=AmountGt
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/check.h"
#include "common/expr/expr.h"
#include "common/types/record_batch.h"
#include "common/types/schema.h"

namespace sluice::expr {
namespace {

using types::Column;
using types::RecordBatch;
using types::TypeId;

constexpr size_t kRows = 1024;

const types::SchemaPtr& BenchSchema() {
  static const types::SchemaPtr schema = std::make_shared<types::Schema>(
      std::vector<types::Field>{{"card", TypeId::kInt64},
                                {"amount", TypeId::kFloat64},
                                {"country", TypeId::kString}});
  return schema;
}

// Seeded: amounts in [0, 2000) with 5% nulls, cards in [0, 2000), countries from a few codes.
const RecordBatch& BenchBatch() {
  static const RecordBatch batch = [] {
    RecordBatch b(BenchSchema());
    std::mt19937_64 rng(42);
    const char* countries[] = {"NL", "DE", "FR", "US", "GB"};
    for (size_t r = 0; r < kRows; ++r) {
      b.mutable_column(0).AppendInt(static_cast<int64_t>(rng() % 2000));
      if (rng() % 20 == 0) {
        b.mutable_column(1).AppendNull();
      } else {
        b.mutable_column(1).AppendDouble(static_cast<double>(rng() % 200000) / 100.0);
      }
      b.mutable_column(2).AppendString(countries[rng() % 5]);
    }
    b.SetNumRows(kRows);
    return b;
  }();
  return batch;
}

std::unique_ptr<CompiledExpr> MustCompile(absl::string_view text) {
  auto compiled = Compile(text, *BenchSchema());
  SLUICE_CHECK(compiled.ok(), std::string(compiled.status().message()));
  return *std::move(compiled);
}

void Evaluate(benchmark::State& state, absl::string_view text) {
  auto expr = MustCompile(text);
  const RecordBatch& batch = BenchBatch();
  Column out(expr->result_type());
  for (auto _ : state) {
    absl::Status s = expr->Evaluate(batch, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.valid().data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_Expr_AmountGt1000(benchmark::State& state) { Evaluate(state, "amount > 1000"); }
BENCHMARK(BM_Expr_AmountGt1000);

// The same result column, written by hand.
void BM_Hand_AmountGt1000(benchmark::State& state) {
  const RecordBatch& batch = BenchBatch();
  Column out(TypeId::kBool);
  for (auto _ : state) {
    const Column& amount = batch.column(1);
    const size_t n = batch.num_rows();
    out.Clear();
    out.mutable_valid().resize(n);
    out.mutable_ints().resize(n);
    const double* a = amount.doubles().data();
    const uint8_t* v = amount.valid().data();
    int64_t* o = out.mutable_ints().data();
    uint8_t* ov = out.mutable_valid().data();
    for (size_t i = 0; i < n; ++i) {
      const bool ok = v[i] != 0;
      o[i] = ok && a[i] > 1000;
      ov[i] = ok;
    }
    benchmark::DoNotOptimize(out.valid().data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_Hand_AmountGt1000);

void BM_ExprPredicate_AmountGt1000(benchmark::State& state) {
  auto expr = MustCompile("amount > 1000");
  const RecordBatch& batch = BenchBatch();
  std::vector<uint8_t> keep;
  for (auto _ : state) {
    absl::Status s = expr->EvaluatePredicate(batch, &keep);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(keep.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_ExprPredicate_AmountGt1000);

void BM_HandPredicate_AmountGt1000(benchmark::State& state) {
  const RecordBatch& batch = BenchBatch();
  std::vector<uint8_t> keep;
  for (auto _ : state) {
    const Column& amount = batch.column(1);
    const size_t n = batch.num_rows();
    keep.resize(n);
    const double* a = amount.doubles().data();
    const uint8_t* v = amount.valid().data();
    uint8_t* k = keep.data();
    for (size_t i = 0; i < n; ++i) k[i] = (v[i] != 0) & (a[i] > 1000);
    benchmark::DoNotOptimize(keep.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_HandPredicate_AmountGt1000);

void BM_Expr_CardPlusOneTimesTwo(benchmark::State& state) { Evaluate(state, "(card + 1) * 2"); }
BENCHMARK(BM_Expr_CardPlusOneTimesTwo);

void BM_Expr_CountryNe(benchmark::State& state) { Evaluate(state, "country <> 'NL'"); }
BENCHMARK(BM_Expr_CountryNe);

void BM_Expr_AmountAndCountry(benchmark::State& state) {
  Evaluate(state, "amount > 1000 and country <> 'NL'");
}
BENCHMARK(BM_Expr_AmountAndCountry);

void BM_Expr_CountryIn(benchmark::State& state) { Evaluate(state, "country in ('NL', 'DE')"); }
BENCHMARK(BM_Expr_CountryIn);

void BM_Expr_LowerCountry(benchmark::State& state) { Evaluate(state, "lower(country) = 'nl'"); }
BENCHMARK(BM_Expr_LowerCountry);

void BM_Expr_Case(benchmark::State& state) {
  Evaluate(state, "case when amount > 1000 then 'big' when amount > 100 then 'mid' else 'small' end");
}
BENCHMARK(BM_Expr_Case);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    auto compiled = Compile("amount > 1000 and country <> 'NL' or lower(country) like 'f%'",
                            *BenchSchema());
    benchmark::DoNotOptimize(compiled);
  }
}
BENCHMARK(BM_Compile);

}  // namespace
}  // namespace sluice::expr

BENCHMARK_MAIN();
