// The protobuf formats. Reference messages are built and parsed with protobuf's own
// DynamicMessage (from libprotoc's Importer, independently of the format's code), so the
// tests check the format against protobuf itself: reading a hand-written .proto with extra
// and missing fields, enums, a nested Timestamp, proto2 vs proto3 presence and promotions;
// poison records (errors, never crashes or rows); option errors; the derived message and
// its .proto text; protobuf-confluent against an HTTP schema registry (a test double until
// Sluice's own registry is merged).
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/types/proto_codec.h"
#include "common/types/proto_format.h"
#include "common/types/proto_schema.h"
#include "format_test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"
#include "tests/common/fake_schema_registry.h"
#include "tests/test_dirs.h"

namespace sluice::types {
namespace {

namespace pb = google::protobuf;
using format_testing::DecodeWith;
using format_testing::Spec;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A writer message with more, fewer and differently typed fields than the columns read.
constexpr char kTxnProto[] = R"(syntax = "proto3";
package acme;
import "google/protobuf/timestamp.proto";

enum Country { COUNTRY_UNKNOWN = 0; DE = 1; FR = 2; }
message Meta { string source = 1; }
message Txn {
  sint32 card = 1;
  repeated string tags = 2;
  float amount = 3;
  Country country = 4;
  google.protobuf.Timestamp ts = 5;
  map<string, int64> attrs = 6;
  Meta meta = 7;
  optional string note = 8;
  uint64 big = 9;
  fixed64 seq = 10;
  int64 epoch_s = 11;
  bytes blob = 12;
  bool ok = 13;
  oneof choice { string a = 14; int64 b = 15; }
  message Inner { int64 x = 1; }
}
)";

constexpr char kProto2[] = R"(syntax = "proto2";
package acme;
message Legacy {
  optional int64 x = 1 [default = 5];
  required string name = 2;
  optional string city = 3;
}
)";

SchemaPtr Columns(std::vector<Field> fields) { return std::make_shared<Schema>(std::move(fields)); }

SchemaPtr TxnColumns() {
  return Columns({{"card", TypeId::kInt64},
                  {"amount", TypeId::kFloat64},
                  {"country", TypeId::kString},
                  {"ts", TypeId::kTimestamp},
                  {"note", TypeId::kString},
                  {"big", TypeId::kFloat64},
                  {"seq", TypeId::kInt64},
                  {"epoch_s", TypeId::kTimestamp},
                  {"blob", TypeId::kBytes},
                  {"ok", TypeId::kBool},
                  {"b", TypeId::kInt64},
                  {"missing", TypeId::kString}});
}

// Protobuf's own parser and DynamicMessage over the .proto files of a directory.
class Reference {
 public:
  explicit Reference(const std::string& dir) {
    tree_.MapPath("", dir);
    tree_.MapPath("", "/usr/include");  // Debian's well-known types
  }
  const pb::Descriptor* Message(const std::string& file, const std::string& name) {
    EXPECT_NE(importer_.Import(file), nullptr) << file;
    return importer_.pool()->FindMessageTypeByName(name);
  }
  std::unique_ptr<pb::Message> New(const pb::Descriptor* d) {
    return std::unique_ptr<pb::Message>(factory_.GetPrototype(d)->New());
  }

 private:
  class Errors : public pb::compiler::MultiFileErrorCollector {
    void AddError(const std::string& file, int line, int, const std::string& message) override {
      ADD_FAILURE() << file << ":" << line << ": " << message;
    }
  } errors_;
  pb::compiler::DiskSourceTree tree_;
  pb::compiler::Importer importer_{&tree_, &errors_};
  pb::DynamicMessageFactory factory_;
};

class ProtobufFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::FreshTestDir("format_protobuf").string();
    std::filesystem::create_directories(dir_);
    Write("txn.proto", kTxnProto);
    Write("legacy.proto", kProto2);
    reference_ = std::make_unique<Reference>(dir_);
    txn_ = reference_->Message("txn.proto", "acme.Txn");
    ASSERT_NE(txn_, nullptr);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string File(const std::string& name) { return dir_ + "/" + name; }
  // acme.Txn of txn.proto (its second message: the first is acme.Meta).
  proto::FormatSpec TxnSpec(std::vector<std::pair<std::string, std::string>> more = {}) {
    more.emplace_back("proto_file", File("txn.proto"));
    bool message = false;
    for (const auto& [key, value] : more) message |= key == "message";
    if (!message) more.emplace_back("message", "acme.Txn");
    return Spec("protobuf", more);
  }

  // A full acme.Txn, written by protobuf itself.
  std::string FullTxn() {
    auto m = reference_->New(txn_);
    const pb::Reflection* r = m->GetReflection();
    auto f = [&](const char* name) { return txn_->FindFieldByName(name); };
    r->SetInt32(m.get(), f("card"), -42);
    r->AddString(m.get(), f("tags"), "x");
    r->SetFloat(m.get(), f("amount"), 12.5f);
    r->SetEnumValue(m.get(), f("country"), 2);
    pb::Message* ts = r->MutableMessage(m.get(), f("ts"));
    ts->GetReflection()->SetInt64(ts, ts->GetDescriptor()->FindFieldByName("seconds"),
                                  1'700'000'000);
    ts->GetReflection()->SetInt32(ts, ts->GetDescriptor()->FindFieldByName("nanos"), 123'456'789);
    pb::Message* meta = r->MutableMessage(m.get(), f("meta"));
    meta->GetReflection()->SetString(meta, meta->GetDescriptor()->FindFieldByName("source"), "pos");
    r->SetString(m.get(), f("note"), "hi");
    r->SetUInt64(m.get(), f("big"), std::numeric_limits<uint64_t>::max());
    r->SetUInt64(m.get(), f("seq"), 77);
    r->SetInt64(m.get(), f("epoch_s"), 86400);
    r->SetString(m.get(), f("blob"), std::string("\0\1\2", 3));
    r->SetBool(m.get(), f("ok"), true);
    r->SetInt64(m.get(), f("b"), 9);
    return m->SerializeAsString();
  }

  std::string dir_;
  std::unique_ptr<Reference> reference_;
  const pb::Descriptor* txn_ = nullptr;
};

TEST_F(ProtobufFormatTest, ReadsAHandWrittenProtoByFieldName) {
  auto d = DecodeWith(TxnSpec({{"timestamp_unit", "s"}}), TxnColumns(), {FullTxn()});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.RowToString(0),
            "card=-42, amount=12.5, country=FR, ts=2023-11-14T22:13:20.123456Z, note=hi, "
            "big=1.84467e+19, seq=77, epoch_s=1970-01-02T00:00:00.000000Z, "
            "blob=" + std::string("\0\1\2", 3) + ", ok=true, b=9, missing=null");
}

TEST_F(ProtobufFormatTest, AbsentFieldsAreDefaultsWithoutPresenceAndNullWithIt) {
  auto m = reference_->New(txn_);
  m->GetReflection()->SetEnumValue(m.get(), txn_->FindFieldByName("country"), 7);  // unknown
  auto d = DecodeWith(TxnSpec(), TxnColumns(), {"", m->SerializeAsString()});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 2u);
  // ts (a message), note (proto3 optional) and b (a oneof member) have presence.
  EXPECT_EQ(d.batch.RowToString(0),
            "card=0, amount=0, country=COUNTRY_UNKNOWN, ts=null, note=null, big=0, seq=0, "
            "epoch_s=1970-01-01T00:00:00.000000Z, blob=, ok=false, b=null, missing=null");
  EXPECT_EQ(d.batch.column(2).Str(1), "7");
}

TEST_F(ProtobufFormatTest, Proto2PresenceAndRequiredFields) {
  const pb::Descriptor* legacy = reference_->Message("legacy.proto", "acme.Legacy");
  auto m = reference_->New(legacy);
  m->GetReflection()->SetString(m.get(), legacy->FindFieldByName("name"), "ann");
  const std::string good = m->SerializeAsString();
  auto spec = Spec("protobuf", {{"proto_file", File("legacy.proto")}});
  auto columns =
      Columns({{"x", TypeId::kInt64}, {"name", TypeId::kString}, {"city", TypeId::kString}});
  auto d = DecodeWith(spec, columns, {good, ""});
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.RowToString(0), "x=null, name=ann, city=null");  // [default = 5] is not read
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].message,
            "invalid protobuf message for acme.Legacy (0 bytes): required field 'name' is "
            "missing");
}

