#include "common/expr/nodes.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/check.h"
#include "common/types/timestamp.h"

namespace sluice::expr {

using types::Column;
using types::RecordBatch;
using types::TypeId;

// ---------------------------------------------------------------------------------------------
// Values and scratch

Value ValueAt(const Column& column, size_t row) {
  TypeId t = column.type();
  if (column.IsNull(row)) return Value::Null(t);
  if (types::IsIntegerStored(t)) return Value::Int(t, column.Int(row));
  if (t == TypeId::kFloat64) return Value::Double(column.Double(row));
  return Value::String(t, std::string(column.Str(row)));
}

void AppendValue(const Value& v, size_t count, Column* column) {
  const size_t old = column->size();
  TypeId t = column->type();
  if (types::IsStringStored(t)) {
    for (size_t i = 0; i < count; ++i) {
      if (v.is_null) {
        column->AppendNull();
      } else {
        column->AppendString(v.s);
      }
    }
    return;
  }
  column->mutable_valid().resize(old + count, v.is_null ? 0 : 1);
  if (types::IsIntegerStored(t)) {
    column->mutable_ints().resize(old + count, v.is_null ? 0 : v.i);
  } else {
    column->mutable_doubles().resize(old + count, v.is_null ? 0 : v.d);
  }
}

Column* EvalScratch::NewColumn(TypeId type) {
  columns_.push_back(std::make_unique<Column>(type));
  return columns_.back().get();
}

const Column& Node::EvalRef(const RecordBatch& batch, EvalScratch* scratch) const {
  Column* c = scratch->NewColumn(type());
  Eval(batch, scratch, c);
  return *c;
}

void Node::EvalPredicate(const RecordBatch& batch, EvalScratch* scratch, uint8_t* keep) const {
  const Column& c = EvalRef(batch, scratch);
  const size_t n = batch.num_rows();
  const uint8_t* valid = c.valid().data();
  const int64_t* v = c.ints().data();
  for (size_t i = 0; i < n; ++i) keep[i] = (valid[i] != 0) & (v[i] != 0);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Column helpers

template <class T>
T* Prepare(Column* out, size_t n, uint8_t** valid);

template <>
int64_t* Prepare<int64_t>(Column* out, size_t n, uint8_t** valid) {
  out->Clear();
  out->mutable_valid().resize(n);
  out->mutable_ints().resize(n);
  *valid = out->mutable_valid().data();
  return out->mutable_ints().data();
}

template <>
double* Prepare<double>(Column* out, size_t n, uint8_t** valid) {
  out->Clear();
  out->mutable_valid().resize(n);
  out->mutable_doubles().resize(n);
  *valid = out->mutable_valid().data();
  return out->mutable_doubles().data();
}

void FillNull(Column* out, size_t n) {
  out->Clear();
  AppendValue(Value::Null(out->type()), n, out);
}

// Appends row `row` of a string-stored column built by writing bytes into chars() directly.
class StrOut {
 public:
  StrOut(Column* c, size_t rows) : c_(c) {
    c_->Clear();
    c_->mutable_valid().reserve(rows);
    c_->mutable_offsets().reserve(rows + 1);
  }
  std::string& chars() { return c_->mutable_chars(); }
  void Append(absl::string_view s) { chars().append(s.data(), s.size()); }
  // Ends a row whose bytes were appended to chars().
  void EndRow() {
    c_->mutable_valid().push_back(1);
    c_->mutable_offsets().push_back(static_cast<uint32_t>(c_->chars().size()));
  }
  void Null() { c_->AppendNull(); }

 private:
  Column* c_;
};

// A node's values for generic (non-hot) loops: a constant is read as a scalar, never
// materialized into a column.
class Arg {
 public:
  Arg(const Node& node, const RecordBatch& batch, EvalScratch* scratch)
      : k_(node.constant()), c_(k_ ? nullptr : &node.EvalRef(batch, scratch)) {}
  bool IsNull(size_t r) const { return k_ ? k_->is_null : c_->IsNull(r); }
  int64_t Int(size_t r) const { return k_ ? k_->i : c_->Int(r); }
  double Double(size_t r) const { return k_ ? k_->d : c_->Double(r); }
  absl::string_view Str(size_t r) const { return k_ ? absl::string_view(k_->s) : c_->Str(r); }
  bool IsTrue(size_t r) const { return !IsNull(r) && Int(r) != 0; }

 private:
  const Value* k_;
  const Column* c_;
};

// Appends row r of `a` (same type as `out`).
void AppendArg(const Arg& a, size_t r, Column* out) {
  if (a.IsNull(r)) {
    out->AppendNull();
  } else if (types::IsIntegerStored(out->type())) {
    out->AppendInt(a.Int(r));
  } else if (out->type() == TypeId::kFloat64) {
    out->AppendDouble(a.Double(r));
  } else {
    out->AppendString(a.Str(r));
  }
}

// ---------------------------------------------------------------------------------------------
// Readers for the vectorized binary kernels

template <class T>
struct VecIn {
  const T* p;
  T operator[](size_t i) const { return p[i]; }
};
struct StrIn {
  const uint32_t* off;
  const char* chars;
  absl::string_view operator[](size_t i) const {
    return absl::string_view(chars + off[i], off[i + 1] - off[i]);
  }
};
template <class T>
struct ScalarIn {
  T v;
  T operator[](size_t) const { return v; }
};

template <class T>
struct In;
template <>
struct In<int64_t> {
  using Vec = VecIn<int64_t>;
  static Vec Of(const Column& c) { return {c.ints().data()}; }
  static int64_t Scalar(const Value& v) { return v.i; }
};
template <>
struct In<double> {
  using Vec = VecIn<double>;
  static Vec Of(const Column& c) { return {c.doubles().data()}; }
  static double Scalar(const Value& v) { return v.d; }
};
template <>
struct In<absl::string_view> {
  using Vec = StrIn;
  static Vec Of(const Column& c) { return {c.offsets().data(), c.chars().data()}; }
  static absl::string_view Scalar(const Value& v) { return v.s; }
};

struct AllValid {
  uint8_t operator[](size_t) const { return 1; }
};
struct OneValid {
  const uint8_t* p;
  uint8_t operator[](size_t i) const { return p[i] != 0; }
};
struct BothValid {
  const uint8_t* a;
  const uint8_t* b;
  uint8_t operator[](size_t i) const { return (a[i] != 0) & (b[i] != 0); }
};

// Wrapping (two's complement) integer arithmetic: no undefined behaviour on overflow.
inline int64_t Wrap(uint64_t v) { return static_cast<int64_t>(v); }
inline uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

struct AddOp {
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return Wrap(U(a) + U(b));
    } else {
      return a + b;
    }
  }
  template <class T>
  static bool Valid(T, T) { return true; }
};
struct SubOp {
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return Wrap(U(a) - U(b));
    } else {
      return a - b;
    }
  }
  template <class T>
  static bool Valid(T, T) { return true; }
};
struct MulOp {
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return Wrap(U(a) * U(b));
    } else {
      return a * b;
    }
  }
  template <class T>
  static bool Valid(T, T) { return true; }
};
struct DivOp {
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if (b == -1) return Wrap(0 - U(a));  // INT64_MIN / -1 would trap
      return a / b;
    } else {
      return b == 0 ? 0 : a / b;
    }
  }
  template <class T>
  static bool Valid(T, T b) { return b != 0; }
};
struct ModOp {
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0 || b == -1) return 0;
      return a % b;
    } else {
      return b == 0 ? 0 : std::fmod(a, b);
    }
  }
  template <class T>
  static bool Valid(T, T b) { return b != 0; }
};

