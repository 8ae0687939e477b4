// SchemaStore (schema_store.h) on a DirectoryStorage in a temp dir: ids, versions, dedupe,
// compatibility levels on registration, soft and permanent deletes, persistence across a
// reload, corrupt files, and a failing storage that must change nothing.
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>
#include <string>

#include "common/schema_registry/registry_errors.h"
#include "common/schema_registry/schema_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/schema_registry_test_schemas.h"
#include "tests/test_dirs.h"

namespace sluice::schema_registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using testing::kOrderV1;
using testing::kOrderV2;
using testing::kOrderV2NoDefault;

class SchemaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::FreshTestDir("sluice-registry-store");
    Reopen();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<SchemaStore>> OpenStore() {
    absl::StatusOr<std::unique_ptr<DirectoryStorage>> storage =
        DirectoryStorage::Open(dir_.string());
    if (!storage.ok()) return storage.status();
    return SchemaStore::Open(*std::move(storage));
  }
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<SchemaStore>> store = OpenStore();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  int Register(const std::string& subject, const std::string& schema) {
    absl::StatusOr<int> id = store_->Register(subject, SchemaType::kAvro, schema);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(-1);
  }
  void Write(const std::string& relative, const std::string& content) {
    std::ofstream(dir_ / relative, std::ios::trunc) << content;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SchemaStore> store_;
};

TEST_F(SchemaStoreTest, IdsAreGlobalAndVersionsPerSubject) {
  EXPECT_EQ(Register("orders-value", kOrderV1), 1);
  EXPECT_EQ(Register("orders-value", kOrderV2), 2);
  // The same schema under another subject, with other white space: the same id, version 1.
  EXPECT_EQ(Register("archive-value", R"({ "type": "record", "name": "Order",
      "fields": [ {"name": "id", "type": "long"} ] })"),
            1);
  // Registering a live version again returns its id without a new version.
  EXPECT_EQ(Register("orders-value", kOrderV2), 2);
  EXPECT_THAT(*store_->Versions("orders-value", false), ElementsAre(1, 2));
  EXPECT_THAT(*store_->Versions("archive-value", false), ElementsAre(1));
  EXPECT_THAT(store_->Subjects(false), ElementsAre("archive-value", "orders-value"));

  absl::StatusOr<SubjectVersion> latest = store_->Version("orders-value", kLatestVersion, false);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->record.id, 2);
  EXPECT_EQ(latest->record.schema, kOrderV2);
  EXPECT_EQ(store_->SchemaById(1)->schema, kOrderV1);  // the text as first registered
  EXPECT_THAT(*store_->SubjectVersionsOf(1, false),
              ElementsAre(std::make_pair(std::string("archive-value"), 1),
                          std::make_pair(std::string("orders-value"), 1)));

  absl::StatusOr<SubjectVersion> found =
      store_->Lookup("archive-value", SchemaType::kAvro, kOrderV1, false);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->version, 1);
}

TEST_F(SchemaStoreTest, NotFoundCodes) {
  Register("s", kOrderV1);
  EXPECT_EQ(RegistryErrorCode(store_->Versions("nope", false).status()), kSubjectNotFound);
  EXPECT_EQ(store_->Version("nope", 1, false).status().message(), "Subject 'nope' not found.");
  EXPECT_EQ(RegistryErrorCode(store_->Version("s", 7, false).status()), kVersionNotFound);
  EXPECT_EQ(store_->Version("s", 7, false).status().message(), "Version 7 not found.");
  EXPECT_EQ(RegistryErrorCode(store_->SchemaById(9).status()), kSchemaNotFound);
  EXPECT_EQ(RegistryErrorCode(store_->Lookup("s", SchemaType::kAvro, kOrderV2, false).status()),
            kSchemaNotFound);
  EXPECT_EQ(RegistryErrorCode(store_->Register("", SchemaType::kAvro, kOrderV1).status()),
            kInvalidSubject);
  EXPECT_EQ(RegistryErrorCode(store_->Register("s", SchemaType::kAvro, "{").status()),
            kInvalidSchema);
}

