// SlotPool: the task slots of the registered TaskManagers and which job holds each. A job
// asks for N shared slots at once (slot sharing: shared slot i runs subtask i of every
// vertex); they are spread round-robin over the TaskManagers with free slots, those with the
// most free slots first, so a 4-slot job on 3 TaskManagers x 2 slots uses all three.
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::jobmanager {

class SlotPool {
 public:
  // A TaskManager and its slots become available (registration order breaks ties).
  void AddTaskManager(absl::string_view tm_id, int slots);
  // The TaskManager is gone: its slots vanish (also from the jobs that held them).
  void RemoveTaskManager(absl::string_view tm_id);

  // Allocates `n` slots to `job_id`: the tm_id of each shared slot 0..n-1.
  // ResourceExhausted when fewer than `n` slots are free (nothing is allocated then).
  absl::StatusOr<std::vector<std::string>> Allocate(absl::string_view job_id, int n);
  // Gives back every slot `job_id` holds.
  void Release(absl::string_view job_id);

  int FreeSlots() const;
  int FreeSlots(absl::string_view tm_id) const;
  int TotalSlots(absl::string_view tm_id) const;

 private:
  struct TaskManagerSlots {
    int total = 0;
    uint64_t sequence = 0;
    absl::flat_hash_map<std::string, int> held;  // job id -> slots it holds here
    int used() const;
  };
  uint64_t next_sequence_ = 0;
  absl::flat_hash_map<std::string, TaskManagerSlots> tms_;
};

}  // namespace sluice::jobmanager