#define SLUICE_CMP_OP(Name, expr)                \
  struct Name {                                  \
    template <class T>                           \
    static int64_t Apply(T a, T b) {             \
      return (expr) ? 1 : 0;                     \
    }                                            \
    template <class T>                           \
    static bool Valid(T, T) { return true; }     \
  };
SLUICE_CMP_OP(EqOp, a == b)
SLUICE_CMP_OP(NeOp, a != b)
SLUICE_CMP_OP(LtOp, a < b)
SLUICE_CMP_OP(LeOp, a <= b)
SLUICE_CMP_OP(GtOp, a > b)
SLUICE_CMP_OP(GeOp, a >= b)
#undef SLUICE_CMP_OP

// The one loop of every arithmetic and comparison: branch-free, so the compiler vectorizes
// the numeric cases. Invalid rows hold 0.
template <class Op, class OutT, class L, class R, class V>
void RunBinary(size_t n, L l, R r, V v, OutT* __restrict o, uint8_t* __restrict ov) {
  for (size_t i = 0; i < n; ++i) {
    const auto a = l[i];
    const auto b = r[i];
    const bool ok = v[i] & static_cast<uint8_t>(Op::Valid(a, b));
    const OutT x = Op::Apply(a, b);
    o[i] = ok ? x : OutT();
    ov[i] = ok;
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes

class ConstNode final : public Node {
 public:
  explicit ConstNode(Value v) : Node(v.type), v_(std::move(v)) {}
  void Eval(const RecordBatch& batch, EvalScratch*, Column* out) const override {
    out->Clear();
    AppendValue(v_, batch.num_rows(), out);
  }
  const Value* constant() const override { return &v_; }

 private:
  Value v_;
};

class ColumnNode final : public Node {
 public:
  ColumnNode(int index, TypeId type) : Node(type), index_(index) {}
  void Eval(const RecordBatch& batch, EvalScratch*, Column* out) const override {
    *out = batch.column(index_);
  }
  const Column& EvalRef(const RecordBatch& batch, EvalScratch*) const override {
    return batch.column(index_);
  }
  int column_index() const override { return index_; }

 private:
  int index_;
};

template <class Op, class T, class OutT>
class BinaryNode final : public Node {
 public:
  BinaryNode(TypeId type, NodePtr l, NodePtr r) : Node(type), l_(std::move(l)), r_(std::move(r)) {}

  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    if (HasNullConstant()) return FillNull(out, n);
    Dispatch(batch, scratch, [&](auto l, auto r, auto v) {
      uint8_t* ov;
      OutT* o = Prepare<OutT>(out, n, &ov);
      RunBinary<Op>(n, l, r, v, o, ov);
    });
  }

  void EvalPredicate(const RecordBatch& batch, EvalScratch* scratch,
                     uint8_t* keep) const override {
    const size_t n = batch.num_rows();
    if (type() != TypeId::kBool || HasNullConstant()) {
      return Node::EvalPredicate(batch, scratch, keep);
    }
    Dispatch(batch, scratch, [&](auto l, auto r, auto v) {
      for (size_t i = 0; i < n; ++i) {
        const auto a = l[i];
        const auto b = r[i];
        keep[i] = v[i] & static_cast<uint8_t>(Op::Valid(a, b)) &
                  static_cast<uint8_t>(Op::Apply(a, b) != 0);
      }
    });
  }

 private:
  bool HasNullConstant() const {
    const Value* lk = l_->constant();
    const Value* rk = r_->constant();
    return (lk && lk->is_null) || (rk && rk->is_null);
  }

  // Calls fn(left reader, right reader, validity reader) with the readers that fit the
  // operands: a column or a scalar on each side.
  template <class Fn>
  void Dispatch(const RecordBatch& batch, EvalScratch* scratch, Fn&& fn) const {
    using I = In<T>;
    const Value* lk = l_->constant();
    const Value* rk = r_->constant();
    const Column* lc = lk ? nullptr : &l_->EvalRef(batch, scratch);
    const Column* rc = rk ? nullptr : &r_->EvalRef(batch, scratch);
    if (lc && rc) {
      fn(I::Of(*lc), I::Of(*rc), BothValid{lc->valid().data(), rc->valid().data()});
    } else if (lc) {
      fn(I::Of(*lc), ScalarIn<T>{I::Scalar(*rk)}, OneValid{lc->valid().data()});
    } else if (rc) {
      fn(ScalarIn<T>{I::Scalar(*lk)}, I::Of(*rc), OneValid{rc->valid().data()});
    } else {
      fn(ScalarIn<T>{I::Scalar(*lk)}, ScalarIn<T>{I::Scalar(*rk)}, AllValid{});
    }
  }

  NodePtr l_, r_;
};

template <class Op>
NodePtr MakeArithT(NodePtr l, NodePtr r, TypeId result) {
  if (l->type() == TypeId::kFloat64) {
    return std::make_shared<BinaryNode<Op, double, double>>(result, std::move(l), std::move(r));
  }
  return std::make_shared<BinaryNode<Op, int64_t, int64_t>>(result, std::move(l), std::move(r));
}

template <class Op>
NodePtr MakeCompareT(NodePtr l, NodePtr r) {
  TypeId t = l->type();
  if (types::IsIntegerStored(t)) {
    return std::make_shared<BinaryNode<Op, int64_t, int64_t>>(TypeId::kBool, std::move(l),
                                                              std::move(r));
  }
  if (t == TypeId::kFloat64) {
    return std::make_shared<BinaryNode<Op, double, int64_t>>(TypeId::kBool, std::move(l),
                                                             std::move(r));
  }
  return std::make_shared<BinaryNode<Op, absl::string_view, int64_t>>(TypeId::kBool, std::move(l),
                                                                      std::move(r));
}

class NegateNode final : public Node {
 public:
  explicit NegateNode(NodePtr child) : Node(child->type()), child_(std::move(child)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& c = child_->EvalRef(batch, scratch);
    uint8_t* ov;
    if (type() == TypeId::kFloat64) {
      double* o = Prepare<double>(out, n, &ov);
      const double* x = c.doubles().data();
      for (size_t i = 0; i < n; ++i) o[i] = -x[i];
    } else {
      int64_t* o = Prepare<int64_t>(out, n, &ov);
      const int64_t* x = c.ints().data();
      for (size_t i = 0; i < n; ++i) o[i] = Wrap(0 - U(x[i]));
    }
    std::copy_n(c.valid().data(), n, ov);
  }

 private:
  NodePtr child_;
};

class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr child) : Node(TypeId::kBool), child_(std::move(child)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& c = child_->EvalRef(batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    const int64_t* x = c.ints().data();
    const uint8_t* v = c.valid().data();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t ok = v[i] != 0;
      o[i] = ok & (x[i] == 0);
      ov[i] = ok;
    }
  }

 private:
  NodePtr child_;
};

