// Options shared by `run`, `worker` and `resume`: prediction options passed
// from `run` to its workers, and the stop flag set by SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>
#include <vector>

#include "pipeline/file_predictor.h"

namespace fb::cli {

struct PredictFlags {
  std::string format = "csv";
  bool proba = false;
  std::string header = "auto";
  std::string delimiter = ",";

  void Add(CLI::App* sub);
  Result<PredictOptions> Resolve(int threads) const;
  // The same options as worker arguments.
  std::vector<std::string> AsArgs() const;
  // Everything that shapes an output, for manifests.
  std::string Fingerprint() const;
};

// Set by SIGTERM / SIGINT once InstallStopHandlers() ran.
extern std::atomic<bool> g_stop_requested;
void InstallStopHandlers();

}  // namespace fb::cli
