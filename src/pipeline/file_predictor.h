// FilePredictor: one input file in, one prediction file out, the unit of work
// of `predict`, `run` and `worker`.
//
// Reads the input (CSV, optionally .gz/.zst) through Storage, maps its
// columns to the model's features, predicts with the fastest engine for the
// machine, and writes the output atomically (nothing appears unless the whole
// file succeeded). Errors name the input file, line and column.
//
// Thread safety: one FilePredictor may run several files concurrently from
// different threads; it owns no per-file state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "infer/predictor.h"
#include "model/forest.h"
#include "storage/storage.h"

namespace fb {

enum class OutputFormat : uint8_t { kCsv, kSeed, kJsonl };
enum class HeaderMode : uint8_t { kAuto, kYes, kNo };

struct PredictOptions {
  OutputFormat format = OutputFormat::kCsv;
  bool proba = false;   // add per-class probability columns
  bool margin = false;  // output raw margins instead (XGBoost --output-margin)
  HeaderMode header = HeaderMode::kAuto;
  char delimiter = ',';
  int threads = 0;  // 0: all cores
};

struct FileStats {
  uint64_t rows = 0;
  std::vector<uint64_t> class_counts;  // classifiers: rows predicted per class, in class order
  std::string output_sha256;           // hex digest of the bytes written
  uint64_t output_bytes = 0;
  double read_seconds = 0, predict_seconds = 0, write_seconds = 0, total_seconds = 0;
};

class FilePredictor {
 public:
  static Result<std::unique_ptr<FilePredictor>> Create(std::shared_ptr<const Forest> forest,
                                                       PredictOptions options);
  virtual ~FilePredictor() = default;
  // Predicts `input` into `output` (URIs or paths; "-" = stdin/stdout).
  // `cancel`, when set to true by another thread, stops the file early with
  // kCancelled and leaves no output.
  virtual Result<FileStats> Run(const std::string& input, const std::string& output,
                                const std::atomic<bool>* cancel = nullptr) = 0;
};

}  // namespace fb
