// Options shared by `run`, `worker` and `resume`: prediction options passed
// from `run` to its workers, and the stop flag set by SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/file_predictor.h"

namespace fb::cli {

struct PredictFlags {
  std::string format = "csv";
  bool proba = false;
  std::string header = "auto";
  std::string delimiter = ",";
  bool margin = false;                      // --output-margin
  std::string iteration_range;              // --iteration-range; empty: the model's default
  std::vector<std::string> keep_columns;    // --keep-columns
  std::vector<std::string> output_columns;  // --output-columns
  std::string parquet_compression = "snappy";

  // The model's trees that predictions use (--iteration-range, see
  // model/iterations.h).
  Result<Forest> SelectTrees(Forest forest) const;

  void Add(CLI::App* sub);
  Result<PredictOptions> Resolve(int threads) const;
  // The same options as worker arguments.
  std::vector<std::string> AsArgs() const;
  // Everything that shapes an output, for manifests.
  std::string Fingerprint() const;
};

// Adds --keep-columns, --output-columns and --parquet-compression to a
// command (predict, run, worker) and resolves them into `o`.
void AddColumnFlags(CLI::App* sub, std::vector<std::string>* keep, std::vector<std::string>* output,
                    std::string* parquet_compression);
Status ResolveColumnFlags(const std::vector<std::string>& keep, const std::vector<std::string>& output,
                          const std::string& parquet_compression, PredictOptions* o);

// Input selection (--include / --exclude GLOB, repeatable) shared by
// predict, run and worker.
struct InputFilterFlags {
  std::vector<std::string> include, exclude;
  void Add(CLI::App* sub);
};

// --price-per-vcpu-hour, shared by run, resume, status, serve and submit:
// the text as given; PriceFrom resolves it, falling back on FORESTBATCH_PRICE
// (runner/cost.h).
void AddPriceFlag(CLI::App* sub, std::string* text);
Result<std::optional<double>> PriceFrom(const std::string& text);

// Set by SIGTERM / SIGINT once InstallStopHandlers() ran.
extern std::atomic<bool> g_stop_requested;
void InstallStopHandlers();

}  // namespace fb::cli
