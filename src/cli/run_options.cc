#include "cli/run_options.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdlib>

#include "runner/cost.h"

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

void AddColumnFlags(CLI::App* sub, std::vector<std::string>* keep, std::vector<std::string>* output,
                    std::string* parquet_compression) {
  sub->add_option("--keep-columns", *keep,
                  "input columns copied to the front of every output row, e.g. id,ts (names from the header; "
                  "1-based positions when the input has none); they are not features")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--output-columns", *output,
                  "prediction columns to write, in this order, by their csv header names (prediction, "
                  "proba_<label>, margin_<label>, prediction_<k>); NAME=NEW renames, e.g. proba_1=score "
                  "(a proba_ column implies --proba)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--parquet-compression", *parquet_compression,
                  "compression of --format parquet output: snappy (default), zstd, gzip or none")
      ->check(CLI::IsMember({"snappy", "zstd", "gzip", "none"}));
}

void AddPriceFlag(CLI::App* sub, std::string* text) {
  // Kept as text (empty: the environment's); typed as the number it is.
  sub->add_option("--price-per-vcpu-hour", *text,
                  "price of one vCPU for an hour, to show what the job cost (default: $FORESTBATCH_PRICE)")
      ->type_name("FLOAT");
}

Result<std::optional<double>> PriceFrom(const std::string& text) {
  return ResolvePrice(text, std::getenv(kPriceEnv));
}

void InputFilterFlags::Add(CLI::App* sub) {
  sub->add_option("--include", include,
                  "only input files whose path relative to the input folder matches GLOB (repeatable; * ? [] "
                  "and ** across folders; a pattern without '/' matches the file name)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--exclude", exclude, "skip input files matching GLOB (repeatable; wins over --include)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void PredictFlags::Add(CLI::App* sub) {
  sub->add_option("--format", format,
                  "output format: csv, seed (pandas to_csv like the seed), jsonl, parquet")
      ->check(CLI::IsMember({"csv", "seed", "jsonl", "parquet"}));
  AddColumnFlags(sub, &keep_columns, &output_columns, &parquet_compression);
  sub->add_flag("--proba", proba, "add per-class probability columns");
  sub->add_option("--header", header, "input header: auto, yes, no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  sub->add_option("--delimiter", delimiter, "input field separator: one character, or 'tab'");
  sub->add_flag("--output-margin", margin, "write raw margins (before the link) instead of predictions");
  sub->add_option(
      "--iteration-range", iteration_range,
      "boosting rounds BEGIN:END, 'best' or 'all' (XGBoost and LightGBM models; see docs/xgboost.md)");
}

}  // namespace fb::cli
