#include "pipeline/file_predictor.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/cpu_limits.h"
#include "common/default_init.h"
#include "io/csv_reader.h"
#include "io/parquet_reader.h"
#include "io/parquet_writer.h"
#include "io/result_writer.h"
#include "io/table_open.h"
#include "pipeline/input_schema.h"
#include "pipeline/thread_pool.h"

namespace fb {
namespace {

constexpr size_t kStdoutHoldBack = size_t{256} << 20;

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A spare slot whose buffers have grown past this is dropped rather than
// kept for the next file (a file of very long rows or a huge Parquet row
// group does not pin its memory for the rest of the process).
constexpr size_t kKeepSlotBytes = size_t{64} << 20;

// One chunk on its way through the pipeline; reused for later chunks and,
// through the predictor's spare slots, for later files.
struct Slot {
  CsvChunk chunk;
  CsvBlock block;
  DefaultInitVector<double> raw;  // PredictRaw initialises every sum
  Predictions pred;
  LabelScratch labels;  // outputs of labels only (ResultFormatter::labels_only)
  FormattedRows text;
  std::vector<uint64_t> counts;
  double parse_s = 0, predict_s = 0, format_s = 0;
  bool done = true;

  size_t Footprint() const {
    size_t n = chunk.bytes.capacity() + block.values.capacity() * sizeof(float) +
               raw.capacity() * sizeof(double) + pred.values.capacity() * sizeof(double) +
               pred.label.capacity() * sizeof(int32_t) + labels.sums.capacity() * sizeof(double) +
               labels.rows.capacity() * sizeof(float) + text.text.capacity() +
               text.ends.capacity() * sizeof(uint32_t);
    for (const KeptValues& k : block.kept)
      n += k.ints.capacity() * 8 + k.doubles.capacity() * 8 + k.text.capacity() + k.ends.capacity() * 4 +
           k.valid.capacity();
    return n;
  }
};

class PipelinedFilePredictor final : public FilePredictor {
 public:
  PipelinedFilePredictor(std::shared_ptr<const Forest> forest, std::unique_ptr<Predictor> predictor,
                         PredictOptions options, ResultFormatter fmt, StorageLookup storage)
      : forest_(std::move(forest)),
        options_(options),
        formatter_(std::move(fmt)),
        storage_(std::move(storage)),
        predictor_(std::move(predictor)) {
    threads_ = options_.threads > 0 ? options_.threads : AvailableCpus();
    if (threads_ < 1) threads_ = 1;
    csv_.delimiter = options_.delimiter;
    csv_.header = options_.header;
    csv_.missing_is_error = !forest_->missing_values_supported;
    csv_.chunk_bytes = options_.chunk_bytes > 0 ? options_.chunk_bytes : ChunkBytesFor(*forest_);
    csv_.keep_columns = options_.keep_columns;
    schema_ = InputSchemaFor(*forest_);
    csv_.infinity_is_error = InfinityIsError(*forest_);
    parquet_csv_ = csv_;
    parquet_csv_.chunk_bytes = size_t{1} << 20;
  }

  Result<PreparedFile> Prepare(const std::string& input, const std::string& output,
                               const std::atomic<bool>* cancel) override;

 private:
  void Process(const TableReader& reader, const ResultFormatter& fmt, Slot* s) const;
  ThreadPool* Pool() {
    std::call_once(pool_once_, [this] { pool_ = std::make_unique<ThreadPool>(threads_); });
    return pool_.get();
  }
  // Slots for one file: spare ones from earlier files first, so that a
  // worker's buffers are allocated, grown and first touched once, not
  // zeroed and faulted in again for every file.
  std::vector<std::unique_ptr<Slot>> TakeSlots(size_t n);
  // Gives a file's slots back (every task using them has finished).
  void ReturnSlots(std::vector<std::unique_ptr<Slot>>* slots);