// and: false if either side is false, true if both are true, else null.
// or: true if either side is true, false if both are false, else null.
template <bool kIsAnd>
class LogicNode final : public Node {
 public:
  LogicNode(NodePtr l, NodePtr r) : Node(TypeId::kBool), l_(std::move(l)), r_(std::move(r)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& lc = l_->EvalRef(batch, scratch);
    const Column& rc = r_->EvalRef(batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    const int64_t* a = lc.ints().data();
    const int64_t* b = rc.ints().data();
    const uint8_t* va = lc.valid().data();
    const uint8_t* vb = rc.valid().data();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t ka = va[i] != 0, kb = vb[i] != 0;
      const uint8_t ta = ka & (a[i] != 0), tb = kb & (b[i] != 0);  // known true
      if constexpr (kIsAnd) {
        const uint8_t fa = ka & !ta, fb = kb & !tb;  // known false
        ov[i] = (ka & kb) | fa | fb;
        o[i] = ta & tb;
      } else {
        ov[i] = (ka & kb) | ta | tb;
        o[i] = ta | tb;
      }
    }
  }


  // A row is kept when both sides (and) or either side (or) are true: null and false rows are
  // dropped alike, so each side can be reduced to its own keep bytes first.
  void EvalPredicate(const RecordBatch& batch, EvalScratch* scratch,
                     uint8_t* keep) const override {
    const size_t n = batch.num_rows();
    l_->EvalPredicate(batch, scratch, keep);
    std::vector<uint8_t> other(n);
    r_->EvalPredicate(batch, scratch, other.data());
    const uint8_t* b = other.data();
    if constexpr (kIsAnd) {
      for (size_t i = 0; i < n; ++i) keep[i] &= b[i];
    } else {
      for (size_t i = 0; i < n; ++i) keep[i] |= b[i];
    }
  }
 private:
  NodePtr l_, r_;
};

class IsNullNode final : public Node {
 public:
  IsNullNode(NodePtr child, bool negated)
      : Node(TypeId::kBool), child_(std::move(child)), negated_(negated) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& c = child_->EvalRef(batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    const uint8_t* v = c.valid().data();
    const uint8_t want_valid = negated_ ? 1 : 0;
    for (size_t i = 0; i < n; ++i) o[i] = (v[i] != 0) == want_valid;
    std::fill_n(ov, n, 1);
  }