TEST_F(SchemaStoreTest, RegistrationFollowsTheCompatibilityLevel) {
  Register("s", kOrderV1);
  absl::StatusOr<int> refused = store_->Register("s", SchemaType::kAvro, kOrderV2NoDefault);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(RegistryErrorCode(refused.status()), kIncompatibleSchema);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("incompatible with an earlier schema for subject \"s\""));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("new schema reading data of version 1: reader field 'country' has no "
                        "default and is missing from the writer schema"));
  EXPECT_THAT(*store_->Versions("s", false), ElementsAre(1));

  // FORWARD: the old schema must read the new data; a new field without default is fine.
  ASSERT_TRUE(store_->SetSubjectCompatibility("s", CompatibilityLevel::kForward).ok());
  EXPECT_EQ(store_->EffectiveCompatibility("s"), CompatibilityLevel::kForward);
  EXPECT_EQ(store_->EffectiveCompatibility("other"), CompatibilityLevel::kBackward);
  EXPECT_EQ(Register("s", kOrderV2NoDefault), 2);

  // NONE accepts anything of the same type.
  ASSERT_TRUE(store_->SetGlobalCompatibility(CompatibilityLevel::kNone).ok());
  EXPECT_EQ(Register("t", R"("string")"), 3);
  EXPECT_EQ(Register("t", R"("int")"), 4);
}

TEST_F(SchemaStoreTest, TransitiveLevelsCheckEveryVersion) {
  // v1 {a}, v2 {}; the candidates are checked against one or both.
  const std::string a = R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})";
  const std::string none = R"({"type":"record","name":"R","fields":[]})";
  const std::string b_default =
      R"({"type":"record","name":"R","fields":[{"name":"b","type":"int","default":0}]})";
  ASSERT_TRUE(store_->SetSubjectCompatibility("s", CompatibilityLevel::kBackward).ok());
  Register("s", a);
  Register("s", none);
  // BACKWARD: {a} cannot read v2's data (no a, no default).
  EXPECT_THAT(*store_->CompatibilityProblemsOf("s", std::nullopt, SchemaType::kAvro, a),
              ElementsAre(HasSubstr("new schema reading data of version 2")));
  ASSERT_TRUE(store_->SetSubjectCompatibility("s", CompatibilityLevel::kForwardTransitive).ok());
  // FORWARD_TRANSITIVE: v1 {a} must read data of the new schema: it lacks a -> refused.
  absl::StatusOr<std::vector<std::string>> problems =
      store_->CompatibilityProblemsOf("s", std::nullopt, SchemaType::kAvro, b_default);
  ASSERT_TRUE(problems.ok());
  EXPECT_THAT(*problems, ElementsAre("version 1 reading data of the new schema: reader field 'a' "
                                     "has no default and is missing from the writer schema"));
  // Plain FORWARD only checks the latest (v2, no fields): accepted.
  ASSERT_TRUE(store_->SetSubjectCompatibility("s", CompatibilityLevel::kForward).ok());
  EXPECT_THAT(*store_->CompatibilityProblemsOf("s", std::nullopt, SchemaType::kAvro, b_default),
              IsEmpty());
  // Against one version: only that one.
  EXPECT_THAT(*store_->CompatibilityProblemsOf("s", 1, SchemaType::kAvro, b_default),
              ElementsAre(HasSubstr("version 1 reading data of the new schema")));
  // No versions: nothing to be incompatible with.
  EXPECT_THAT(*store_->CompatibilityProblemsOf("new", kLatestVersion, SchemaType::kAvro, a),
              IsEmpty());
  EXPECT_EQ(
      RegistryErrorCode(store_->CompatibilityProblemsOf("new", 1, SchemaType::kAvro, a).status()),
      kSubjectNotFound);
}

