// Options shared by `run`, `worker` and `resume`: prediction options passed
// from `run` to its workers, and the stop flag set by SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/file_predictor.h"
#include "pipeline/predict_args.h"

namespace fb::cli {

// The prediction options (pipeline/predict_args.h) bound to their flags.
struct PredictFlags : PredictArgs {
  void Add(CLI::App* sub);
};

// Adds --keep-columns, --output-columns and --parquet-compression to a
// command (predict, run, worker); ResolveColumnFlags (pipeline/predict_args.h)
// resolves them.
void AddColumnFlags(CLI::App* sub, std::vector<std::string>* keep, std::vector<std::string>* output,
                    std::string* parquet_compression);

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