 private:
  NodePtr child_;
  bool negated_;
};

class CastNode final : public Node {
 public:
  CastNode(NodePtr child, TypeId to) : Node(to), child_(std::move(child)) {}

  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const TypeId from = child_->type();
    const TypeId to = type();
    if (from == TypeId::kInt64 && to == TypeId::kFloat64 && !child_->constant()) {
      const Column& c = child_->EvalRef(batch, scratch);  // the numeric promotion: vectorized
      uint8_t* ov;
      double* o = Prepare<double>(out, n, &ov);
      const int64_t* x = c.ints().data();
      for (size_t i = 0; i < n; ++i) o[i] = static_cast<double>(x[i]);
      std::copy_n(c.valid().data(), n, ov);
      return;
    }
    Arg a(*child_, batch, scratch);
    out->Clear();
    if (types::IsStringStored(to)) {
      StrOut so(out, n);
      for (size_t r = 0; r < n; ++r) {
        if (a.IsNull(r)) {
          so.Null();
          continue;
        }
        AppendAsString(a, r, from, &so.chars());
        so.EndRow();
      }
      return;
    }
    out->Reserve(n);
    for (size_t r = 0; r < n; ++r) {
      if (a.IsNull(r)) {
        out->AppendNull();
        continue;
      }
      switch (to) {
        case TypeId::kFloat64: {
          double d;
          if (from == TypeId::kFloat64) {
            out->AppendDouble(a.Double(r));
          } else if (types::IsIntegerStored(from)) {
            out->AppendDouble(static_cast<double>(a.Int(r)));
          } else if (absl::SimpleAtod(a.Str(r), &d)) {
            out->AppendDouble(d);
          } else {
            out->AppendNull();
          }
          break;
        }
        case TypeId::kInt64: {
          int64_t v;
          if (types::IsIntegerStored(from)) {
            out->AppendInt(a.Int(r));
          } else if (from == TypeId::kFloat64) {
            double d = a.Double(r);
            // [-2^63, 2^63): the doubles whose truncation fits in int64 (NaN fails both).
            if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
              out->AppendInt(static_cast<int64_t>(d));
            } else {
              out->AppendNull();
            }
          } else if (absl::SimpleAtoi(a.Str(r), &v)) {
            out->AppendInt(v);
          } else {
            out->AppendNull();
          }
          break;
        }
        case TypeId::kBool: {
          bool b;
          if (types::IsIntegerStored(from)) {
            out->AppendInt(a.Int(r) != 0);
          } else if (from == TypeId::kFloat64) {
            out->AppendInt(a.Double(r) != 0);
          } else if (absl::SimpleAtob(a.Str(r), &b)) {
            out->AppendInt(b);
          } else {
            out->AppendNull();
          }
          break;
        }
        case TypeId::kTimestamp: {
          if (types::IsIntegerStored(from)) {
            out->AppendInt(a.Int(r));
          } else {
            absl::StatusOr<int64_t> ts = types::ParseTimestamp(a.Str(r));
            if (ts.ok()) {
              out->AppendInt(*ts);
            } else {
              out->AppendNull();
            }
          }
          break;
        }
        default: SLUICE_CHECK(false, "unreachable cast target");
      }
    }
  }

 private:
  // UTC, six fractional digits, trailing Z, like types::FormatTimestamp, without allocating.
  static void AppendTimestampText(int64_t micros, std::string* out) {
    constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
    int64_t days = micros / kMicrosPerDay;
    int64_t rem = micros % kMicrosPerDay;
    if (rem < 0) {
      rem += kMicrosPerDay;
      --days;
    }
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    if (y < 1000 || y > 9999) return types::AppendTimestamp(micros, out);
    int64_t secs = rem / 1000000, frac = rem % 1000000;
    char buf[27];
    auto put = [&buf](int pos, int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i) {
        buf[pos + i] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
    };
    put(0, y, 4);
    buf[4] = '-';
    put(5, m, 2);
    buf[7] = '-';
    put(8, d, 2);
    buf[10] = 'T';
    put(11, secs / 3600, 2);
    buf[13] = ':';
    put(14, secs / 60 % 60, 2);
    buf[16] = ':';
    put(17, secs % 60, 2);
    buf[19] = '.';
    put(20, frac, 6);
    buf[26] = 'Z';
    out->append(buf, sizeof(buf));
  }

  static void AppendAsString(const Arg& a, size_t r, TypeId from, std::string* out) {
    char buf[64];
    switch (from) {
      case TypeId::kBool: out->append(a.Int(r) ? "true" : "false"); return;
      case TypeId::kInt64: {
        auto res = std::to_chars(buf, buf + sizeof(buf), a.Int(r));
        out->append(buf, res.ptr - buf);
        return;
      }
      case TypeId::kFloat64: {
        auto res = std::to_chars(buf, buf + sizeof(buf), a.Double(r));  // shortest round trip
        out->append(buf, res.ptr - buf);
        return;
      }
      case TypeId::kTimestamp: AppendTimestampText(a.Int(r), out); return;
      case TypeId::kString:
      case TypeId::kBytes: {
        absl::string_view s = a.Str(r);
        out->append(s.data(), s.size());
        return;
      }
    }
  }

  NodePtr child_;
};

