#include "cli/run_options.h"

#include <fmt/format.h>
#include <signal.h>

#include "model/iterations.h"

namespace fb::cli {

std::atomic<bool> g_stop_requested{false};

namespace {
void OnStopSignal(int) { g_stop_requested.store(true); }
}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

void PredictFlags::Add(CLI::App* sub) {
  sub->add_option("--format", format, "output format: csv, seed (pandas to_csv like the seed), jsonl")
      ->check(CLI::IsMember({"csv", "seed", "jsonl"}));
  sub->add_flag("--proba", proba, "add per-class probability columns");
  sub->add_option("--header", header, "input header: auto, yes, no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  sub->add_option("--delimiter", delimiter, "input field separator: one character, or 'tab'");
  sub->add_flag("--output-margin", margin, "write raw margins (before the link) instead of predictions");
  sub->add_option("--iteration-range", iteration_range,
                  "boosting rounds BEGIN:END, 'best' or 'all' (XGBoost models; see docs/xgboost.md)");
}

Result<Forest> PredictFlags::SelectTrees(Forest forest) const {
  return SelectIterationsFlag(std::move(forest), iteration_range);
}

Result<PredictOptions> PredictFlags::Resolve(int threads) const {
  PredictOptions o;
  o.format = format == "seed"    ? ResultFormat::kSeed
             : format == "jsonl" ? ResultFormat::kJsonl
                                 : ResultFormat::kCsv;
  o.proba = proba;
  o.margin = margin;
  o.header = header == "yes" ? CsvHeader::kYes : header == "no" ? CsvHeader::kNo : CsvHeader::kAuto;
  if (delimiter == "tab" || delimiter == "\\t") {
    o.delimiter = '\t';
  } else if (delimiter.size() == 1) {
    o.delimiter = delimiter[0];
  } else {
    return InvalidArgument("--delimiter takes one character (or 'tab'), got '" + delimiter + "'");
  }
  o.threads = threads;
  return o;
}

std::vector<std::string> PredictFlags::AsArgs() const {
  std::vector<std::string> a = {"--format", format, "--header", header, "--delimiter", delimiter};
  if (proba) a.push_back("--proba");
  if (margin) a.push_back("--output-margin");
  if (!iteration_range.empty()) a.insert(a.end(), {"--iteration-range", iteration_range});
  return a;
}

std::string PredictFlags::Fingerprint() const {
  // Margin and iteration range appear only when set, so that fingerprints
  // recorded before they existed still match.
  return fmt::format("predict format={} proba={} header={} delimiter={}{}{}", format, proba ? 1 : 0, header,
                     delimiter, margin ? " margin=1" : "",
                     iteration_range.empty() ? "" : " iterations=" + iteration_range);
}

}  // namespace fb::cli