TEST_F(ProtobufFormatTest, LastOccurrenceWinsAndOneofMembersClearEachOther) {
  auto m = reference_->New(txn_);
  m->GetReflection()->SetInt64(m.get(), txn_->FindFieldByName("b"), 1);
  auto a = reference_->New(txn_);
  a->GetReflection()->SetString(a.get(), txn_->FindFieldByName("a"), "x");
  auto later = reference_->New(txn_);
  later->GetReflection()->SetInt64(later.get(), txn_->FindFieldByName("b"), 2);
  // Concatenated messages merge: b=1, then a (clears b), then b=2 / b=1 then a.
  auto columns = Columns({{"b", TypeId::kInt64}, {"a", TypeId::kString}});
  auto d = DecodeWith(TxnSpec(), columns,
                      {m->SerializeAsString() + a->SerializeAsString() + later->SerializeAsString(),
                       m->SerializeAsString() + a->SerializeAsString()});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.batch.RowToString(0), "b=2, a=null");
  EXPECT_EQ(d.batch.RowToString(1), "b=null, a=x");
}

TEST_F(ProtobufFormatTest, Uint64AboveInt64MaxIsABadRecordForAnInt64Column) {
  auto d = DecodeWith(TxnSpec(), Columns({{"big", TypeId::kInt64}}), {FullTxn()});
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_THAT(d.errors[0].message,
              HasSubstr("field 'big': 18446744073709551615 does not fit int64"));
}

TEST_F(ProtobufFormatTest, PoisonRecordsAreErrorsNeverRows) {
  const std::string good = FullTxn();
  const std::string truncated = good.substr(0, good.size() - 3);
  const std::string bad_varint = std::string("\x08") + std::string(11, '\xff');
  const std::string wrong_wire = "\x0a\x01x";            // card (1) as length-delimited
  const std::string invalid_wire = "\x0f";               // card (1) with wire type 7
  const std::string unknown_invalid = "\xff\x01";        // field 31 (unknown), wire type 7
  const std::string zero_field = std::string("\x00\x01", 2);  // field number 0
  const std::string long_length = "\x62\x7f" "abc";      // blob (12): 127 bytes announced
  auto d = DecodeWith(TxnSpec(), TxnColumns(),
                      {truncated, bad_varint, wrong_wire, invalid_wire, zero_field, long_length,
                       unknown_invalid, good});
  ASSERT_EQ(d.batch.num_rows(), 1u);
  ASSERT_EQ(d.errors.size(), 7u);
  const std::string prefix = "invalid protobuf message for acme.Txn (";
  EXPECT_THAT(d.errors[0].message, StartsWith(prefix + std::to_string(truncated.size()) +
                                               " bytes): field 'ok' (13): truncated"));
  EXPECT_EQ(d.errors[1].message, prefix + "12 bytes): field 'card' (1): bad varint (more than "
                                          "10 bytes)");
  EXPECT_EQ(d.errors[2].message, prefix + "3 bytes): field 'card' (1): wire type "
                                          "length-delimited, expected varint for sint32");
  EXPECT_EQ(d.errors[3].message, prefix + "1 bytes): field 'card' (1): invalid wire type 7");
  EXPECT_EQ(d.errors[4].message, prefix + "2 bytes): invalid field number 0");
  EXPECT_EQ(d.errors[5].message, prefix + "5 bytes): field 'blob' (12): truncated (a length of "
                                          "127 with 3 bytes left)");
  EXPECT_EQ(d.errors[5].line_index, 5u);
  EXPECT_EQ(d.errors[6].message, prefix + "2 bytes): field 31: invalid wire type 7");
}

TEST_F(ProtobufFormatTest, ColumnsOfUnreadableFieldsAreErrorsWhenTheDecoderIsMade) {
  struct Case {
    const char* column;
    TypeId type;
    const char* message;
  } cases[] = {
      {"tags", TypeId::kString, "column 'tags': field tags of acme.Txn is repeated string, which "
                                "cannot be read as string"},
      {"attrs", TypeId::kString, "column 'attrs': field attrs of acme.Txn is a map, which cannot "
                                 "be read as string"},
      {"meta", TypeId::kString, "column 'meta': field meta of acme.Txn is message acme.Meta, "
                                "which cannot be read as string"},
      {"amount", TypeId::kInt64, "column 'amount': field amount of acme.Txn is float, which "
                                 "cannot be read as int64"},
  };
  for (const Case& c : cases) {
    auto decoder = MakeDecoder(TxnSpec(), Columns({{c.column, c.type}}));
    ASSERT_FALSE(decoder.ok()) << c.column;
    EXPECT_EQ(decoder.status().message(), std::string("format protobuf: ") + c.message);
  }
}

