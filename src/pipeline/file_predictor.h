// FilePredictor: one input file in, one prediction file out, the unit of work
// of `predict`, `run` and `worker`.
//
// Reads the input (CSV, optionally .gz/.zst, or Parquet: io/table_open.h)
// through the Storage it is handed, maps its columns to the model's features
// (io/column_map.h), predicts with the fastest engine for the machine, and
// writes the output (csv, seed, jsonl or parquet, with kept input columns
// first) atomically: nothing appears unless the whole file succeeded. Errors
// name the input file, line (Parquet: row) and column.
//
// Pipeline: the calling thread reads the input in chunks of whole rows and
// writes results in order; a pool of options.threads workers (shared by all
// Run calls of this FilePredictor, started on the first input larger than one
// chunk) parses, predicts, finalizes and formats chunks in parallel. An input
// that fits in one chunk is done on the calling thread alone.
//
// Output "-" (stdout) cannot be rolled back: its bytes are held in memory
// until the input is fully read (up to 256 MiB of output; beyond that they
// stream), so a failed run prints nothing.
//
// Thread safety: one FilePredictor may run several files concurrently from
// different threads; it owns no per-file state.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/compression.h"
#include "common/status.h"
#include "infer/predictor.h"
#include "io/csv_reader.h"
#include "io/result_writer.h"
#include "model/forest.h"
#include "storage/storage.h"

namespace fb {

// The output name for an input name: its compression suffix dropped
// (a.csv.gz -> a.csv), then for jsonl and parquet output the extension
// replaced (a.csv -> a.parquet; a name without one gets it added); csv and
// seed outputs of a Parquet input end in .csv. The one naming rule of
// predict, run and worker.
std::string OutputNameFor(std::string_view input_name, ResultFormat format);

struct PredictOptions {
  ResultFormat format = ResultFormat::kCsv;
  bool proba = false;   // add per-class probability columns
  bool margin = false;  // output raw margins instead (XGBoost --output-margin)
  CsvHeader header = CsvHeader::kAuto;
  char delimiter = ',';
  int threads = 0;  // 0: all cores
  // Input is read and parsed in chunks of about this many bytes (whole rows);
  // up to 2 x threads + 2 chunks are in flight, which bounds memory.
  size_t chunk_bytes = size_t{1} << 20;
  // Input columns carried to the output (names; 1-based positions without a
  // header), and the prediction columns written ("NAME" or "NAME=NEW").
  std::vector<std::string> keep_columns = {};
  std::vector<std::string> output_columns = {};
  // Parquet output compression (snappy, zstd, gzip or none).
  Compression parquet_compression = Compression::kSnappy;
  int64_t parquet_rows_per_group = int64_t{1} << 20;
};

// The output columns `options` ask of `forest` (label, probabilities or
// margins, their names): the one place that turns a model and the predict
// options into a ResultLayout, for FilePredictor and for train's
// --test-output alike. Kept columns are the caller's to add.
ResultLayout LayoutFor(const Forest& forest, const PredictOptions& options);

// The storage backend for a URI or path; the pipeline opens every file
// through the one it is handed (tests hand in-memory and fault-injecting
// ones).
using StorageLookup = std::function<Result<std::shared_ptr<Storage>>(const std::string& uri)>;

// Stage times are CPU seconds summed over threads (stages overlap, so they
// may add up to more than total_seconds, the wall time): read = reading,
// decompressing and parsing; predict = trees and Finalize; write =
// formatting and writing.
struct FileStats {
  uint64_t rows = 0;
  std::vector<uint64_t> class_counts;  // classifiers: rows predicted per class, in class order
  std::string output_sha256;           // hex digest of the bytes written
  uint64_t output_bytes = 0;
  double read_seconds = 0, predict_seconds = 0, write_seconds = 0, total_seconds = 0;
  uint64_t input_bytes_read = 0;  // Parquet: bytes fetched (footer and needed column chunks)
};

class FilePredictor {
 public:
  // `storage` null: StorageFor (local paths and s3:// URIs).
  static Result<std::unique_ptr<FilePredictor>> Create(std::shared_ptr<const Forest> forest,
                                                       PredictOptions options,
                                                       StorageLookup storage = nullptr);
  virtual ~FilePredictor() = default;
  // Predicts `input` into `output` (URIs or paths; "-" = stdin/stdout).
  // `cancel`, when set to true by another thread, stops the file early with
  // kCancelled and leaves no output.
  virtual Result<FileStats> Run(const std::string& input, const std::string& output,
                                const std::atomic<bool>* cancel = nullptr) = 0;
};

}  // namespace fb