class InSetNode final : public Node {
 public:
  InSetNode(NodePtr child, std::vector<Value> items, bool list_has_null)
      : Node(TypeId::kBool), child_(std::move(child)), list_has_null_(list_has_null) {
    for (Value& v : items) {
      if (types::IsIntegerStored(v.type)) {
        ints_.push_back(v.i);
      } else if (v.type == TypeId::kFloat64) {
        if (!std::isnan(v.d)) doubles_.push_back(v.d);  // NaN equals nothing
      } else {
        strings_.push_back(std::move(v.s));
      }
    }
    std::sort(ints_.begin(), ints_.end());
    std::sort(doubles_.begin(), doubles_.end());
    std::sort(strings_.begin(), strings_.end());
    for (const std::string& str : strings_) views_.emplace_back(str);  // strings_ is final now
  }

  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& c = child_->EvalRef(batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    const TypeId t = child_->type();
    if (types::IsIntegerStored(t)) {
      Probe(n, In<int64_t>::Of(c), ints_, c.valid().data(), o, ov);
    } else if (t == TypeId::kFloat64) {
      Probe(n, In<double>::Of(c), doubles_, c.valid().data(), o, ov);
    } else {
      Probe(n, In<absl::string_view>::Of(c), views_, c.valid().data(), o, ov);
    }
  }

 private:
  // Small lists are scanned, larger ones binary-searched (`set` is sorted).
  template <class Reader, class T>
  void Probe(size_t n, Reader x, const std::vector<T>& set, const uint8_t* valid, int64_t* o,
             uint8_t* ov) const {
    const bool scan = set.size() <= 8;
    for (size_t r = 0; r < n; ++r) {
      const T v = x[r];
      bool found = false;
      if (scan) {
        for (const T& item : set) found |= item == v;
      } else {
        found = std::binary_search(set.begin(), set.end(), v);
      }
      const bool ok = valid[r] != 0 && (found || !list_has_null_);
      o[r] = ok && found;
      ov[r] = ok;
    }
  }

  NodePtr child_;
  bool list_has_null_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string> strings_;
  std::vector<absl::string_view> views_;  // of strings_
};

// Length in bytes of the UTF-8 character starting at s[i] (1 for invalid bytes).
size_t CharLen(absl::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80                ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 1;
  return std::min(len, s.size() - i);
}

int64_t Utf8Length(absl::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

class LikeNode final : public Node {
 public:
  LikeNode(NodePtr child, NodePtr pattern)
      : Node(TypeId::kBool), child_(std::move(child)), pattern_(std::move(pattern)) {
    const Value* k = pattern_->constant();
    if (k == nullptr || k->is_null) return;
    const std::string& p = k->s;
    if (p.find_first_of("_\\") != std::string::npos) return;
    size_t first = p.find('%');
    if (first == std::string::npos) {
      kind_ = Kind::kExact;
      a_ = p;
      return;
    }
    size_t last = p.rfind('%');
    if (first == last) {  // a%b
      kind_ = Kind::kPrefixSuffix;
      a_ = p.substr(0, first);
      b_ = p.substr(first + 1);
      return;
    }
    if (first == 0 && last == p.size() - 1 && p.find('%', 1) == last) {  // %a%
      kind_ = Kind::kContains;
      a_ = p.substr(1, p.size() - 2);
    }
  }

  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*child_, batch, scratch);
    Arg p(*pattern_, batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r) || p.IsNull(r)) continue;  // Prepare zeroed value and validity
      absl::string_view v = s.Str(r);
      bool m;
      switch (kind_) {
        case Kind::kExact: m = v == a_; break;
        case Kind::kPrefixSuffix:
          m = v.size() >= a_.size() + b_.size() && absl::StartsWith(v, a_) &&
              absl::EndsWith(v, b_);
          break;
        case Kind::kContains: m = absl::StrContains(v, a_); break;
        default: m = LikeMatch(v, p.Str(r)); break;
      }
      o[r] = m;
      ov[r] = 1;
    }
  }

 private:
  enum class Kind { kGeneric, kExact, kPrefixSuffix, kContains };
  NodePtr child_, pattern_;
  Kind kind_ = Kind::kGeneric;
  std::string a_, b_;
};

class CaseNode final : public Node {
 public:
  CaseNode(std::vector<NodePtr> conditions, std::vector<NodePtr> values, NodePtr otherwise)
      : Node(otherwise->type()),
        conditions_(std::move(conditions)),
        values_(std::move(values)),
        otherwise_(std::move(otherwise)) {}

  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    std::vector<Arg> conds, values;
    conds.reserve(conditions_.size());
    values.reserve(values_.size());
    for (const NodePtr& c : conditions_) conds.emplace_back(*c, batch, scratch);
    for (const NodePtr& v : values_) values.emplace_back(*v, batch, scratch);
    Arg otherwise(*otherwise_, batch, scratch);
    out->Clear();
    out->Reserve(n);
    for (size_t r = 0; r < n; ++r) {
      const Arg* pick = &otherwise;
      for (size_t k = 0; k < conds.size(); ++k) {
        if (conds[k].IsTrue(r)) {
          pick = &values[k];
          break;
        }
      }
      AppendArg(*pick, r, out);
    }
  }

 private:
  std::vector<NodePtr> conditions_, values_;
  NodePtr otherwise_;
};

class CoalesceNode final : public Node {
 public:
  explicit CoalesceNode(std::vector<NodePtr> args)
      : Node(args.front()->type()), args_(std::move(args)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    std::vector<Arg> args;
    args.reserve(args_.size());
    for (const NodePtr& a : args_) args.emplace_back(*a, batch, scratch);
    out->Clear();
    out->Reserve(n);
    for (size_t r = 0; r < n; ++r) {
      const Arg* pick = &args.back();
      for (const Arg& a : args) {
        if (!a.IsNull(r)) {
          pick = &a;
          break;
        }
      }
      AppendArg(*pick, r, out);
    }
  }

 private:
  std::vector<NodePtr> args_;
};