TEST_F(ProtobufFormatTest, NestedMessagesAndMessageOption) {
  const pb::Descriptor* inner = txn_->FindNestedTypeByName("Inner");
  auto m = reference_->New(inner);
  m->GetReflection()->SetInt64(m.get(), inner->FindFieldByName("x"), -5);
  auto d = DecodeWith(TxnSpec({{"message", "acme.Txn.Inner"}}), Columns({{"x", TypeId::kFloat64}}),
                      {m->SerializeAsString()});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.batch.RowToString(0), "x=-5");
}

TEST_F(ProtobufFormatTest, OptionErrorsAreClear) {
  auto columns = TxnColumns();
  EXPECT_EQ(ParseFormatOptions(Spec("protobuf", {{"schema_file", "x"}})).status().message(),
            "format protobuf: unknown option 'schema_file' (expected message, proto_file, "
            "record_name or timestamp_unit)");
  EXPECT_EQ(ParseFormatOptions(Spec("protobuf-confluent", {{"delimiter", ","}})).status().message(),
            "format protobuf-confluent: unknown option 'delimiter' (expected message, proto_file, "
            "record_name, registry, subject, subject_strategy or timestamp_unit)");
  EXPECT_EQ(MakeDecoder(Spec("protobuf", {{"message", "acme.Txn"}}), columns).status().message(),
            "format protobuf: message: picks a message of proto_file, which is not set "
            "(record_name names the message derived from the columns)");
  EXPECT_EQ(MakeDecoder(TxnSpec({{"record_name", "a.B"}}), columns).status().message(),
            "format protobuf: record_name names the message derived from the columns; with "
            "proto_file, pick its message with message:");
  EXPECT_EQ(MakeDecoder(TxnSpec({{"message", "acme.Nope"}}), columns).status().message(),
            "format protobuf: proto_file " + File("txn.proto") +
                ": txn.proto has no message 'acme.Nope' (it has acme.Meta, acme.Txn; nested "
                "messages are named Outer.Inner)");
  EXPECT_THAT(std::string(MakeDecoder(Spec("protobuf", {{"proto_file", File("nope.proto")}}),
                                      columns).status().message()),
              HasSubstr("nope.proto"));
  Write("broken.proto", "syntax = \"proto3\";\nmessage A {\n  int64 x = ;\n}\n");
  EXPECT_EQ(MakeDecoder(Spec("protobuf", {{"proto_file", File("broken.proto")}}), columns)
                .status()
                .message(),
            "format protobuf: proto_file " + File("broken.proto") +
                ": broken.proto:3:13: Expected field number.");
  Write("imports.proto", "syntax = \"proto3\";\nimport \"other.proto\";\nmessage A {}\n");
  EXPECT_THAT(std::string(MakeDecoder(Spec("protobuf", {{"proto_file", File("imports.proto")}}),
                                      columns).status().message()),
              HasSubstr("other.proto"));
  // An encoder needs a field for every column, of a type it takes without loss.
  EXPECT_EQ(MakeEncoder(TxnSpec(), Columns({{"card", TypeId::kInt64}})).status().message(),
            "format protobuf: column 'card': a int64 cannot be written to field card of acme.Txn, "
            "which is sint32");
  EXPECT_EQ(MakeEncoder(TxnSpec(), Columns({{"nope", TypeId::kInt64}})).status().message(),
            "format protobuf: column 'nope': acme.Txn has no field nope");
  EXPECT_EQ(MakeDecoder(Spec("protobuf-confluent"), columns).status().message(),
            "format protobuf-confluent needs a schema registry: set registry: on the connector, "
            "or kafka.registry in the cluster configuration");
  auto confluent = ParseFormatOptions(Spec("protobuf-confluent", {{"message", "acme.Txn"}}));
  ASSERT_TRUE(confluent.ok());
  EXPECT_TRUE(confluent->uses_registry());
  confluent->subject_strategy = "record_name";
  EXPECT_EQ(ConfluentSubject(*confluent, "txns", false), "acme.Txn");
  EXPECT_EQ(ConfluentSubject(KeyFormatOptions(*confluent), "txns", true), "acme.TxnKey");
  EXPECT_TRUE(KeyFormatOptions(*confluent).message.empty());
}

