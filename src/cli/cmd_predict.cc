// `forestbatch predict`: one file or a folder of files through a model.
// Thin: resolves what to read and write, then runs pipeline/FilePredictor
// once per file. See docs/predict.md.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <map>

#include "cli/command.h"
#include "cli/load_model.h"
#include "cli/run_options.h"
#include "model/iterations.h"
#include "pipeline/file_predictor.h"
#include "runner/shard_plan.h"
#include "storage/storage.h"

namespace fb::cli {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct PredictArgs {
  std::string model, input, output;
  bool proba = false, quiet = false, margin = false;
  std::string iteration_range;
  std::string format = "csv", header = "auto", delimiter = ",";
  int threads = 0;
  std::vector<std::string> keep_columns, output_columns;
  std::string parquet_compression = "snappy";
  InputFilterFlags inputs;
};

constexpr const char* kHelpFooter = R"(
IN and OUT:
  a file      predicts it into OUT (a file, or an existing folder: OUT/<name>)
  a folder    predicts every data file under it, recursively, into OUT/<same
              relative path> (folders are created; a .gz/.zst suffix is dropped;
              jsonl and parquet outputs take their format's extension:
              a.csv -> a.parquet); hidden files and folders, _SUCCESS and other
              _* metadata and *.crc are skipped, as Spark and pandas do, and
              --include/--exclude select among the rest; a bad file is
              reported and skipped, the others are still written
  -           stdin / stdout
  Inputs ending in .gz or .zst are decompressed; .parquet files (or files that
  start with PAR1) are read as Parquet. Outputs appear only when complete
  (written to a temporary name, then renamed); existing outputs are replaced.

Formats:
  csv    prediction[,proba_<label>...]       one line per input row
  seed   ,0 then <row>,<prediction>          what the seed's predict.py writes
  jsonl  {"row":0,"prediction":1[,"proba":{"0":0.9,"1":0.1}]}
  parquet  the csv columns, typed (labels as the model's label type,
         probabilities as DOUBLE), snappy or zstd (--parquet-compression)

Keeping input columns: --keep-columns id,ts writes those input columns first
in every output row (CSV: the text as read; Parquet: typed values; jsonl:
JSON values), so predictions join back to their rows. Kept columns are not
features: with no header, the other columns must be the model's features in
order. --output-columns proba_1=score,prediction chooses, orders and renames
the prediction columns.

Header (--header auto): the first row is a header when one of its fields is
not a number or a missing value. With a header, columns are matched to the
model's feature names in any order (extra columns are ignored). Empty fields,
NA, NaN, null, N/A and the other pandas NA spellings are missing values.

An interrupted predict (exit 75) leaves nothing partial behind.

Examples:
  forestbatch predict --model model.joblib --input data.csv --output pred.csv
  forestbatch predict --model model.joblib --input in/ --output out/ --format seed
  zcat data.csv.gz | forestbatch predict --model m.joblib --input - --output - --proba
  forestbatch predict --model xgb.ubj --input data.csv --output margins.csv --output-margin \
      --iteration-range 0:100
)";

bool IsLocalFolder(const std::string& path) {
  std::error_code ec;
  return path != "-" && !IsS3Uri(path) && fs::is_directory(path, ec);
}

bool IsFolderUri(const std::string& uri) {
  if (IsS3Uri(uri)) return uri.back() == '/';
  return IsLocalFolder(uri);
}

std::string Describe(const FileStats& s, const Forest& f) {
  std::string out = fmt::format("{} rows in {:.3f} s", s.rows, s.total_seconds);
  if (s.input_bytes_read > 0) out += fmt::format(", {} input bytes read", s.input_bytes_read);
  if (!s.class_counts.empty()) {
    out += " (";
    for (size_t k = 0; k < s.class_counts.size(); ++k)
      out += fmt::format("{}{}: {}", k ? ", " : "", f.class_labels[k], s.class_counts[k]);
    out += ")";
  }
  return out;
}

