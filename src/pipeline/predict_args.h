// PredictArgs: the prediction options of `predict`-like commands as their
// words (--format csv, --header auto, ...): resolved into PredictOptions,
// handed on to workers as the same arguments, and fingerprinted for the
// outputs' manifests. `run` passes them to its workers and `worker` predicts
// with them; the command line (cli/run_options.h) only binds them to flags.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "model/forest.h"
#include "pipeline/file_predictor.h"

namespace fb {

struct PredictArgs {
  std::string format = "csv";  // csv, seed, jsonl, parquet
  bool proba = false;
  std::string header = "auto";              // auto, yes, no
  std::string delimiter = ",";              // one character, or "tab"
  bool margin = false;                      // --output-margin
  std::string iteration_range;              // --iteration-range; empty: the model's default
  std::vector<std::string> keep_columns;    // --keep-columns
  std::vector<std::string> output_columns;  // --output-columns
  std::string parquet_compression = "snappy";

  // The model's trees that predictions use (--iteration-range, see
  // model/iterations.h).
  Result<Forest> SelectTrees(Forest forest) const;
  Result<PredictOptions> Resolve(int threads) const;
  // The same options as worker arguments.
  std::vector<std::string> AsArgs() const;
  // Everything that shapes an output, for manifests.
  std::string Fingerprint() const;
};

// --keep-columns, --output-columns (each "a,b" or repeated) and
// --parquet-compression resolved into `o` (a proba_ output column implies
// proba unless margins are asked for).
Status ResolveColumnFlags(const std::vector<std::string>& keep, const std::vector<std::string>& output,
                          const std::string& parquet_compression, PredictOptions* o);

}  // namespace fb