TEST(ProtoSchemaTest, DerivedMessageIsProto3OptionalAndItsTextParsesBack) {
  Schema columns({{"card", TypeId::kInt64}, {"when", TypeId::kTimestamp}, {"ok", TypeId::kBool},
                  {"2nd col", TypeId::kBytes}});
  auto derived = ProtoSchema::Derive(columns, "com.acme.Alert-v2");
  ASSERT_TRUE(derived.ok()) << derived.status();
  EXPECT_EQ((*derived)->text(),
            "syntax = \"proto3\";\n\n"
            "import \"google/protobuf/timestamp.proto\";\n"
            "package com.acme;\n\n"
            "message Alert_v2 {\n"
            "  optional int64 card = 1;\n"
            "  optional .google.protobuf.Timestamp when = 2;\n"
            "  optional bool ok = 3;\n"
            "  optional bytes _2nd_col = 4;\n"
            "}\n\n");
  auto parsed = ProtoSchema::FromText((*derived)->text());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const pb::Descriptor& m = (*parsed)->message();
  EXPECT_EQ(m.full_name(), "com.acme.Alert_v2");
  ASSERT_EQ(m.field_count(), 4);
  EXPECT_TRUE(m.field(1)->has_presence());
  EXPECT_EQ(m.field(1)->message_type()->full_name(), "google.protobuf.Timestamp");
  EXPECT_EQ((*parsed)->indexes(), std::vector<int>{0});
  auto clash = ProtoSchema::Derive(Schema({{"a b", TypeId::kInt64}, {"a_b", TypeId::kInt64}}), "");
  EXPECT_EQ(clash.status().message(),
            "column 'a_b' and an earlier column both have protobuf field name 'a_b' (rename one)");
}