  std::shared_ptr<const Forest> forest_;
  PredictOptions options_;
  ResultFormatter formatter_;
  StorageLookup storage_;
  std::unique_ptr<Predictor> predictor_;
  int threads_ = 1;
  CsvOptions csv_;
  CsvOptions parquet_csv_;  // csv_ with the Parquet reader's slice size
  CsvSchema schema_;
  std::once_flag pool_once_;
  std::unique_ptr<ThreadPool> pool_;
  std::mutex spare_mu_;
  std::vector<std::unique_ptr<Slot>> spare_;
};

std::vector<std::unique_ptr<Slot>> PipelinedFilePredictor::TakeSlots(size_t n) {
  std::vector<std::unique_ptr<Slot>> slots(n);
  {
    std::lock_guard<std::mutex> lock(spare_mu_);
    for (auto& s : slots) {
      if (spare_.empty()) break;
      s = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  for (auto& s : slots) {
    if (s == nullptr) {
      s = std::make_unique<Slot>();
    } else {
      s->block.error = Status();
      s->done = true;
    }
  }
  return slots;
}

void PipelinedFilePredictor::ReturnSlots(std::vector<std::unique_ptr<Slot>>* slots) {
  std::lock_guard<std::mutex> lock(spare_mu_);
  for (auto& s : *slots)
    if (s != nullptr && s->Footprint() <= kKeepSlotBytes) spare_.push_back(std::move(s));
  slots->clear();
}

void PipelinedFilePredictor::Process(const TableReader& reader, const ResultFormatter& fmt, Slot* s) const {
  // The block's features are parsed into, and predicted from, a buffer of
  // this thread's: the one its previous chunk used, still in this core's
  // cache (a slot's own comes back to a thread only after the other slots
  // in flight, long evicted). Only this function reads them.
  thread_local DefaultInitVector<float> values;
  struct Lend {
    DefaultInitVector<float>& mine;
    DefaultInitVector<float>& slots;
    Lend(DefaultInitVector<float>& a, DefaultInitVector<float>& b) : mine(a), slots(b) { mine.swap(slots); }
    ~Lend() {
      mine.swap(slots);
      if (mine.capacity() * sizeof(float) > kKeepSlotBytes) DefaultInitVector<float>().swap(mine);
    }
  } lend(values, s->block.values);
  auto t0 = Clock::now();
  reader.Parse(s->chunk, &s->block);
  s->chunk.ReleaseShared();  // a Parquet row group's columns go back once its last slice is parsed
  auto t1 = Clock::now();
  s->parse_s = Seconds(t0, t1);
  s->predict_s = s->format_s = 0;
  if (!s->block.error.ok()) return;
  const size_t n = s->block.rows;
  if (fmt.labels_only() && !options_.margin) {
    PredictLabels(*predictor_, *forest_, s->block.values.data(), n, &s->labels, &s->pred);
  } else {
    s->raw.resize(n * static_cast<size_t>(forest_->n_outputs));
    if (n > 0) predictor_->PredictRaw(s->block.values.data(), n, s->raw.data());
    Finalize(*forest_, s->raw.data(), n, options_.margin ? OutputKind::kMargin : OutputKind::kPrediction,
             &s->pred);
  }
  auto t2 = Clock::now();
  PredictionRows rows{n, s->pred.n_cols, s->pred.values.data(), s->pred.label.data()};
  // Labels-only numbered rows are written from the labels in file order (write_next).
  if (options_.format != ResultFormat::kParquet && !fmt.numbers_labels())
    fmt.Format(rows, &s->text, &s->block.kept);
  s->counts.assign(forest_->class_labels.size(), 0);
  if (forest_->kind == ModelKind::kClassifier) {
    if (s->counts.size() == 2) {
      // Labels 0 and 1: their sum, not a count in memory that every row
      // adds to right after the previous row's add (a stall per row).
      uint64_t ones = 0;
      for (int32_t l : s->pred.label) ones += static_cast<uint64_t>(l);
      s->counts[1] = ones;
      s->counts[0] = n - ones;
    } else {
      for (int32_t l : s->pred.label) ++s->counts[l];
    }
  }
  auto t3 = Clock::now();
  s->predict_s = Seconds(t1, t2);
  s->format_s = Seconds(t2, t3);
}

// A prepared file's output: its sink, sealed, committed on demand.
class SinkOutput final : public PendingOutput {
 public:
  explicit SinkOutput(std::unique_ptr<ResultSink> sink) : sink_(std::move(sink)) {}
  Status Commit() override { return sink_->Commit(); }  // the sink aborts itself on failure

 private:
  std::unique_ptr<ResultSink> sink_;  // aborts on destruction unless committed
};

Result<PreparedFile> PipelinedFilePredictor::Prepare(const std::string& input, const std::string& output,
                                                     const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  FileStats stats;
  stats.class_counts.assign(forest_->class_labels.size(), 0);
  auto cancelled = [cancel] { return cancel != nullptr && cancel->load(std::memory_order_relaxed); };

  FB_ASSIGN_OR_RETURN(std::shared_ptr<Storage> in_storage, storage_(input));
  // ChunkBytesFor is a CSV figure: a Parquet input named as one keeps
  // slices of 1 MiB of features, the size its reader was measured with.
  const bool parquet_slices = options_.chunk_bytes == 0 && IsParquetName(input);
  FB_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                      OpenTable(in_storage, input, parquet_slices ? parquet_csv_ : csv_, schema_));
  // This file's formatter: the kept columns are known once the input is open.
  ResultLayout layout = formatter_.layout();
  layout.kept = reader->kept_columns();
  FB_ASSIGN_OR_RETURN(ResultFormatter fmt, ResultFormatter::Create(std::move(layout)));
  std::optional<ParquetResultWriter> pq;
  if (options_.format == ResultFormat::kParquet) {
    if (output == "-") return InvalidArgument("Parquet output needs a file, not stdout").At(input);
    FB_ASSIGN_OR_RETURN(
        pq, ParquetResultWriter::Create(fmt, options_.parquet_compression, options_.parquet_rows_per_group));
  }
  auto t_open = Clock::now();
  stats.read_seconds += Seconds(start, t_open);
  if (cancelled()) return Cancelled("cancelled").At(input);

  FB_ASSIGN_OR_RETURN(std::shared_ptr<Storage> out_storage, storage_(output));
  FB_ASSIGN_OR_RETURN(std::unique_ptr<WriteStream> ws, out_storage->OpenWrite(output));
  auto sink =
      std::make_unique<ResultSink>(std::move(ws), output == "-" ? kStdoutHoldBack : 0, options_.hash_output);
  Status st = pq ? pq->Begin(sink.get()) : sink->Write(fmt.header());

  // Small inputs (one chunk) never touch the pool.
  ThreadPool* pool = (threads_ > 1 && !reader->at_end()) ? Pool() : nullptr;
  const size_t window = pool ? reader->max_chunks_in_flight(threads_) : 1;
  std::vector<std::unique_ptr<Slot>> slots = TakeSlots(window);
  // Declared after `slots`, so it runs first on every return: by then every
  // task using them has finished (the drain below waits for all).
  struct GiveBack {
    PipelinedFilePredictor* self;
    std::vector<std::unique_ptr<Slot>>* slots;
    ~GiveBack() { self->ReturnSlots(slots); }
  } give_back{this, &slots};
  std::mutex mu;
  std::condition_variable cv;
  uint64_t submitted = 0, written = 0;
  DefaultInitVector<char> numbered;  // resized per chunk, every byte written: no zeroing

  auto wait_done = [&](Slot* s) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [s] { return s->done; });
  };
  // Writes the oldest chunk in flight (in file order).
  auto write_next = [&]() -> Status {
    Slot* s = slots[written % window].get();
    wait_done(s);
    ++written;
    const uint64_t first_row = reader->rows_accounted();
    FB_RETURN_IF_ERROR(reader->Account(s->block));
    stats.read_seconds += s->parse_s;
    stats.predict_seconds += s->predict_s;
    auto t0 = Clock::now();
    if (pq) {
      PredictionRows rows{s->block.rows, s->pred.n_cols, s->pred.values.data(), s->pred.label.data()};
      FB_RETURN_IF_ERROR(pq->Append(rows, s->block.kept, sink.get()));
    } else if (fmt.numbers_labels()) {
      numbered.clear();
      fmt.NumberLabels(s->pred.label.data(), s->block.rows, first_row, &numbered);
      FB_RETURN_IF_ERROR(sink->Write(std::string_view(numbered.data(), numbered.size())));
    } else if (fmt.numbers_rows()) {
      numbered.clear();
      fmt.Number(s->text, first_row, &numbered);
      FB_RETURN_IF_ERROR(sink->Write(std::string_view(numbered.data(), numbered.size())));
    } else {
      FB_RETURN_IF_ERROR(sink->Write(s->text.text));
    }
    for (size_t k = 0; k < s->counts.size(); ++k) stats.class_counts[k] += s->counts[k];
    stats.write_seconds += s->format_s + Seconds(t0, Clock::now());
    return Status::Ok();
  };

