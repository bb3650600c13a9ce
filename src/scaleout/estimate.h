// Estimate: what a submitted job will take and cost, projected from one
// sample input timed on this machine (`forestbatch submit --estimate
// --dry-run`).
//
// TimeSample runs this binary's `worker` on one input file (the median-sized
// one) into a temporary folder, as a child process reaped with wait4(), and
// reads the output's manifest for the file's own time. ProjectEstimate then
// scales: each task pays the sample's start-up (process, model load, listing)
// once, and its files' bytes at the sample's seconds per byte; the job lasts as
// long as its slowest task; the vCPUs of every task are paid for while it
// runs. Every assumption is listed in the report.
//
// Thread safety: TimeSample starts and waits for a child process; the rest
// are pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runner/job_estimate.h"
#include "runner/local_job.h"
#include "runner/shard_plan.h"
#include "storage/storage.h"

namespace fb {

// What the worker options after `--` say about the job's inputs.
struct EstimateJob {
  std::string input, output;
  ShardBy shard_by = ShardBy::kCount;
  InputFilter filter;
  std::vector<std::string> sample_args;  // the worker options without those a sample run replaces
};

// Reads --input/-i, --output/-o (or INPUT_DIR/OUTPUT_DIR from `env`),
// --shard-by, --include and --exclude from worker options.
Result<EstimateJob> ParseEstimateJob(const std::vector<std::string>& worker_args,
                                     const std::vector<std::pair<std::string, std::string>>& env);

struct SampleTiming {
  std::string input;  // the sample's URI
  uint64_t bytes = 0;
  uint64_t rows = 0;
  int threads = 1;          // prediction threads the sample ran with
  double wall_seconds = 0;  // the whole worker process
  double cpu_seconds = 0;   // its user + system time
  double file_seconds = 0;  // the file alone (manifest total_seconds)
};

// The input whose size is the median of `files` (the smaller of two middles).
// Precondition: `files` is not empty.
const ObjectInfo& MedianSample(const std::vector<ObjectInfo>& files);

// Runs `self_exe worker SAMPLE_ARGS --input SAMPLE --output TMP --index 0
// --count 1 --threads THREADS` and measures it. Errors: the worker's exit
// code and the end of its output when it fails.
Result<SampleTiming> TimeSample(const std::string& self_exe, const EstimateJob& job, const ObjectInfo& sample,
                                int threads);

struct Estimate {
  int64_t files = 0, workers = 0;
  uint64_t bytes = 0;
  double vcpus_per_task = 0;
  int64_t most_files_per_task = 0;
  double startup_seconds = 0;   // per task
  double seconds_per_byte = 0;  // at the task's vCPUs
  double duration_seconds = 0;  // the slowest task
  double vcpu_seconds = 0;      // reserved: every task's vCPUs while it runs
  std::optional<double> price_per_vcpu_hour;
  std::optional<double> Cost() const;
  std::optional<double> PerThousandFiles() const;
  std::vector<std::string> assumptions;
};

// Projects the job's duration and cost from the sample. `vcpus_per_task` > 0.
Estimate ProjectEstimate(const std::vector<ObjectInfo>& files, int64_t workers, double vcpus_per_task,
                         ShardBy shard_by, const SampleTiming& sample, std::optional<double> price);

// The estimate for people, with the sample's figures and the assumptions.
std::string EstimateReport(const Estimate& e, const SampleTiming& sample);

// The record kept with the job (runner/job_estimate.h), made now.
EstimateRecord ToEstimateRecord(const Estimate& e, const SampleTiming& sample);

// A local `run`'s estimate: the same sample and projection as `submit
// --estimate`, for the spec's workers (one vCPU per worker thread) and its
// worker options. The sample's output goes to a temporary folder.
struct LocalRunEstimate {
  Estimate estimate;
  SampleTiming sample;
};
Result<LocalRunEstimate> EstimateLocalRun(const std::string& self_exe, const JobSpec& spec,
                                          std::optional<double> price);

// "2", "1.5" or Kubernetes' "500m": vCPUs per task.
Result<double> ParseVcpus(const std::string& text);

}  // namespace fb