class GreatestNode final : public Node {
 public:
  GreatestNode(std::vector<NodePtr> args, bool greatest)
      : Node(args.front()->type()), args_(std::move(args)), greatest_(greatest) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    std::vector<Arg> args;
    args.reserve(args_.size());
    for (const NodePtr& a : args_) args.emplace_back(*a, batch, scratch);
    const TypeId t = type();
    out->Clear();
    out->Reserve(n);
    for (size_t r = 0; r < n; ++r) {
      size_t best = 0;
      bool any_null = args[0].IsNull(r);
      for (size_t k = 1; k < args.size() && !any_null; ++k) {
        if (args[k].IsNull(r)) {
          any_null = true;
          break;
        }
        int c;
        if (types::IsIntegerStored(t)) {
          c = args[k].Int(r) < args[best].Int(r) ? -1 : args[k].Int(r) > args[best].Int(r);
        } else if (t == TypeId::kFloat64) {
          c = args[k].Double(r) < args[best].Double(r) ? -1
                                                       : args[k].Double(r) > args[best].Double(r);
        } else {
          c = args[k].Str(r).compare(args[best].Str(r));
        }
        if (greatest_ ? c > 0 : c < 0) best = k;
      }
      if (any_null) {
        out->AppendNull();
      } else {
        AppendArg(args[best], r, out);
      }
    }
  }

 private:
  std::vector<NodePtr> args_;
  bool greatest_;
};

class StringFnNode final : public Node {
 public:
  StringFnNode(StrFn fn, NodePtr s) : Node(s->type()), fn_(fn), s_(std::move(s)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*s_, batch, scratch);
    StrOut so(out, n);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r)) {
        so.Null();
        continue;
      }
      absl::string_view v = s.Str(r);
      switch (fn_) {
        case StrFn::kLower:
        case StrFn::kUpper: {
          std::string& chars = so.chars();
          size_t start = chars.size();
          chars.append(v.data(), v.size());
          char* p = chars.data() + start;
          if (fn_ == StrFn::kLower) {
            for (size_t i = 0; i < v.size(); ++i) p[i] = absl::ascii_tolower(p[i]);
          } else {
            for (size_t i = 0; i < v.size(); ++i) p[i] = absl::ascii_toupper(p[i]);
          }
          break;
        }
        case StrFn::kTrim: so.Append(absl::StripAsciiWhitespace(v)); break;
        case StrFn::kLtrim: so.Append(absl::StripLeadingAsciiWhitespace(v)); break;
        case StrFn::kRtrim: so.Append(absl::StripTrailingAsciiWhitespace(v)); break;
      }
      so.EndRow();
    }
  }

 private:
  StrFn fn_;
  NodePtr s_;
};

class LengthNode final : public Node {
 public:
  explicit LengthNode(NodePtr s) : Node(TypeId::kInt64), s_(std::move(s)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*s_, batch, scratch);
    const bool bytes = s_->type() == TypeId::kBytes;
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r)) continue;
      absl::string_view v = s.Str(r);
      o[r] = bytes ? static_cast<int64_t>(v.size()) : Utf8Length(v);
      ov[r] = 1;
    }
  }

 private:
  NodePtr s_;
};

class StringPredicateNode final : public Node {
 public:
  StringPredicateNode(StrPredFn fn, NodePtr s, NodePtr arg)
      : Node(TypeId::kBool), fn_(fn), s_(std::move(s)), arg_(std::move(arg)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*s_, batch, scratch);
    Arg a(*arg_, batch, scratch);
    uint8_t* ov;
    int64_t* o = Prepare<int64_t>(out, n, &ov);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r) || a.IsNull(r)) continue;
      absl::string_view v = s.Str(r), x = a.Str(r);
      switch (fn_) {
        case StrPredFn::kStartsWith: o[r] = absl::StartsWith(v, x); break;
        case StrPredFn::kEndsWith: o[r] = absl::EndsWith(v, x); break;
        case StrPredFn::kContains: o[r] = absl::StrContains(v, x); break;
      }
      ov[r] = 1;
    }
  }

 private:
  StrPredFn fn_;
  NodePtr s_, arg_;
};

class SubstrNode final : public Node {
 public:
  SubstrNode(NodePtr s, NodePtr start, NodePtr length)
      : Node(s->type()), s_(std::move(s)), start_(std::move(start)), length_(std::move(length)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*s_, batch, scratch);
    Arg start(*start_, batch, scratch);
    std::optional<Arg> length;
    if (length_) length.emplace(*length_, batch, scratch);
    const bool bytes = type() == TypeId::kBytes;
    StrOut so(out, n);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r) || start.IsNull(r) || (length && length->IsNull(r))) {
        so.Null();
        continue;
      }
      absl::string_view v = s.Str(r);
      const int64_t chars = bytes ? static_cast<int64_t>(v.size()) : Utf8Length(v);
      int64_t st = start.Int(r);
      int64_t begin = st > 0 ? st - 1 : st == 0 ? 0 : std::max<int64_t>(chars + st, 0);
      begin = std::min(begin, chars);
      int64_t end = chars;
      if (length) {
        int64_t len = std::max<int64_t>(length->Int(r), 0);
        end = len >= chars - begin ? chars : begin + len;
      }
      if (bytes || static_cast<int64_t>(v.size()) == chars) {  // one byte per character
        so.Append(v.substr(begin, end - begin));
      } else {
        size_t b = 0, i = 0;
        int64_t c = 0;
        for (; i < v.size() && c < begin; ++c) i += CharLen(v, i);
        b = i;
        for (; i < v.size() && c < end; ++c) i += CharLen(v, i);
        so.Append(v.substr(b, i - b));
      }
      so.EndRow();
    }
  }

 private:
  NodePtr s_, start_, length_;
};