TEST_F(ProtobufFormatTest, EncodedRowsAreWhatProtobufParses) {
  // Derived: parse our bytes with DynamicMessage over the derived message's printed text.
  auto columns = Columns({{"card", TypeId::kInt64}, {"ts", TypeId::kTimestamp},
                          {"note", TypeId::kString}, {"amount", TypeId::kFloat64}});
  RecordBatch batch(columns);
  batch.mutable_column(0).AppendInt(-7);
  batch.mutable_column(1).AppendInt(-1'500'000);  // 1.5 s before the epoch
  batch.mutable_column(2).AppendNull();
  batch.mutable_column(3).AppendDouble(0.0);
  batch.SetNumRows(1);
  auto schema = ProtoSchema::Derive(*columns, "");
  ASSERT_TRUE(schema.ok());
  Write("derived.proto", (*schema)->text());
  const pb::Descriptor* row = reference_->Message("derived.proto", "sluice.Row");
  ASSERT_NE(row, nullptr);
  auto encoder = MakeEncoder(Spec("protobuf"), columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  std::string bytes;
  (*encoder)->EncodeBatch(batch, &bytes);
  auto m = reference_->New(row);
  ASSERT_TRUE(m->ParseFromString(bytes));
  EXPECT_EQ(m->ShortDebugString(),
            "card: -7 ts { seconds: -2 nanos: 500000000 } amount: 0");  // note unset

  // proto_file: sint64, float, sfixed64 in timestamp_unit, Timestamp.
  Write("out.proto", R"(syntax = "proto3";
import "google/protobuf/timestamp.proto";
message Out { sint64 card = 1; float amount = 2; sfixed64 when_ms = 3;
              google.protobuf.Timestamp ts = 4; string s = 5; bytes b = 6; bool ok = 7; })");
  auto out_columns = Columns({{"card", TypeId::kInt64}, {"amount", TypeId::kFloat64},
                              {"when_ms", TypeId::kTimestamp}, {"ts", TypeId::kTimestamp},
                              {"s", TypeId::kString}, {"b", TypeId::kBytes}, {"ok", TypeId::kBool}});
  RecordBatch out(out_columns);
  out.mutable_column(0).AppendInt(std::numeric_limits<int64_t>::min());
  out.mutable_column(1).AppendDouble(2.5);
  out.mutable_column(2).AppendInt(1'700'000'000'123'456);
  out.mutable_column(3).AppendInt(1);
  out.mutable_column(4).AppendString("é");
  out.mutable_column(5).AppendString(std::string("\0", 1));
  out.mutable_column(6).AppendInt(1);
  out.SetNumRows(1);
  auto out_spec = Spec("protobuf", {{"proto_file", File("out.proto")}});
  auto out_encoder = MakeEncoder(out_spec, out_columns);
  ASSERT_TRUE(out_encoder.ok()) << out_encoder.status();
  bytes.clear();
  (*out_encoder)->EncodeBatch(out, &bytes);
  auto parsed = reference_->New(reference_->Message("out.proto", "Out"));
  ASSERT_TRUE(parsed->ParseFromString(bytes));
  EXPECT_EQ(parsed->ShortDebugString(),
            "card: -9223372036854775808 amount: 2.5 when_ms: 1700000000123 ts { nanos: 1000 } "
            "s: \"\\303\\251\" b: \"\\000\" ok: true");
  auto back = DecodeWith(out_spec, out_columns, {bytes});
  ASSERT_TRUE(back.errors.empty()) << back.errors[0].message;
  EXPECT_EQ(back.batch.RowToString(0),
            "card=-9223372036854775808, amount=2.5, when_ms=2023-11-14T22:13:20.123000Z, "
            "ts=1970-01-01T00:00:00.000001Z, s=é, b=" + std::string("\0", 1) + ", ok=true");
}

// protobuf-confluent against a schema registry over HTTP.
class ConfluentProtobufTest : public ProtobufFormatTest {
 protected:
  proto::FormatSpec ConfluentSpec(std::vector<std::pair<std::string, std::string>> more = {}) {
    more.emplace_back("registry", registry_.url());
    return Spec("protobuf-confluent", more);
  }
  static std::string Header(int id, const std::vector<int>& indexes) {
    std::string header = ConfluentHeaderForTest(id);
    AppendMessageIndexes(indexes, &header);
    return header;
  }
  static std::string ConfluentHeaderForTest(int id) {
    return std::string("\0\0\0\0", 4) + static_cast<char>(id);
  }
  sluice::testing::FakeSchemaRegistry registry_;
};

TEST_F(ConfluentProtobufTest, RoundTripRegistersTheDerivedSchema) {
  auto columns = Columns({{"card", TypeId::kInt64}, {"ts", TypeId::kTimestamp}});
  auto options = ParseFormatOptions(ConfluentSpec());
  ASSERT_TRUE(options.ok());
  options->subject = ConfluentSubject(*options, "txns", false);
  auto encoder = MakeEncoder(*options, columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  RecordBatch batch(columns);
  batch.mutable_column(0).AppendInt(5);
  batch.mutable_column(1).AppendNull();
  batch.SetNumRows(1);
  std::string bytes;
  std::vector<size_t> ends;
  (*encoder)->EncodeBatch(batch, &bytes, &ends);
  EXPECT_FALSE((*encoder)->newline_terminated());
  EXPECT_EQ(bytes, std::string("\0\0\0\0\1\0\x08\x05", 8));  // header, [0], card = 5
  EXPECT_EQ(ends, std::vector<size_t>{8});
  auto entries = registry_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[1].subject, "txns-value");
  EXPECT_EQ(entries[1].type, "PROTOBUF");
  EXPECT_THAT(entries[1].schema, HasSubstr("message Row {"));
  auto d = DecodeWith(ConfluentSpec(), columns, {bytes});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.batch.RowToString(0), "card=5, ts=null");
}

TEST_F(ConfluentProtobufTest, EncoderRegistersProtoFileTextWithItsMessageIndexes) {
  auto options = ParseFormatOptions(ConfluentSpec(
      {{"proto_file", File("txn.proto")}, {"message", "acme.Txn.Inner"}, {"subject", "s"}}));
  ASSERT_TRUE(options.ok());
  auto columns = Columns({{"x", TypeId::kInt64}});
  auto encoder = MakeEncoder(*options, columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ(registry_.entries()[1].schema, kTxnProto);
  RecordBatch batch(columns);
  batch.mutable_column(0).AppendInt(3);
  batch.SetNumRows(1);
  std::string bytes;
  (*encoder)->EncodeBatch(batch, &bytes);
  // Txn is message 1 of the file, Inner its nested message 1 (after the map's AttrsEntry):
  // count 2, [1, 1], zigzag.
  EXPECT_EQ(bytes, std::string("\0\0\0\0\1\x04\x02\x02\x08\x03", 10));
  auto d = DecodeWith(ConfluentSpec(), columns, {bytes});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.batch.RowToString(0), "x=3");
}

TEST_F(ConfluentProtobufTest, ReadsTheMessageTheIndexesName) {
  const int id = registry_.Add("t-value", kTxnProto, "PROTOBUF");
  const std::string txn = FullTxn();
  auto d = DecodeWith(ConfluentSpec(), Columns({{"card", TypeId::kInt64}, {"source", TypeId::kString}}),
                      {Header(id, {1}) + txn, Header(id, {0}) + std::string("\x0a\x03pos", 5)});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.batch.RowToString(0), "card=-42, source=null");
  EXPECT_EQ(d.batch.RowToString(1), "card=null, source=pos");  // acme.Meta
}