TEST_F(SchemaStoreTest, AnotherSchemaTypeIsIncompatible) {
  Register("s", kOrderV1);
  absl::StatusOr<int> refused =
      store_->Register("s", SchemaType::kProtobuf, "syntax = \"proto3\";\nmessage M {}\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("the new schema is of type PROTOBUF but version 1 is AVRO"));
}

TEST_F(SchemaStoreTest, SoftAndPermanentDeletes) {
  Register("s", kOrderV1);
  Register("s", kOrderV2);
  // Permanent before soft is refused.
  EXPECT_EQ(RegistryErrorCode(store_->DeleteVersion("s", 1, true).status()),
            kVersionNotSoftDeleted);
  EXPECT_EQ(*store_->DeleteVersion("s", 1, false), 1);
  EXPECT_EQ(RegistryErrorCode(store_->DeleteVersion("s", 1, false).status()), kVersionSoftDeleted);
  EXPECT_EQ(RegistryErrorCode(store_->DeleteVersion("s", 5, false).status()), kVersionNotFound);
  EXPECT_THAT(*store_->Versions("s", false), ElementsAre(2));
  EXPECT_THAT(*store_->Versions("s", true), ElementsAre(1, 2));
  EXPECT_TRUE(store_->Version("s", 1, true).ok());
  EXPECT_EQ(*store_->DeleteVersion("s", 1, true), 1);
  EXPECT_THAT(*store_->Versions("s", true), ElementsAre(2));

  EXPECT_EQ(RegistryErrorCode(store_->DeleteSubject("s", true).status()), kSubjectNotSoftDeleted);
  EXPECT_THAT(*store_->DeleteSubject("s", false), ElementsAre(2));
  EXPECT_EQ(RegistryErrorCode(store_->DeleteSubject("s", false).status()), kSubjectSoftDeleted);
  EXPECT_THAT(store_->Subjects(false), IsEmpty());
  EXPECT_THAT(store_->Subjects(true), ElementsAre("s"));
  // Re-registering after a soft delete continues the numbering; the id is kept.
  EXPECT_EQ(Register("s", kOrderV1), 1);
  EXPECT_THAT(*store_->Versions("s", false), ElementsAre(3));
  // Schemas stay readable by id.
  EXPECT_TRUE(store_->SchemaById(2).ok());
  EXPECT_THAT(*store_->DeleteSubject("s", false), ElementsAre(3));
  EXPECT_THAT(*store_->DeleteSubject("s", true), ElementsAre(2, 3));
  EXPECT_THAT(store_->Subjects(true), IsEmpty());
  // A new schema never reuses an id.
  EXPECT_EQ(Register("s", R"("string")"), 3);
}

TEST_F(SchemaStoreTest, ConcurrentRegistrationsGetDistinctVersionsAndIds) {
  ASSERT_TRUE(store_->SetGlobalCompatibility(CompatibilityLevel::kNone).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread also registers the shared schema: one id for all of them.
        const std::string mine = R"({"type":"fixed","name":"F","size":)" +
                                 std::to_string(1 + t * kPerThread + i) + "}";
        EXPECT_TRUE(store_->Register("shared", SchemaType::kAvro, mine).ok());
        EXPECT_TRUE(store_->Register("common", SchemaType::kAvro, R"("string")").ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<int> versions = *store_->Versions("shared", false);
  ASSERT_EQ(versions.size(), static_cast<size_t>(kThreads * kPerThread));
  for (int v = 0; v < kThreads * kPerThread; ++v) EXPECT_EQ(versions[v], v + 1);
  EXPECT_THAT(*store_->Versions("common", false), ElementsAre(1));
  std::set<int> ids;
  for (int v : versions) ids.insert(store_->Version("shared", v, false)->record.id);
  ids.insert(store_->Version("common", 1, false)->record.id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kPerThread + 1));
  EXPECT_EQ(*ids.rbegin(), kThreads * kPerThread + 1);  // ids 1..N without gaps
}

TEST_F(SchemaStoreTest, EverythingSurvivesAReload) {
  Register("orders-value", kOrderV1);
  Register("orders-value", kOrderV2);
  Register("weird/subject name", kOrderV1);
  ASSERT_TRUE(store_->SetGlobalCompatibility(CompatibilityLevel::kFull).ok());
  ASSERT_TRUE(store_->SetSubjectCompatibility("orders-value", CompatibilityLevel::kNone).ok());
  ASSERT_TRUE(store_->DeleteVersion("orders-value", 1, false).ok());
  Reopen();
  EXPECT_THAT(store_->Subjects(false), ElementsAre("orders-value", "weird/subject name"));
  EXPECT_THAT(*store_->Versions("orders-value", false), ElementsAre(2));
  EXPECT_THAT(*store_->Versions("orders-value", true), ElementsAre(1, 2));
  EXPECT_EQ(store_->SchemaById(2)->schema, kOrderV2);
  EXPECT_EQ(store_->GlobalCompatibility(), CompatibilityLevel::kFull);
  EXPECT_EQ(store_->EffectiveCompatibility("orders-value"), CompatibilityLevel::kNone);
  // Dedupe and the id counter continue.
  EXPECT_EQ(Register("x", kOrderV2), 2);
  EXPECT_EQ(Register("x2", R"("string")"), 3);
}

TEST_F(SchemaStoreTest, UnreferencedSchemaFileFromACrashIsReused) {
  Register("s", kOrderV1);
  // A crash after writing schema 2 but before the index: only the schema file exists.
  Write("schemas/2.json", R"({"id": 2, "schemaType": "AVRO", "schema": "\"string\""})");
  Write("schemas/3.json.tmp.1234", "half a fi");
  Reopen();
  EXPECT_EQ(Register("t", R"("string")"), 2);
  EXPECT_EQ(Register("t2", R"("int")"), 3);
}

TEST_F(SchemaStoreTest, CorruptFilesAreNamed) {
  Register("s", kOrderV1);
  store_.reset();
  Write("registry.json", "{\"format\": 1, \"next_id\": ");
  absl::StatusOr<std::unique_ptr<SchemaStore>> store = OpenStore();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(
      store.status().message(),
      HasSubstr("schema registry file " + (dir_ / "registry.json").string() + " is corrupt"));

  Write(
      "registry.json",
      R"({"format": 1, "next_id": 2, "subjects": {"s": {"versions": [{"version": 1, "id": 7}]}}})");
  store = OpenStore();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("refers to schema 7"));

  Write("registry.json", R"({"format": 1, "next_id": 2, "subjects": {}})");
  Write("schemas/1.json", R"({"id": 1, "schema": "{\"type\": \"nope\"}"})");
  store = OpenStore();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr((dir_ / "schemas" / "1.json").string()));
  EXPECT_THAT(store.status().message(), HasSubstr("Invalid schema"));
}

