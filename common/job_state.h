// Job state facts shared by the JobManager and the CLI.
#pragma once

#include "proto/control.pb.h"

namespace sluice {

// FINISHED, FAILED or CANCELED: the job will not run again.
inline bool IsJobEnded(proto::JobState state) {
  return state == proto::JOB_FINISHED || state == proto::JOB_FAILED ||
         state == proto::JOB_CANCELED;
}

}  // namespace sluice
