#include "cli/run_options.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdlib>

#include "model/iterations.h"
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

namespace {
// "a,b" and repeated flags alike: every comma-separated item.
std::vector<std::string> SplitItems(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& s : in) {
    size_t at = 0;
    for (;;) {
      const size_t comma = s.find(',', at);
      std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  return out;
}
}  // namespace

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

Status ResolveColumnFlags(const std::vector<std::string>& keep, const std::vector<std::string>& output,
                          const std::string& parquet_compression, PredictOptions* o) {
  o->keep_columns = SplitItems(keep);
  o->output_columns = SplitItems(output);
  for (const std::string& c : o->output_columns)
    if (c.rfind("proba_", 0) == 0 && !o->margin) o->proba = true;
  o->parquet_compression = parquet_compression == "zstd"   ? Compression::kZstd
                           : parquet_compression == "gzip" ? Compression::kGzip
                           : parquet_compression == "none" ? Compression::kNone
                                                           : Compression::kSnappy;
  return Status::Ok();
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

Result<Forest> PredictFlags::SelectTrees(Forest forest) const {
  return SelectIterationsFlag(std::move(forest), iteration_range);
}

Result<PredictOptions> PredictFlags::Resolve(int threads) const {
  PredictOptions o;
  o.format = format == "seed"      ? ResultFormat::kSeed
             : format == "jsonl"   ? ResultFormat::kJsonl
             : format == "parquet" ? ResultFormat::kParquet
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
  FB_RETURN_IF_ERROR(ResolveColumnFlags(keep_columns, output_columns, parquet_compression, &o));
  return o;
}

std::vector<std::string> PredictFlags::AsArgs() const {
  std::vector<std::string> a = {"--format", format, "--header", header, "--delimiter", delimiter};
  if (proba) a.push_back("--proba");
  if (margin) a.push_back("--output-margin");
  if (!iteration_range.empty()) a.insert(a.end(), {"--iteration-range", iteration_range});
  for (const std::string& k : keep_columns) a.insert(a.end(), {"--keep-columns", k});
  for (const std::string& k : output_columns) a.insert(a.end(), {"--output-columns", k});
  if (format == "parquet") a.insert(a.end(), {"--parquet-compression", parquet_compression});
  return a;
}

std::string PredictFlags::Fingerprint() const {
  // Margin and iteration range appear only when set, so that fingerprints
  // recorded before they existed still match.
  std::string cols;
  for (const std::string& k : keep_columns) cols += " keep=" + k;
  for (const std::string& k : output_columns) cols += " columns=" + k;
  if (format == "parquet") cols += " compression=" + parquet_compression;
  return fmt::format("predict format={} proba={} header={} delimiter={}{}{}{}", format, proba ? 1 : 0, header,
                     delimiter, margin ? " margin=1" : "",
                     iteration_range.empty() ? "" : " iterations=" + iteration_range, cols);
}

}  // namespace fb::cli