TEST_F(ConfluentProtobufTest, PoisonRecordsAndRegistryFailures) {
  const int id = registry_.Add("t-value", kTxnProto, "PROTOBUF");
  const int avro = registry_.Add("a-value", R"({"type": "string"})", "AVRO");
  const int unfetched = registry_.Add("u-value", kTxnProto + std::string("\n"), "PROTOBUF");
  const int refs = registry_.Add("r-value", "syntax = \"proto3\";\nimport \"other.proto\";\n"
                                            "message A { int64 card = 1; }\n", "PROTOBUF");
  const std::string txn = FullTxn();
  auto columns = Columns({{"card", TypeId::kInt64}});
  auto d = DecodeWith(ConfluentSpec(), columns,
                      {std::string("\1\0\0\0\1\0", 6),            // wrong magic byte
                       std::string("\0\0\0", 3),                  // too short
                       Header(99, {0}) + txn,                     // unknown id
                       Header(avro, {0}),                         // an Avro schema
                       Header(id, {7}) + txn,                     // no message 7
                       ConfluentHeaderForTest(id) + "\x06\x02",   // 3 indexes, 1 given
                       ConfluentHeaderForTest(id) + "\x03",       // a negative count
                       Header(id, {1}) + "\x08",                  // truncated message
                       Header(refs, {0}) + "\x08\x01",            // schema references
                       Header(id, {1}) + txn});
  ASSERT_EQ(d.batch.num_rows(), 1u);
  ASSERT_EQ(d.errors.size(), 9u);
  for (const DecodeError& e : d.errors) EXPECT_FALSE(e.fatal) << e.message;
  EXPECT_EQ(d.errors[0].message, "wrong magic byte 0x01 (the Confluent wire format starts with 0x00)");
  EXPECT_EQ(d.errors[1].message,
            "a 3-byte message is too short for the Confluent wire format (5-byte header)");
  EXPECT_THAT(d.errors[2].message, HasSubstr("99"));
  EXPECT_EQ(d.errors[3].message, "schema id 2 is a AVRO schema, not PROTOBUF");
  EXPECT_EQ(d.errors[4].message,
            "schema id 1: message indexes [7] name no message (the schema has 2 messages)");
  EXPECT_EQ(d.errors[5].message, "schema id 1: message indexes: truncated");
  EXPECT_EQ(d.errors[6].message, "schema id 1: bad message indexes: a count of -2");
  EXPECT_EQ(d.errors[7].message, "schema id 1: invalid protobuf message for acme.Txn (1 bytes): "
                                 "field 'card' (1): truncated");
  EXPECT_THAT(d.errors[8].message, HasSubstr("schema references are not supported"));

  // An outage is fatal (the source restarts), not a bad record.
  registry_.Stop();
  auto outage = DecodeWith(ConfluentSpec(), columns, {Header(unfetched, {1}) + txn});
  ASSERT_EQ(outage.errors.size(), 1u);
  EXPECT_TRUE(outage.errors[0].fatal) << outage.errors[0].message;
}

TEST(MessageIndexesTest, EncodeAndDecode) {
  for (const std::vector<int>& indexes : {std::vector<int>{0}, std::vector<int>{1},
                                          std::vector<int>{0, 0}, std::vector<int>{3, 200, 1}}) {
    std::string bytes;
    AppendMessageIndexes(indexes, &bytes);
    bytes += "rest";
    absl::string_view data = bytes;
    std::vector<int> back;
    std::string error;
    ASSERT_TRUE(ReadMessageIndexes(&data, &back, &error)) << error;
    EXPECT_EQ(back, indexes);
    EXPECT_EQ(data, "rest");
  }
}

}  // namespace
}  // namespace sluice::types