TEST_F(SchemaStoreTest, UnwritableDirectoryIsAClearError) {
  // Below a regular file no directory can be created, even by root.
  Write("plain-file", "x");
  absl::StatusOr<std::unique_ptr<DirectoryStorage>> storage =
      DirectoryStorage::Open((dir_ / "plain-file" / "registry").string());
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(storage.status().message(), HasSubstr("cannot create the schema registry directory " +
                                                    (dir_ / "plain-file" / "registry").string()));
}

// A storage whose writes fail on demand, over a real directory.
class FlakyStorage : public RegistryStorage {
 public:
  explicit FlakyStorage(std::unique_ptr<RegistryStorage> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<LoadedRegistry> Load() override { return inner_->Load(); }
  absl::Status WriteSchema(const StoredSchema& schema) override {
    if (fail_schema_) return absl::InternalError("disk full");
    return inner_->WriteSchema(schema);
  }
  absl::Status WriteIndex(const RegistryIndex& index) override {
    if (fail_index_) return absl::InternalError("disk full");
    return inner_->WriteIndex(index);
  }
  void DiscardSchema(int id) override { inner_->DiscardSchema(id); }

  bool fail_schema_ = false;
  bool fail_index_ = false;

 private:
  std::unique_ptr<RegistryStorage> inner_;
};

TEST_F(SchemaStoreTest, FailedWritesChangeNothing) {
  store_.reset();
  auto flaky = std::make_unique<FlakyStorage>(*DirectoryStorage::Open(dir_.string()));
  FlakyStorage* storage = flaky.get();
  absl::StatusOr<std::unique_ptr<SchemaStore>> opened = SchemaStore::Open(std::move(flaky));
  ASSERT_TRUE(opened.ok());
  store_ = *std::move(opened);
  Register("s", kOrderV1);

  storage->fail_index_ = true;
  absl::StatusOr<int> failed = store_->Register("s", SchemaType::kAvro, kOrderV2);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(RegistryErrorCode(failed.status()), kStoreError);
  EXPECT_THAT(failed.status().message(), HasSubstr("disk full"));
  EXPECT_EQ(RegistryErrorCode(store_->SetGlobalCompatibility(CompatibilityLevel::kNone)),
            kStoreError);
  EXPECT_EQ(RegistryErrorCode(store_->DeleteSubject("s", false).status()), kStoreError);
  storage->fail_index_ = false;
  storage->fail_schema_ = true;
  EXPECT_EQ(RegistryErrorCode(store_->Register("s", SchemaType::kAvro, kOrderV2).status()),
            kStoreError);
  storage->fail_schema_ = false;

  EXPECT_THAT(*store_->Versions("s", false), ElementsAre(1));
  EXPECT_EQ(store_->GlobalCompatibility(), CompatibilityLevel::kBackward);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "schemas" / "2.json"));
  EXPECT_EQ(Register("s", kOrderV2), 2);  // the failed attempts used no id
}

}  // namespace
}  // namespace sluice::schema_registry