  Status read_error;
  while (st.ok()) {
    if (cancelled()) {
      st = Cancelled("cancelled").At(input);
      break;
    }
    if (submitted - written == window) {
      st = write_next();
      continue;
    }
    Slot* s = slots[submitted % window].get();
    auto t0 = Clock::now();
    Result<bool> got = reader->NextChunk(&s->chunk);
    stats.read_seconds += Seconds(t0, Clock::now());
    if (!got.ok()) {
      read_error = got.status();
      break;
    }
    if (!*got) break;
    ++submitted;
    if (pool == nullptr) {
      Process(*reader, fmt, s);
      continue;  // done stays true
    }
    s->done = false;
    const TableReader* r = reader.get();
    const ResultFormatter* f = &fmt;
    pool->Submit([this, r, f, s, &mu, &cv] {
      Process(*r, *f, s);
      std::lock_guard<std::mutex> lock(mu);
      s->done = true;
      cv.notify_all();
    });
  }
  // Drain in order: the first error in file order wins; tasks still running
  // use the slots, so wait for every one of them before returning.
  while (written < submitted) {
    if (st.ok()) {
      st = write_next();
    } else {
      wait_done(slots[written % window].get());
      ++written;
    }
  }
  if (st.ok() && !read_error.ok()) st = reader->Locate(read_error);
  // Every chunk is parsed by now: an input that changed meanwhile (truncated,
  // grown, written to) is an error, not an output computed from some of its
  // bytes; that error, rather than what its new bytes made of the parse.
  if (st.ok() || st.code() == StatusCode::kInvalidData) {
    if (Status changed = reader->CheckUnchanged(); !changed.ok()) st = std::move(changed);
  }
  if (st.ok() && cancelled()) st = Cancelled("cancelled").At(input);
  if (st.ok()) {
    auto t0 = Clock::now();
    if (pq) st = pq->Finish(sink.get());
    if (st.ok()) sink->Seal();
    stats.write_seconds += Seconds(t0, Clock::now());
  }
  if (!st.ok()) {
    sink->Abort();
    return st.WithPath(input);
  }
  stats.rows = reader->rows_accounted();
  stats.output_bytes = sink->bytes();
  stats.output_sha256 = sink->sha256_hex();
  stats.input_bytes_read = reader->bytes_read();
  stats.total_seconds = Seconds(start, Clock::now());
  return PreparedFile{std::move(stats), std::make_unique<SinkOutput>(std::move(sink))};
}

}  // namespace

