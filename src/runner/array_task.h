// ArrayTask: which task of an array job this process is, found the way each
// engine tells its tasks.
//
// Order: explicit --index/--count; AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX with
// AWS_BATCH_JOB_ARRAY_SIZE or the seed's NUMBER_OF_WORKERS); Kubernetes
// Indexed Jobs (JOB_COMPLETION_INDEX, count from --count or
// FORESTBATCH_TASK_COUNT, since Kubernetes does not expose it); Slurm job
// arrays (rank = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
// SLURM_ARRAY_TASK_STEP, count = SLURM_ARRAY_TASK_COUNT; sparse arrays are
// refused). Nothing at all means task 0 of 1.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace fb {

struct ArrayTask {
  int64_t index = 0;
  int64_t count = 1;
  std::string source;  // where index and count came from, for the log
};

using GetEnv = std::function<const char*(const char*)>;

// `getenv` defaults to the process environment; tests pass a map.
Result<ArrayTask> ResolveArrayTask(std::optional<int64_t> index, std::optional<int64_t> count,
                                   const GetEnv& getenv = nullptr);

}  // namespace fb
