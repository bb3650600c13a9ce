#include "runner/array_task.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace fb {
namespace {

Result<std::optional<int64_t>> EnvInt(const GetEnv& env, const char* name) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return std::optional<int64_t>();
  std::string_view s(v);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return InvalidArgument(fmt::format("environment variable {}='{}' is not an integer", name, s));
  }
  return std::optional<int64_t>(out);
}

Status CheckRange(const ArrayTask& t) {
  if (t.count < 1)
    return InvalidArgument(fmt::format("task count {} (from {}) must be at least 1", t.count, t.source));
  if (t.index < 0 || t.index >= t.count) {
    return InvalidArgument(
        fmt::format("task index {} (from {}) is outside [0, {})", t.index, t.source, t.count));
  }
  return Status::Ok();
}

}  // namespace

Result<ArrayTask> ResolveArrayTask(std::optional<int64_t> index, std::optional<int64_t> count,
                                   const GetEnv& getenv_in) {
  GetEnv env = getenv_in ? getenv_in : GetEnv([](const char* n) { return std::getenv(n); });
  ArrayTask t;
  if (index.has_value()) {
    if (!count.has_value()) return InvalidArgument("--index needs --count");
    t = {*index, *count, "--index/--count"};
    FB_RETURN_IF_ERROR(CheckRange(t));
    return t;
  }

  FB_ASSIGN_OR_RETURN(auto aws_index, EnvInt(env, "AWS_BATCH_JOB_ARRAY_INDEX"));
  if (aws_index) {
    FB_ASSIGN_OR_RETURN(auto aws_size, EnvInt(env, "AWS_BATCH_JOB_ARRAY_SIZE"));
    FB_ASSIGN_OR_RETURN(auto workers, EnvInt(env, "NUMBER_OF_WORKERS"));
    t.index = *aws_index;
    if (count) {
      t.count = *count;
      t.source = "AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, --count)";
    } else if (aws_size) {
      t.count = *aws_size;
      t.source = "AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, AWS_BATCH_JOB_ARRAY_SIZE)";
    } else if (workers) {
      t.count = *workers;
      t.source = "AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, NUMBER_OF_WORKERS)";
    } else {
      return InvalidArgument(
          "AWS_BATCH_JOB_ARRAY_INDEX is set but the task count is not: set AWS_BATCH_JOB_ARRAY_SIZE, "
          "NUMBER_OF_WORKERS or --count");
    }
    FB_RETURN_IF_ERROR(CheckRange(t));
    return t;
  }

  FB_ASSIGN_OR_RETURN(auto k8s_index, EnvInt(env, "JOB_COMPLETION_INDEX"));
  if (k8s_index) {
    FB_ASSIGN_OR_RETURN(auto k8s_count, EnvInt(env, "FORESTBATCH_TASK_COUNT"));
    t.index = *k8s_index;
    if (count) {
      t.count = *count;
      t.source = "Kubernetes (JOB_COMPLETION_INDEX, --count)";
    } else if (k8s_count) {
      t.count = *k8s_count;
      t.source = "Kubernetes (JOB_COMPLETION_INDEX, FORESTBATCH_TASK_COUNT)";
    } else {
      return InvalidArgument(
          "JOB_COMPLETION_INDEX is set but Kubernetes does not expose the task count: pass --count or set "
          "FORESTBATCH_TASK_COUNT (the Job's completions)");
    }
    FB_RETURN_IF_ERROR(CheckRange(t));
    return t;
  }

  FB_ASSIGN_OR_RETURN(auto slurm_id, EnvInt(env, "SLURM_ARRAY_TASK_ID"));
  if (slurm_id) {
    FB_ASSIGN_OR_RETURN(auto min, EnvInt(env, "SLURM_ARRAY_TASK_MIN"));
    FB_ASSIGN_OR_RETURN(auto max, EnvInt(env, "SLURM_ARRAY_TASK_MAX"));
    FB_ASSIGN_OR_RETURN(auto step, EnvInt(env, "SLURM_ARRAY_TASK_STEP"));
    FB_ASSIGN_OR_RETURN(auto n, EnvInt(env, "SLURM_ARRAY_TASK_COUNT"));
    if (!min || !n) {
      return InvalidArgument(
          "SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_MIN/SLURM_ARRAY_TASK_COUNT");
    }
    int64_t st = step.value_or(1);
    if (st < 1) return InvalidArgument(fmt::format("SLURM_ARRAY_TASK_STEP={} must be positive", st));
    // A regular array min, min+step, ..., max has (max-min)/step+1 tasks;
    // anything else (e.g. --array=1,3,7) is sparse and has no dense rank.
    if (max && (*max - *min) / st + 1 != *n) {
      return InvalidArgument(
          fmt::format("this Slurm array is sparse (min {}, max {}, step {}, but {} tasks): submit a regular "
                      "range such as "
                      "--array=0-{} so every task can compute its shard",
                      *min, *max, st, *n, *n - 1));
    }
    if ((*slurm_id - *min) % st != 0) {
      return InvalidArgument(
          fmt::format("SLURM_ARRAY_TASK_ID={} is not on the array's step {}", *slurm_id, st));
    }
    t.index = (*slurm_id - *min) / st;
    t.count = count.value_or(*n);
    t.source = "Slurm (SLURM_ARRAY_TASK_ID/MIN/STEP/COUNT)";
    FB_RETURN_IF_ERROR(CheckRange(t));
    return t;
  }

  if (count) {
    t = {0, *count, "--count without an index: task 0"};
    FB_RETURN_IF_ERROR(CheckRange(t));
    return t;
  }
  t.source = "default (no array index found: task 0 of 1)";
  return t;
}

}  // namespace fb