class ReplaceNode final : public Node {
 public:
  ReplaceNode(NodePtr s, NodePtr from, NodePtr to)
      : Node(s->type()), s_(std::move(s)), from_(std::move(from)), to_(std::move(to)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg s(*s_, batch, scratch), from(*from_, batch, scratch), to(*to_, batch, scratch);
    StrOut so(out, n);
    for (size_t r = 0; r < n; ++r) {
      if (s.IsNull(r) || from.IsNull(r) || to.IsNull(r)) {
        so.Null();
        continue;
      }
      absl::string_view v = s.Str(r), f = from.Str(r), t = to.Str(r);
      if (f.empty()) {
        so.Append(v);
      } else {
        size_t pos = 0;
        while (true) {
          size_t hit = v.find(f, pos);
          if (hit == absl::string_view::npos) break;
          so.Append(v.substr(pos, hit - pos));
          so.Append(t);
          pos = hit + f.size();
        }
        so.Append(v.substr(pos));
      }
      so.EndRow();
    }
  }

 private:
  NodePtr s_, from_, to_;
};

class ConcatNode final : public Node {
 public:
  explicit ConcatNode(std::vector<NodePtr> args)
      : Node(args.front()->type()), args_(std::move(args)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    std::vector<Arg> args;
    args.reserve(args_.size());
    for (const NodePtr& a : args_) args.emplace_back(*a, batch, scratch);
    StrOut so(out, n);
    for (size_t r = 0; r < n; ++r) {
      bool any_null = false;
      for (const Arg& a : args) any_null |= a.IsNull(r);
      if (any_null) {
        so.Null();
        continue;
      }
      for (const Arg& a : args) so.Append(a.Str(r));
      so.EndRow();
    }
  }

 private:
  std::vector<NodePtr> args_;
};

class MathNode final : public Node {
 public:
  MathNode(MathFn fn, NodePtr x) : Node(x->type()), fn_(fn), x_(std::move(x)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    const Column& c = x_->EvalRef(batch, scratch);
    uint8_t* ov;
    if (type() == TypeId::kFloat64) {
      double* o = Prepare<double>(out, n, &ov);
      const double* x = c.doubles().data();
      switch (fn_) {
        case MathFn::kAbs: for (size_t i = 0; i < n; ++i) o[i] = std::fabs(x[i]); break;
        case MathFn::kFloor: for (size_t i = 0; i < n; ++i) o[i] = std::floor(x[i]); break;
        case MathFn::kCeil: for (size_t i = 0; i < n; ++i) o[i] = std::ceil(x[i]); break;
      }
    } else {
      int64_t* o = Prepare<int64_t>(out, n, &ov);
      const int64_t* x = c.ints().data();
      if (fn_ == MathFn::kAbs) {
        for (size_t i = 0; i < n; ++i) o[i] = x[i] < 0 ? Wrap(0 - U(x[i])) : x[i];
      } else {
        std::copy_n(x, n, o);
      }
    }
    std::copy_n(c.valid().data(), n, ov);
  }

 private:
  MathFn fn_;
  NodePtr x_;
};

class RoundNode final : public Node {
 public:
  RoundNode(NodePtr x, NodePtr digits)
      : Node(x->type()), x_(std::move(x)), digits_(std::move(digits)) {}
  void Eval(const RecordBatch& batch, EvalScratch* scratch, Column* out) const override {
    const size_t n = batch.num_rows();
    Arg x(*x_, batch, scratch);
    std::optional<Arg> digits;
    if (digits_) digits.emplace(*digits_, batch, scratch);
    uint8_t* ov;
    if (type() == TypeId::kFloat64) {
      double* o = Prepare<double>(out, n, &ov);
      for (size_t r = 0; r < n; ++r) {
        if (x.IsNull(r) || (digits && digits->IsNull(r))) continue;
        o[r] = RoundDouble(x.Double(r), digits ? digits->Int(r) : 0);
        ov[r] = 1;
      }
    } else {
      int64_t* o = Prepare<int64_t>(out, n, &ov);
      for (size_t r = 0; r < n; ++r) {
        if (x.IsNull(r) || (digits && digits->IsNull(r))) continue;
        o[r] = RoundInt(x.Int(r), digits ? digits->Int(r) : 0);
        ov[r] = 1;
      }
    }
  }

 private:
  static double RoundDouble(double x, int64_t digits) {
    if (digits == 0) return std::round(x);
    if (digits > 0) {
      if (digits > 15) return x;
      double scale = std::pow(10.0, static_cast<double>(digits));
      double r = std::round(x * scale) / scale;
      return std::isfinite(r) ? r : x;
    }
    if (digits < -308) return 0;
    double scale = std::pow(10.0, static_cast<double>(-digits));
    return std::round(x / scale) * scale;
  }
  static int64_t RoundInt(int64_t x, int64_t digits) {
    if (digits >= 0) return x;
    if (digits < -18) return 0;
    int64_t scale = 1;
    for (int64_t i = 0; i < -digits; ++i) scale *= 10;
    int64_t q = x / scale, rem = x % scale;
    if (rem >= (scale + 1) / 2) ++q;  // half away from zero
    if (rem <= -(scale + 1) / 2) --q;
    return Wrap(U(q) * U(scale));
  }

