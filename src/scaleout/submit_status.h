// Following a submitted array job on its engine: how many tasks are
// pending, running, done and failed, and whether the job is over.
//
// Slurm: `squeue -r` for live tasks, then `sacct` for finished ones, or
// `scontrol show job -o` where accounting is disabled (it remembers finished
// jobs for MinJobAge). AWS Batch: `aws batch describe-jobs` (the array's
// statusSummary). Kubernetes: `kubectl get job -o json`.
//
// The Parse* functions take the tools' text so they are tested without the
// engines; QuerySubmittedJob runs the tools (engine_process.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "scaleout/submit.h"

namespace fb {

enum class TaskPhase { kPending, kRunning, kSucceeded, kFailed };

struct EngineJobState {
  int64_t tasks = 0;  // the array size
  int64_t pending = 0, running = 0, succeeded = 0, failed = 0;
  bool finished = false;                       // no task pending or running any more
  std::string engine_state;                    // the engine's own word for the job, when it has one
  std::map<int64_t, std::string> task_states;  // Slurm: task index -> state name
};

nlohmann::json EngineJobStateToJson(const EngineJobState& s);
std::string EngineJobStateLine(const EngineJobState& s);

TaskPhase SlurmStatePhase(const std::string& state);

// Adds tasks from `squeue -h -r -o '%K|%T'`, `sacct -n -P -X -o JobID,State`
// or `scontrol show job -o` output to `states` (later calls override
// earlier ones for the same task).
void ParseSqueueLines(const std::string& text, std::map<int64_t, std::string>& states);
void ParseSacctLines(const std::string& text, const std::string& job_id,
                     std::map<int64_t, std::string>& states);
void ParseScontrolLines(const std::string& text, std::map<int64_t, std::string>& states);
EngineJobState SlurmJobState(const std::map<int64_t, std::string>& states, int64_t workers);

Result<EngineJobState> ParseAwsDescribeJobs(const std::string& json_text, int64_t workers);
Result<EngineJobState> ParseKubectlJob(const std::string& json_text, int64_t workers);

Result<EngineJobState> QuerySubmittedJob(const SubmitRecord& record);

}  // namespace fb