int RunPredict(const PredictArgs& a) {
  PredictOptions o;
  static const std::map<std::string, ResultFormat> kFormats = {{"csv", ResultFormat::kCsv},
                                                               {"seed", ResultFormat::kSeed},
                                                               {"jsonl", ResultFormat::kJsonl},
                                                               {"parquet", ResultFormat::kParquet}};
  static const std::map<std::string, CsvHeader> kHeaders = {
      {"auto", CsvHeader::kAuto}, {"yes", CsvHeader::kYes}, {"no", CsvHeader::kNo}};
  o.format = kFormats.at(a.format);
  o.header = kHeaders.at(a.header);
  o.proba = a.proba;
  o.margin = a.margin;
  o.threads = a.threads;
  o.hash_output = false;  // predict keeps no manifest: the output's SHA-256 would go unused
  if (o.format == ResultFormat::kParquet && a.output == "-")
    return ReportError(InvalidArgument("--format parquet needs an output file or folder, not stdout"));
  if (Status cs = ResolveColumnFlags(a.keep_columns, a.output_columns, a.parquet_compression, &o); !cs.ok())
    return ReportError(cs);
  if (a.delimiter == "\\t" || a.delimiter == "tab") {
    o.delimiter = '\t';
  } else if (a.delimiter.size() == 1) {
    o.delimiter = a.delimiter[0];
  } else {
    return ReportError(
        InvalidArgument("--delimiter takes one character (or 'tab'), got '" + a.delimiter + "'"));
  }

  // A .fbm with a stored layout: its trees' nodes stay undecoded unless an
  // iteration range or the layout itself needs them.
  auto loaded = LoadModelAt(a.model, ModelLoad::kTreesOnDemand);
  if (!loaded.ok()) return ReportError(Status(loaded.status()).Prefix("loading model"));
  // Boosting rounds: --iteration-range, else the model's default (XGBoost's
  // scikit-learn wrapper honours best_iteration; see docs/xgboost.md).
  auto selected = SelectIterationsFlag(std::move(loaded).value(), a.iteration_range);
  if (!selected.ok()) return ReportError(selected.status());
  auto forest = std::make_shared<const Forest>(std::move(selected).value());
  auto fp = FilePredictor::Create(forest, o);
  if (!fp.ok()) return ReportError(fp.status());

  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);

  // Single input: a file or stdin.
  if (!IsFolderUri(a.input)) {
    std::string out = a.output;
    if (IsFolderUri(out)) {
      if (a.input == "-")
        return ReportError(InvalidArgument("OUT is a folder; name an output file for stdin"));
      auto joined = JoinUnder(out, OutputNameFor(fs::path(a.input).filename().string(), o.format));
      if (!joined.ok()) return ReportError(joined.status());
      out = *joined;
    }
    if (Status s = CheckInputOutput(a.input, out, /*allow_output_inside_input=*/false); !s.ok()) {
      return ReportError(s);
    }
    auto st = (*fp)->Run(a.input, out, &g_stop);
    if (!st.ok()) return ReportError(st.status());
    if (!a.quiet) fmt::print(stderr, "forestbatch: {} -> {}: {}\n", a.input, out, Describe(*st, *forest));
    return kExitOk;
  }

  // A folder.
  if (a.output == "-") return ReportError(InvalidArgument("IN is a folder: OUT must be a folder, not '-'"));
  if (!IsS3Uri(a.output)) {
    std::error_code ec;
    if (fs::exists(a.output, ec) && !fs::is_directory(a.output, ec)) {
      return ReportError(InvalidArgument("IN is a folder but OUT is an existing file: " + a.output));
    }
  }
  if (Status s = CheckInputOutput(a.input, a.output, /*allow_output_inside_input=*/false); !s.ok()) {
    return ReportError(s);
  }
  auto storage = StorageFor(a.input);
  if (!storage.ok()) return ReportError(storage.status());
  auto files = ListInputs(**storage, a.input, a.output, InputFilter{a.inputs.include, a.inputs.exclude});
  if (!files.ok()) return ReportError(files.status());
  if (files->empty()) {
    return ReportError(
        NotFound("no input files in folder (hidden, _* metadata and *.crc files are skipped; see --include)")
            .At(a.input));
  }

  size_t failed = 0, done = 0;
  uint64_t rows = 0;
  std::map<std::string, std::string> seen;  // output -> input
  for (const ObjectInfo& f : *files) {
    if (g_stop.load()) return ReportError(Cancelled("interrupted; finished files are complete"));
    auto out = JoinUnder(a.output, OutputNameFor(f.relative, o.format));
    Status err;
    if (!out.ok()) {
      err = out.status();
    } else if (auto [it, fresh] = seen.emplace(*out, f.uri); !fresh) {
      err = AlreadyExists("two inputs map to the same output " + *out + " (the other is " + it->second + ")")
                .At(f.uri);
    } else {
      auto st = (*fp)->Run(f.uri, *out, &g_stop);
      if (st.ok()) {
        ++done;
        rows += st->rows;
        if (!a.quiet) fmt::print(stderr, "forestbatch: {} -> {}: {}\n", f.uri, *out, Describe(*st, *forest));
        continue;
      }
      err = st.status();
    }
    if (err.code() == StatusCode::kCancelled) return ReportError(err);
    ++failed;
    fmt::print(stderr, "forestbatch: error: {}\n", err.ToString());
  }
  if (!a.quiet || failed) {
    fmt::print(stderr, "forestbatch: {} of {} files predicted ({} rows){}\n", done, files->size(), rows,
               failed ? fmt::format(", {} failed", failed) : "");
  }
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace

CommandSpec PredictCommand() {
  return {"predict", "predict one file or a folder of files", [](CLI::App* sub) {
            auto a = std::make_shared<PredictArgs>();
            sub->footer(kHelpFooter);
            sub->add_option(
                   "--model,-m", a->model,
                   "model file: scikit-learn pickle/joblib, XGBoost JSON/UBJSON, LightGBM text, native .fbm")
                ->required();
            sub->add_option("--input,-i", a->input,
                            "input CSV or Parquet file, folder of files, or - for stdin")
                ->required();
            sub->add_option("--output,-o", a->output, "output file, folder, or - for stdout")->required();
            sub->add_flag("--proba", a->proba,
                          "add one proba_<label> column per class (classifiers; csv and jsonl)");
            sub->add_flag("--output-margin", a->margin,
                          "write raw margins (the sums before the link: XGBoost's output_margin, LightGBM's "
                          "raw_score) instead of "
                          "predictions");
            sub->add_option(
                "--iteration-range", a->iteration_range,
                "boosting rounds BEGIN:END (END 0 = last), 'best' or 'all' (XGBoost and LightGBM models; "
                "default: every round, or [0, best_iteration] for models saved by XGBoost's "
                "scikit-learn wrapper)");
            sub->add_option("--format,-f", a->format, "output format: csv, seed, jsonl or parquet")
                ->capture_default_str()
                ->check(CLI::IsMember({"csv", "seed", "jsonl", "parquet"}));
            AddColumnFlags(sub, &a->keep_columns, &a->output_columns, &a->parquet_compression);
            a->inputs.Add(sub);
            sub->add_option("--header", a->header,
                            "first input row: auto (a header if any field is not a number), yes, no")
                ->capture_default_str()
                ->check(CLI::IsMember({"auto", "yes", "no"}));
            sub->add_option("--delimiter,-d", a->delimiter, "input field separator: one character, or 'tab'")
                ->capture_default_str();
            sub->add_option("--threads,-j", a->threads, "worker threads; 0 = all cores")
                ->capture_default_str()
                ->check(CLI::NonNegativeNumber);
            sub->add_flag("--quiet,-q", a->quiet, "print nothing on success");
            return std::function<int()>([a] { return RunPredict(*a); });
          }};
}

}  // namespace fb::cli
