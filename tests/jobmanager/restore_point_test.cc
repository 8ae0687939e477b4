// AssignRestoreState: which old subtasks' state each new subtask restores. Operator state
// goes to exactly one new subtask (old i -> new i % P), except union entries (the Kafka
// source's offsets), which every new subtask gets at any parallelism; keyed state goes where
// key groups overlap.
#include "jobmanager/restore_point.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sluice::jobmanager {
namespace {

// Vertex 0 at `parallelism`: chain[0] a source with union state "u<i>" (or plain "p<i>"),
// chain[1] an operator with plain state "o<i>" and keyed state over its key groups.
proto::CheckpointMetadata Metadata(int parallelism, bool union_source) {
  proto::CheckpointMetadata m;
  m.set_checkpoint_id(5);
  m.set_max_parallelism(8);
  auto* v = m.add_vertices();
  v->set_vertex_id(0);
  v->set_parallelism(parallelism);
  for (int i = 0; i < parallelism; ++i) {
    proto::TaskStateSnapshot* t = m.add_tasks();
    t->set_vertex_id(0);
    t->set_subtask(i);
    auto* source = t->add_operators();
    source->set_chain_index(0);
    source->set_operator_state(absl::StrCat(union_source ? "u" : "p", i));
    source->set_union_state(union_source);
    auto* op = t->add_operators();
    op->set_chain_index(1);
    op->set_operator_state(absl::StrCat("o", i));
    t->mutable_keyed()->set_key_group_first(i * 8 / parallelism);
    t->mutable_keyed()->set_key_group_last((i + 1) * 8 / parallelism - 1);
  }
  return m;
}

// The operator states a subtask restores, per chain index, and its keyed handles' ranges.
struct Share {
  std::map<int, std::vector<std::string>> states;
  std::vector<std::string> keyed;
};
Share ShareOf(const proto::CheckpointMetadata& m, int subtask, int parallelism) {
  Share share;
  for (const proto::TaskStateSnapshot& t : AssignRestoreState(m, 0, subtask, parallelism, 8)) {
    for (const auto& op : t.operators()) share.states[op.chain_index()].push_back(op.operator_state());
    if (t.has_keyed()) {
      share.keyed.push_back(absl::StrCat(t.keyed().key_group_first(), "-", t.keyed().key_group_last()));
    }
  }
  return share;
}

TEST(AssignRestoreStateTest, UnionStateGoesToEverySubtaskAtAnyParallelism) {
  const proto::CheckpointMetadata m = Metadata(3, /*union_source=*/true);
  for (int parallelism : {1, 2, 3, 5}) {
    SCOPED_TRACE(absl::StrCat("parallelism ", parallelism));
    std::map<std::string, int> plain_owners;
    for (int s = 0; s < parallelism; ++s) {
      Share share = ShareOf(m, s, parallelism);
      EXPECT_EQ(share.states[0], (std::vector<std::string>{"u0", "u1", "u2"}));
      for (const std::string& o : share.states[1]) ++plain_owners[o];
    }
    // Plain entries still have exactly one owner each.
    EXPECT_EQ(plain_owners, (std::map<std::string, int>{{"o0", 1}, {"o1", 1}, {"o2", 1}}));
  }
}

TEST(AssignRestoreStateTest, PlainStateKeepsOneOwnerAndKeyedStateFollowsKeyGroups) {
  const proto::CheckpointMetadata m = Metadata(2, /*union_source=*/false);
  Share same = ShareOf(m, 1, 2);
  EXPECT_EQ(same.states[0], (std::vector<std::string>{"p1"}));
  EXPECT_EQ(same.keyed, (std::vector<std::string>{"4-7"}));
  Share down = ShareOf(m, 0, 1);
  EXPECT_EQ(down.states[0], (std::vector<std::string>{"p0", "p1"}));
  EXPECT_EQ(down.keyed, (std::vector<std::string>{"0-3", "4-7"}));
  Share up = ShareOf(m, 3, 4);  // key groups 6-7; no old subtask 3
  EXPECT_TRUE(up.states.empty());
  EXPECT_EQ(up.keyed, (std::vector<std::string>{"4-7"}));
}

}  // namespace
}  // namespace sluice::jobmanager
