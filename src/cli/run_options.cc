#include "cli/run_options.h"

#include <fmt/format.h>
#include <signal.h>

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
  sub->add_option("--delimiter", delimiter, "input field delimiter (one character)");
}

Result<PredictOptions> PredictFlags::Resolve(int threads) const {
  PredictOptions o;
  o.format = format == "seed"    ? OutputFormat::kSeed
             : format == "jsonl" ? OutputFormat::kJsonl
                                 : OutputFormat::kCsv;
  o.proba = proba;
  o.header = header == "yes" ? HeaderMode::kYes : header == "no" ? HeaderMode::kNo : HeaderMode::kAuto;
  if (delimiter.size() != 1) return InvalidArgument("--delimiter must be one character");
  o.delimiter = delimiter[0];
  o.threads = threads;
  return o;
}

std::vector<std::string> PredictFlags::AsArgs() const {
  std::vector<std::string> a = {"--format", format, "--header", header, "--delimiter", delimiter};
  if (proba) a.push_back("--proba");
  return a;
}

std::string PredictFlags::Fingerprint() const {
  return fmt::format("predict format={} proba={} header={} delimiter={}", format, proba ? 1 : 0, header,
                     delimiter);
}

}  // namespace fb::cli
