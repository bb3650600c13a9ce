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

// The CSV chunk size for a model, chosen by measurement (CPU time of
// `forestbatch predict` over chunk sizes from 32 KiB to 8 MiB, AMD EPYC Zen 5,
// 2 vCPUs, 2026-12-03; BENCHMARKS.md, "Chunk size"):
//   - every tree has at most 127 nodes (depth 6 and shallower: the
//     complete-tree kernel; also trees of up to 64 leaves, whose bitvector
//     kernel is as cheap per row but was not measured): 256 KiB. A chunk's
//     parsed rows (about 2,000 rows of the seed's 59 features, 0.5 MB of
//     floats) then stay in the core's L2 cache from the parse to the trees,
//     which pass over them many times: the seed file (200 depth-5 trees)
//     took 95 ms of CPU with 128 or 256 KiB chunks against 115 ms with 1 MiB
//     (median of 15), and a 500-round depth-6 XGBoost model 268 against
//     320 ms (median of 7);
//   - larger trees: 1 MiB. Their kernel's cost is walking each tree's nodes
//     out of cache, repaid over more rows per chunk: a 100-tree fully grown
//     forest (200,000 rows x 20 features) took 3.3 s of CPU with 256 KiB
//     chunks and 4.0 s with 128 KiB, against 2.1-2.6 s from 1 to 8 MiB (no
//     clear best within the noise of a shared machine).
size_t ChunkBytesFor(const Forest& forest);

struct PredictOptions {
  ResultFormat format = ResultFormat::kCsv;
  bool proba = false;   // add per-class probability columns
  bool margin = false;  // output raw margins instead (XGBoost --output-margin)
  CsvHeader header = CsvHeader::kAuto;
  char delimiter = ',';
  int threads = 0;  // 0: all cores
  // Input is read and parsed in chunks of about this many bytes (whole rows);
  // up to 2 x threads + 2 chunks are in flight, which bounds memory.
  // 0: ChunkBytesFor(the model).
  size_t chunk_bytes = 0;
  // Input columns carried to the output (names; 1-based positions without a
  // header), and the prediction columns written ("NAME" or "NAME=NEW").
  std::vector<std::string> keep_columns = {};
  std::vector<std::string> output_columns = {};
  // SHA-256 of each output into FileStats::output_sha256 (the manifests of
  // run and worker); `predict`, which records none, turns it off.
  bool hash_output = true;
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

// An output whose bytes are all written but which is not yet visible at its
// name: Commit makes it appear whole (a local file: fsync of its temporary,
// rename, fsync of the folder, the part of a file that waits for the disk);
// destroying it uncommitted discards it, leaving nothing at the name.
// Commit may run on another thread than the one that made it; once.
class PendingOutput {
 public:
  virtual ~PendingOutput() = default;
  virtual Status Commit() = 0;
};

// A file predicted but not yet committed: its stats (rows, class counts,
// output bytes and SHA-256 are final; total and write seconds do not yet
// count the commit) and the output to commit.
struct PreparedFile {
  FileStats stats;
  std::unique_ptr<PendingOutput> output;
};

class FilePredictor {
 public:
  // `storage` null: StorageFor (local paths and s3:// URIs).
  static Result<std::unique_ptr<FilePredictor>> Create(std::shared_ptr<const Forest> forest,
                                                       PredictOptions options,
                                                       StorageLookup storage = nullptr);
  virtual ~FilePredictor() = default;
  // Predicts `input` into `output` (URIs or paths; "-" = stdin/stdout):
  // Prepare, then Commit. `cancel`, when set to true by another thread,
  // stops the file early with kCancelled and leaves no output.
  Result<FileStats> Run(const std::string& input, const std::string& output,
                        const std::atomic<bool>* cancel = nullptr);
  // Predicts and writes the whole output, but leaves it uncommitted: the
  // caller commits it (a worker: on another thread, while it predicts its
  // next file). Errors are Run's, except those of the commit.
  virtual Result<PreparedFile> Prepare(const std::string& input, const std::string& output,
                                       const std::atomic<bool>* cancel = nullptr) = 0;
};

}  // namespace fb
