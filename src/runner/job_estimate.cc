#include "runner/job_estimate.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runner/cost.h"
#include "runner/job_report.h"

namespace fb {
namespace {

using json = nlohmann::json;

json Opt(std::optional<double> v) { return v ? json(*v) : json(nullptr); }

std::optional<double> CostOf(double vcpu_seconds, std::optional<double> price) {
  if (!price) return std::nullopt;
  return vcpu_seconds / 3600.0 * *price;
}

std::string Amount(std::optional<double> v) { return v ? FormatAmount(*v) : std::string("-"); }

}  // namespace

std::string EstimateRecord::ToJson() const {
  json j = {{"made_at", made_at},
            {"files", files},
            {"workers", workers},
            {"vcpus_per_task", vcpus_per_task},
            {"duration_seconds", duration_seconds},
            {"vcpu_seconds", vcpu_seconds},
            {"price_per_vcpu_hour", Opt(price_per_vcpu_hour)},
            {"sample", sample},
            {"assumptions", assumptions}};
  return j.dump();
}

Result<EstimateRecord> EstimateRecord::FromJson(const std::string& text) {
  try {
    json j = json::parse(text);
    EstimateRecord e;
    e.made_at = j.value("made_at", "");
    e.files = j.at("files").get<int64_t>();
    e.workers = j.at("workers").get<int64_t>();
    e.vcpus_per_task = j.at("vcpus_per_task").get<double>();
    e.duration_seconds = j.at("duration_seconds").get<double>();
    e.vcpu_seconds = j.at("vcpu_seconds").get<double>();
    if (j.contains("price_per_vcpu_hour") && j["price_per_vcpu_hour"].is_number())
      e.price_per_vcpu_hour = j["price_per_vcpu_hour"].get<double>();
    e.sample = j.value("sample", "");
    if (j.contains("assumptions")) e.assumptions = j["assumptions"].get<std::vector<std::string>>();
    return e;
  } catch (const std::exception& ex) {
    return InvalidData(std::string("bad estimate record: ") + ex.what());
  }
}

std::optional<double> EstimateComparison::EstimatedCost() const {
  return CostOf(estimate.vcpu_seconds, price);
}
std::optional<double> EstimateComparison::ActualReservedCost() const {
  return CostOf(actual.reserved_vcpu_seconds, price);
}
std::optional<double> EstimateComparison::ActualUsedCost() const {
  return CostOf(actual.used_vcpu_seconds, price);
}

double EstimateComparison::FinishedFraction() const {
  if (actual.files_total <= 0) return actual.finished ? 1.0 : 0.0;
  return std::clamp(static_cast<double>(actual.files_finished) / static_cast<double>(actual.files_total), 0.0,
                    1.0);
}

std::optional<double> EstimateComparison::DurationRatio() const {
  if (estimate.duration_seconds <= 0) return std::nullopt;
  return actual.duration_seconds / estimate.duration_seconds;
}

EstimateComparison CompareEstimate(const EstimateRecord& e, const JobActuals& a,
                                   std::optional<double> price) {
  EstimateComparison c;
  c.estimate = e;
  c.actual = a;
  c.price = price ? price : e.price_per_vcpu_hour;
  return c;
}

std::string EstimateComparisonJson(const EstimateComparison& c) {
  json estimate = json::parse(c.estimate.ToJson());
  json j = {{"estimate", estimate},
            {"actual",
             {{"duration_seconds", c.actual.duration_seconds},
              {"reserved_vcpu_seconds", c.actual.reserved_vcpu_seconds},
              {"used_vcpu_seconds", c.actual.used_vcpu_seconds},
              {"files_finished", c.actual.files_finished},
              {"files_total", c.actual.files_total},
              {"finished", c.actual.finished}}},
            {"finished_fraction", c.FinishedFraction()},
            {"price_per_vcpu_hour", Opt(c.price)},
            {"cost",
             {{"estimated", Opt(c.EstimatedCost())},
              {"actual_reserved", Opt(c.ActualReservedCost())},
              {"actual_used", Opt(c.ActualUsedCost())}}},
            {"duration_ratio", Opt(c.DurationRatio())}};
  return j.dump();
}

std::string EstimateComparisonText(const EstimateComparison& c) {
  const auto& e = c.estimate;
  const auto& a = c.actual;
  std::string s = fmt::format(
      "estimate ({}, {} workers x {} vCPU, sample {}): {}, {:.1f} reserved vCPU-seconds", e.made_at,
      e.workers, e.vcpus_per_task, e.sample, FormatDuration(e.duration_seconds), e.vcpu_seconds);
  if (c.price) s += fmt::format(", cost {} at {} per vCPU-hour", Amount(c.EstimatedCost()), Amount(c.price));
  s += "\n";
  s += fmt::format("actual{}: {}, {:.1f} reserved vCPU-seconds ({:.1f} used)",
                   a.finished ? "" : fmt::format(" so far ({} of {} files)", a.files_finished, a.files_total),
                   FormatDuration(a.duration_seconds), a.reserved_vcpu_seconds, a.used_vcpu_seconds);
  if (c.price)
    s += fmt::format(", cost {} reserved ({} used)", Amount(c.ActualReservedCost()),
                     Amount(c.ActualUsedCost()));
  if (auto r = c.DurationRatio(); r && a.finished) s += fmt::format("; {:.2f}x the estimated time", *r);
  return s + "\n";
}

}  // namespace fb
