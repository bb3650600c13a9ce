// EstimateRecord: the projection of a job made before it ran (by `run
// --estimate` or `submit --estimate`: one sample input timed on this machine,
// scaleout/estimate.h), kept with the job's records (the job database, or the
// submit record), and its comparison with what the job then took.
//
// The estimate counts reserved vCPU-seconds: each task's vCPUs from its start
// to its end. The actual is counted as reserved too (the workers' vCPUs for
// as long as the job ran, every run), beside the CPU time the workers used
// (runner/cost.h), so like is compared with like.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fb {

struct EstimateRecord {
  std::string made_at;  // UTC, ISO 8601
  int64_t files = 0, workers = 0;
  double vcpus_per_task = 0;
  double duration_seconds = 0;  // the slowest task
  double vcpu_seconds = 0;      // reserved: vCPUs x task time, summed over tasks
  std::optional<double> price_per_vcpu_hour;
  std::string sample;                    // the input timed
  std::vector<std::string> assumptions;  // as the estimate listed them

  std::string ToJson() const;
  static Result<EstimateRecord> FromJson(const std::string& json);
};

// What the job took, as far as it has run.
struct JobActuals {
  double duration_seconds = 0;       // wall time of every run (so far, while it runs)
  double reserved_vcpu_seconds = 0;  // the job's time x its workers x vCPUs per worker
  double used_vcpu_seconds = 0;      // the workers' CPU time
  int64_t files_finished = 0, files_total = 0;
  bool finished = false;  // the job ended (succeeded, failed, cancelled...)
};

struct EstimateComparison {
  EstimateRecord estimate;
  JobActuals actual;
  std::optional<double> price;  // the one both costs are at: the caller's, else the estimate's
  std::optional<double> EstimatedCost() const;
  std::optional<double> ActualReservedCost() const;
  std::optional<double> ActualUsedCost() const;
  // The estimate scaled to the part of the job that is finished (for a job
  // still running or stopped part way): duration and vCPU-seconds at this
  // fraction of the files.
  double FinishedFraction() const;
  // actual / estimate for duration (nullopt when the estimate is 0).
  std::optional<double> DurationRatio() const;
};

EstimateComparison CompareEstimate(const EstimateRecord& e, const JobActuals& a,
                                   std::optional<double> price_per_vcpu_hour);

// {"estimate": {...}, "actual": {...}, "price_per_vcpu_hour", "cost": {"estimated", "actual_reserved",
// "actual_used"}, "duration_ratio"} (docs/run.md).
std::string EstimateComparisonJson(const EstimateComparison& c);

// Lines for people ("estimate: 1m 2.0s, 120.0 reserved vCPU-seconds (cost 0.00067); actual: ...").
std::string EstimateComparisonText(const EstimateComparison& c);

// Why a job has no estimate, for the places that would show one.
inline constexpr const char* kNoEstimate =
    "none: the job was started without --estimate (run --estimate or submit --estimate time one sample "
    "input first and keep the projection with the job)";

}  // namespace fb