  NodePtr x_, digits_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Factories

NodePtr MakeConst(Value v) { return std::make_shared<ConstNode>(std::move(v)); }
NodePtr MakeColumn(int index, TypeId type) { return std::make_shared<ColumnNode>(index, type); }
NodePtr MakeCast(NodePtr child, TypeId to) {
  return std::make_shared<CastNode>(std::move(child), to);
}

NodePtr MakeArith(ArithOp op, NodePtr l, NodePtr r, TypeId result) {
  switch (op) {
    case ArithOp::kAdd: return MakeArithT<AddOp>(std::move(l), std::move(r), result);
    case ArithOp::kSub: return MakeArithT<SubOp>(std::move(l), std::move(r), result);
    case ArithOp::kMul: return MakeArithT<MulOp>(std::move(l), std::move(r), result);
    case ArithOp::kDiv: return MakeArithT<DivOp>(std::move(l), std::move(r), result);
    case ArithOp::kMod: return MakeArithT<ModOp>(std::move(l), std::move(r), result);
  }
  return nullptr;
}

NodePtr MakeNegate(NodePtr child) { return std::make_shared<NegateNode>(std::move(child)); }

NodePtr MakeCompare(CmpOp op, NodePtr l, NodePtr r) {
  switch (op) {
    case CmpOp::kEq: return MakeCompareT<EqOp>(std::move(l), std::move(r));
    case CmpOp::kNe: return MakeCompareT<NeOp>(std::move(l), std::move(r));
    case CmpOp::kLt: return MakeCompareT<LtOp>(std::move(l), std::move(r));
    case CmpOp::kLe: return MakeCompareT<LeOp>(std::move(l), std::move(r));
    case CmpOp::kGt: return MakeCompareT<GtOp>(std::move(l), std::move(r));
    case CmpOp::kGe: return MakeCompareT<GeOp>(std::move(l), std::move(r));
  }
  return nullptr;
}

NodePtr MakeNot(NodePtr child) { return std::make_shared<NotNode>(std::move(child)); }
NodePtr MakeAnd(NodePtr l, NodePtr r) {
  return std::make_shared<LogicNode<true>>(std::move(l), std::move(r));
}
NodePtr MakeOr(NodePtr l, NodePtr r) {
  return std::make_shared<LogicNode<false>>(std::move(l), std::move(r));
}
NodePtr MakeIsNull(NodePtr child, bool negated) {
  return std::make_shared<IsNullNode>(std::move(child), negated);
}
NodePtr MakeInSet(NodePtr child, std::vector<Value> items, bool list_has_null) {
  return std::make_shared<InSetNode>(std::move(child), std::move(items), list_has_null);
}
NodePtr MakeLike(NodePtr child, NodePtr pattern) {
  return std::make_shared<LikeNode>(std::move(child), std::move(pattern));
}
NodePtr MakeCase(std::vector<NodePtr> conditions, std::vector<NodePtr> values,
                 NodePtr otherwise) {
  return std::make_shared<CaseNode>(std::move(conditions), std::move(values),
                                    std::move(otherwise));
}
NodePtr MakeCoalesce(std::vector<NodePtr> args) {
  return std::make_shared<CoalesceNode>(std::move(args));
}
NodePtr MakeGreatest(std::vector<NodePtr> args, bool greatest) {
  return std::make_shared<GreatestNode>(std::move(args), greatest);
}
NodePtr MakeStringFn(StrFn fn, NodePtr s) {
  return std::make_shared<StringFnNode>(fn, std::move(s));
}
NodePtr MakeLength(NodePtr s) { return std::make_shared<LengthNode>(std::move(s)); }
NodePtr MakeStringPredicate(StrPredFn fn, NodePtr s, NodePtr arg) {
  return std::make_shared<StringPredicateNode>(fn, std::move(s), std::move(arg));
}
NodePtr MakeSubstr(NodePtr s, NodePtr start, NodePtr length) {
  return std::make_shared<SubstrNode>(std::move(s), std::move(start), std::move(length));
}
NodePtr MakeReplace(NodePtr s, NodePtr from, NodePtr to) {
  return std::make_shared<ReplaceNode>(std::move(s), std::move(from), std::move(to));
}
NodePtr MakeConcat(std::vector<NodePtr> args) {
  return std::make_shared<ConcatNode>(std::move(args));
}
NodePtr MakeMath(MathFn fn, NodePtr x) { return std::make_shared<MathNode>(fn, std::move(x)); }
NodePtr MakeRound(NodePtr x, NodePtr digits) {
  return std::make_shared<RoundNode>(std::move(x), std::move(digits));
}

NodePtr FoldConstants(NodePtr node, const std::vector<NodePtr>& children) {
  if (node->constant() != nullptr || children.empty()) return node;
  for (const NodePtr& c : children) {
    if (c && c->constant() == nullptr) return node;
  }
  static const types::SchemaPtr kNoColumns = std::make_shared<types::Schema>();
  RecordBatch one_row(kNoColumns);
  one_row.SetNumRows(1);
  Column result(node->type());
  EvalScratch scratch;
  node->Eval(one_row, &scratch, &result);
  return MakeConst(ValueAt(result, 0));
}

bool LikeMatch(absl::string_view s, absl::string_view p) {
  size_t si = 0, pi = 0;
  size_t star_p = absl::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '%') {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (pc == '_') {
        si += CharLen(s, si);
        ++pi;
        continue;
      }
      size_t plen = 1;
      if (pc == '\\' && pi + 1 < p.size()) {
        pc = p[pi + 1];
        plen = 2;
      }
      if (s[si] == pc) {
        ++si;
        pi += plen;
        continue;
      }
    }
    if (star_p == absl::string_view::npos) return false;
    star_s += CharLen(s, star_s);  // let the last % absorb one more character
    si = star_s;
    pi = star_p;
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

}  // namespace sluice::expr
