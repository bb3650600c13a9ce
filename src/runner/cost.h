// Cost: what a job used, in vCPU-seconds (the user + system CPU time of its
// worker processes, measured by the supervisor with wait4()), and what that
// costs at a price per vCPU-hour that the user gives (--price-per-vcpu-hour or
// FORESTBATCH_PRICE; forestbatch never fetches prices).
//
// The figure is CPU time used, not capacity reserved: a cloud bills the vCPUs
// of an instance for as long as it runs, busy or not, which is at least this
// (docs/cost.md).
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace fb {

// The environment variable that gives a price when no flag does.
inline constexpr const char* kPriceEnv = "FORESTBATCH_PRICE";

struct JobCost {
  double vcpu_seconds = 0;
  int64_t files = 0;  // files the job made (done, not skipped)
  uint64_t rows = 0;  // rows of those files
  std::optional<double> price_per_vcpu_hour;

  // Each is nullopt without a price; the per-unit figures also without units.
  std::optional<double> Cost() const;
  std::optional<double> PerThousandFiles() const;
  std::optional<double> PerMillionRows() const;
};

// A price per vCPU-hour: a finite, non-negative decimal number. `source`
// names where the text came from, for the error.
Result<double> ParsePrice(const std::string& text, const std::string& source);

// The price from a flag's text (when non-empty) or else the environment
// variable's value (when set and non-empty); nullopt when neither.
Result<std::optional<double>> ResolvePrice(const std::string& flag_text, const char* env_value);

// An amount of money (no currency: the price's) with three significant
// digits below 1 and cents above: "0.000137", "12.40".
std::string FormatAmount(double amount);

// One line for people: "12.3 vCPU-seconds" plus, with a price, the cost and
// the cost per 1,000 files and per million rows.
std::string CostLine(const JobCost& c);

}  // namespace fb