std::string OutputNameFor(std::string_view input_name, ResultFormat format) {
  std::string name(StripCompressionSuffix(input_name));
  if (format != ResultFormat::kJsonl && format != ResultFormat::kParquet) {
    // csv and seed outputs of a Parquet input are CSV text.
    if (!IsParquetName(name)) return name;
  }
  const std::string ext = format == ResultFormat::kJsonl     ? ".jsonl"
                          : format == ResultFormat::kParquet ? ".parquet"
                                                             : ".csv";
  const size_t slash = name.rfind('/');
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash + 1)) name.resize(dot);
  return name + ext;
}

size_t ChunkBytesFor(const Forest& forest) {
  constexpr size_t kSmallTrees = size_t{256} << 10, kLargeTrees = size_t{1} << 20;
  for (size_t t = 0; t < forest.trees.size(); ++t)
    if (forest.node_count(t) > 127) return kLargeTrees;  // decoded or not
  return kSmallTrees;
}

ResultLayout LayoutFor(const Forest& forest, const PredictOptions& options) {
  ResultLayout layout;
  layout.format = options.format;
  layout.output_columns = options.output_columns;
  layout.classifier = forest.kind == ModelKind::kClassifier;
  layout.proba = options.proba;
  layout.margin = options.margin;
  layout.labels = forest.class_labels;
  layout.value_names = forest.value_names;
  layout.labels_are_integers = forest.labels_are_integers;
  layout.n_values = options.margin      ? forest.n_outputs
                    : layout.classifier ? forest.n_classes()
                                        : forest.n_outputs;
  return layout;
}

Result<FileStats> FilePredictor::Run(const std::string& input, const std::string& output,
                                     const std::atomic<bool>* cancel) {
  FB_ASSIGN_OR_RETURN(PreparedFile p, Prepare(input, output, cancel));
  const auto t0 = Clock::now();
  if (Status st = p.output->Commit(); !st.ok()) return st.WithPath(input);
  const double commit_s = Seconds(t0, Clock::now());
  p.stats.write_seconds += commit_s;
  p.stats.total_seconds += commit_s;
  return std::move(p.stats);
}

Result<std::unique_ptr<FilePredictor>> FilePredictor::Create(std::shared_ptr<const Forest> forest,
                                                             PredictOptions options, StorageLookup storage) {
  if (forest == nullptr) return InvalidArgument("no model");
  if (options.threads < 0) return InvalidArgument("--threads must be 0 (all cores) or more");
  const char d = options.delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0') {
    return InvalidArgument("the delimiter cannot be a quote, a line end or NUL");
  }
  ResultLayout layout = LayoutFor(*forest, options);
  if (options.format == ResultFormat::kSeed && !options.keep_columns.empty()) {
    return InvalidArgument(
        "the seed format holds the row number and the label only: use --format csv, jsonl or "
        "parquet with --keep-columns");
  }
  FB_ASSIGN_OR_RETURN(ResultFormatter fmt, ResultFormatter::Create(std::move(layout)));
  if (options.format == ResultFormat::kParquet) {
    FB_RETURN_IF_ERROR(
        ParquetResultWriter::Create(fmt, options.parquet_compression, options.parquet_rows_per_group)
            .status());
  }
  if (!storage) storage = [](const std::string& uri) { return StorageFor(uri); };
  // A .fbm's stored compiled layout is read here, in place, instead of
  // compiling (or refused, naming the file, when it does not hold).
  FB_ASSIGN_OR_RETURN(std::unique_ptr<Predictor> predictor, MakeModelPredictor(forest));
  return std::unique_ptr<FilePredictor>(new PipelinedFilePredictor(
      std::move(forest), std::move(predictor), options, std::move(fmt), std::move(storage)));
}

}  // namespace fb
