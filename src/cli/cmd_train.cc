// `forestbatch train` and `forestbatch tune`: random forests / extra trees
// trained natively from a raw CSV file (src/train/), written as .fbm.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <set>

#include "cli/command.h"
#include "cli/load_model.h"
#include "cli/run_options.h"
#include "common/atomic_file.h"
#include "common/shell_quote.h"
#include "infer/predictor.h"
#include "io/result_writer.h"
#include "model/forest_builder.h"
#include "pipeline/file_predictor.h"
#include "runner/local_job.h"
#include "train/evaluation.h"
#include "train/forest_trainer.h"
#include "train/raw_table.h"
#include "train/training_data.h"
#include "train/tune.h"
#include "train/tune_job.h"

namespace fb::cli {
namespace {

using namespace fb::train;

// Options shared by train and tune; hyperparameters stay text until
// SetParam, so the command line and --grid accept exactly the same values.
struct TrainOptions {
  std::string data, target, out, task = "auto", test, test_output;
  std::vector<std::string> drop;          // --drop: columns that are not features
  std::vector<std::string> keep_columns;  // --keep-columns: test columns copied into --test-output
  std::vector<std::pair<std::string, std::string>> params;  // in command-line order
  int32_t cv = 0;
};

// Which options AddCommonOptions adds.
enum OptionSet : unsigned {
  kRequireData = 1,  // --data and --target are required
  kFitOutputs = 2,   // --out, --test, --test-output
  kThreads = 4,      // --threads
};

void AddCommonOptions(CLI::App* sub, const std::shared_ptr<TrainOptions>& o, unsigned set) {
  sub->add_option("--data", o->data,
                  "training table: a CSV file with a header row, or a Parquet file (.parquet or PAR1 magic)")
      ->required(set & kRequireData);
  sub->add_option("--target", o->target, "the column to predict")->required(set & kRequireData);
  sub->add_option("--drop", o->drop,
                  "columns that are not features, e.g. id,ts (ids must never become one-hot features); "
                  "repeatable or comma-separated")
      ->delimiter(',')
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (set & kFitOutputs) {
    sub->add_option("--out", o->out, "model file to write (.fbm)");
    sub->add_option(
        "--test", o->test,
        "held-out table, CSV or Parquet (same columns): print the final model's metrics on it after fitting");
    sub->add_option("--keep-columns", o->keep_columns,
                    "with --test-output: test columns written first in each row (e.g. id), as predict does")
        ->delimiter(',')
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_option("--test-output", o->test_output,
                    "with --test: write the final model's predictions on it there (predict --proba's CSV), "
                    "from the trainer's own encoding of the raw test file");
  }
  sub->add_option("--task", o->task, "classification, regression or auto (default: auto)")
      ->check(CLI::IsMember({"auto", "classification", "regression"}));
  // Kept as text (SetParam checks each, naming the option); typed in --help
  // as what they take.
  auto param = [&](const char* flag, const char* name, const char* type, const char* help) {
    sub->add_option_function<std::string>(
           flag, [o, name](const std::string& v) { o->params.emplace_back(name, v); }, help)
        ->type_name(type);
  };
  param("--trees", "n_estimators", "INT", "number of trees (default 100)");
  param("--max-depth", "max_depth", "INT|none", "maximum tree depth, or none (default none)");
  param("--max-features", "max_features", "NUM|sqrt|log2|none",
        "features tried per split: a count, a fraction in (0,1], sqrt, log2 or none (default sqrt for "
        "classification, all for regression)");
  param("--min-samples-leaf", "min_samples_leaf", "INT", "rows a leaf must hold (default 1)");
  param("--min-samples-split", "min_samples_split", "INT", "rows a node needs to be split (default 2)");
  param("--criterion", "criterion", "TEXT", "gini, entropy (classification) or squared_error (regression)");
  param("--class-weight", "class_weight", "TEXT", "balanced: weight classes inversely to their frequency");
  param("--seed", "seed", "INT", "random seed (default 0); same seed, same model");
  if (set & kThreads)
    param("--threads", "threads", "INT", "threads (default: all cores); the model does not depend on it");
  param("--max-bins", "max_bins", "INT", "histogram bins per feature, 2..255 (default 255)");
  sub->add_flag_callback(
      "--bootstrap", [o] { o->params.emplace_back("bootstrap", "true"); },
      "draw each tree's rows with replacement (default for random forests)");
  sub->add_flag_callback(
      "--no-bootstrap", [o] { o->params.emplace_back("bootstrap", "false"); },
      "train each tree on all rows (default for extra trees)");
  sub->add_flag_callback(
      "--extra-trees", [o] { o->params.emplace_back("extra_trees", "true"); },
      "extremely randomized trees: one random threshold per feature");
}

Result<TrainParams> ParamsFrom(const TrainOptions& o) {
  TrainParams p;
  for (const auto& [k, v] : o.params) {
    if (k == "threads") {
      int t = 0;
      if (!CLI::detail::lexical_cast(v, t) || t < 0) return InvalidArgument("--threads: expected a count");
      p.threads = t;
      continue;
    }
    FB_RETURN_IF_ERROR(SetParam(&p, k, v));
  }
  return p;
}

void Describe(const std::string& path, const TrainingData& d, double secs) {
  int categorical = 0;
  for (const InputColumn& c : d.encoding.columns) categorical += c.categorical();
  fmt::print(stderr, "read {}: {} rows, {} columns ({} categorical) -> {} features in {:.2f} s\n", path,
             d.n_rows, d.encoding.columns.size() + 1, categorical, d.n_features, secs);
  if (d.kind == ModelKind::kClassifier) {
    std::string labels;
    for (size_t i = 0; i < d.class_labels.size() && i < 10; ++i)
      labels += (i ? ", " : "") + d.class_labels[i];
    fmt::print(stderr, "target '{}': classification, {} classes ({}{})\n", d.target, d.n_classes(), labels,
               d.class_labels.size() > 10 ? ", ..." : "");
  } else {
    fmt::print(stderr, "target '{}': regression\n", d.target);
  }
}

Result<TrainingData> Load(const TrainOptions& o) {
  auto start = std::chrono::steady_clock::now();
  FB_ASSIGN_OR_RETURN(Task task, ParseTask(o.task));
  FB_ASSIGN_OR_RETURN(TrainingData d, LoadTrainingData(o.data, o.target, task, o.drop));
  Describe(o.data, d, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return d;
}

// The predictions of `f` on every row of `t`, formatted as `predict --proba`
// writes them (same predictor, Finalize and formatter).
Status WritePredictions(const Forest& f, const TrainingData& t, const std::string& path,
                        const RawTable& table, const std::vector<std::string>& keep) {
  std::vector<int64_t> rows(t.n_rows);
  std::iota(rows.begin(), rows.end(), 0);
  const std::vector<float> x = RowMajor(t, rows);
  std::shared_ptr<const Forest> forest(&f, [](const Forest*) {});  // outlives the predictor: no copy
  std::vector<double> raw(rows.size() * static_cast<size_t>(f.n_outputs));
  MakeBestPredictor(forest)->PredictRaw(x.data(), rows.size(), raw.data());
  Predictions pred;
  Finalize(f, raw.data(), rows.size(), OutputKind::kPrediction, &pred);
  PredictOptions as_predict;
  as_predict.proba = true;  // what `predict --proba` writes
  ResultLayout layout = LayoutFor(f, as_predict);
  // Kept test columns: their text as read (ReadTable kept it for them).
  std::vector<KeptValues> kept;
  for (const std::string& name : keep) {
    const int c = table.FindColumn(name);
    if (c < 0) return InvalidArgument("--keep-columns: the test data has no column '" + name + "'");
    const RawColumn& col = table.columns[c];
    layout.kept.push_back({name, KeptType::kText});
    KeptValues v;
    for (int64_t r = 0; r < table.n_rows; ++r) {
      const int32_t code = col.codes.empty() ? -1 : col.codes[r];
      v.AddText(code >= 0 ? std::string_view(col.categories[code]) : std::string_view(), true);
    }
    kept.push_back(std::move(v));
  }
  FB_ASSIGN_OR_RETURN(ResultFormatter formatter, ResultFormatter::Create(std::move(layout)));
  FormattedRows text;
  formatter.Format({rows.size(), pred.n_cols, pred.values.data(), pred.label.data()}, &text, &kept);
  return WriteFileAtomically(path, formatter.header() + text.text);
}

Status EvaluateOnTestFile(const Forest& f, const std::string& path, const std::string& target,
                          const std::string& output, int32_t threads, const std::vector<std::string>& keep) {
  std::set<std::string> text = {target};
  text.insert(keep.begin(), keep.end());
  for (const InputColumn& c : f.encoding.columns)
    if (c.categorical()) text.insert(c.name);
  FB_ASSIGN_OR_RETURN(RawTable table, ReadTable(path, text));
  FB_ASSIGN_OR_RETURN(TrainingData t, EncodeLike(table, f, target));
  std::vector<int64_t> rows(t.n_rows);
  std::iota(rows.begin(), rows.end(), 0);
  auto start = std::chrono::steady_clock::now();
  Metrics m = Evaluate(f, t, rows, threads);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("test (n={}): {}\n", m.n_test, MetricsLine(m, f.kind));
  fmt::print(stderr, "evaluated {} in {:.2f} s\n", path, secs);
  if (output.empty()) return Status::Ok();
  FB_RETURN_IF_ERROR(WritePredictions(f, t, output, table, keep));
  fmt::print(stderr, "wrote the test predictions to {}\n", output);
  return Status::Ok();
}

// Trains on everything, reports, writes the model (when `out` is given) and
// evaluates it on `test` (when given).
int FitAndWrite(const TrainingData& d, const TrainParams& p, const std::string& out,
                const std::string& test = "", const std::string& test_output = "",
                const std::vector<std::string>& keep = {}) {
  auto start = std::chrono::steady_clock::now();
  auto f = TrainForest(d, p);
  if (!f.ok()) return ReportError(f.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t nodes = 0;
  int32_t depth = 0;
  for (const Tree& t : f->trees) nodes += t.nodes.size(), depth = std::max(depth, ShapeOf(t).depth);
  fmt::print(stderr, "trained {} ({} trees, {} nodes, max depth {}) in {:.2f} s with {} threads\n",
             f->info.estimator, f->trees.size(), nodes, depth, secs, EffectiveThreads(p.threads));
  const auto& imp = f->training.feature_importances;
  std::vector<size_t> order(imp.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp[a] > imp[b]; });
  std::string top;
  for (size_t i = 0; i < order.size() && i < 5; ++i)
    top += fmt::format("{}{} {:.3f}", i ? ", " : "", f->feature_names[order[i]], imp[order[i]]);
  fmt::print(stderr, "top features: {}\n", top);
  if (!out.empty()) {
    // The forest outlives the layout's compile: no copy.
    auto bytes = SerializeNativeWithLayout(std::shared_ptr<const Forest>(&*f, [](const Forest*) {}));
    if (!bytes.ok()) return ReportError(bytes.status());
    Status st = WriteFileAtomically(out, *bytes);
    if (!st.ok()) return ReportError(st);
    fmt::print(stderr, "wrote {} ({} bytes)\n", out, bytes->size());
  }
  if (!test.empty()) {
    Status st = EvaluateOnTestFile(*f, test, d.target, test_output, p.threads, keep);
    if (!st.ok()) return ReportError(st);
  }
  return kExitOk;
}

int RunTrain(const TrainOptions& o) {
  if (!o.test_output.empty() && o.test.empty())
    return ReportError(InvalidArgument("--test-output needs --test TEST.csv"));
  if (o.out.empty() && o.cv == 0 && o.test.empty())
    return ReportError(InvalidArgument("give --out MODEL.fbm, --cv K or --test TEST.csv"));
  auto p = ParamsFrom(o);
  if (!p.ok()) return ReportError(p.status());
  auto d = Load(o);
  if (!d.ok()) return ReportError(d.status());
  if (Status st = ValidateParams(*p, d->kind); !st.ok()) return ReportError(st);
  if (o.cv > 0) {
    auto folds = CrossValidate(*d, *p, o.cv);
    if (!folds.ok()) return ReportError(folds.status());
    for (size_t i = 0; i < folds->size(); ++i)
      fmt::print("fold {}/{} (n={}): {}\n", i + 1, folds->size(), (*folds)[i].n_test,
                 MetricsLine((*folds)[i], d->kind));
    fmt::print("mean: {}\n", MetricsLine(MeanMetrics(*folds), d->kind));
  }
  if (o.out.empty() && o.test.empty()) return kExitOk;
  return FitAndWrite(*d, *p, o.out, o.test, o.test_output, o.keep_columns);
}

struct TuneFlags {
  std::string grid, scoring, dir, state = ".forestbatch";
  int32_t jobs = 1, workers = 0;
};

Result<Scoring> ScoringFor(const std::string& name, ModelKind kind) {
  if (name.empty()) return kind == ModelKind::kClassifier ? Scoring::kRocAuc : Scoring::kNegRmse;
  return ParseScoring(name);
}

std::string PointText(const GridPoint& g) {
  std::string out;
  for (const auto& [name, v] : g) out += fmt::format(" {}={}", name, v);
  return out;
}

// Prints the table, writes it as CSV beside the plan (when `dir` is given),
// refits the best point on all rows and writes it.
int ReportAndRefit(const TuneResult& r, Scoring scoring, const TrainingData& d, const TrainParams& base,
                   const TrainOptions& o, const std::string& dir) {
  fmt::print("{}", TuneTable(r, scoring, d.kind));
  std::fflush(stdout);
  if (!dir.empty()) {
    const std::string table = dir + "/table.csv";
    Status st = WriteFileAtomically(table, TuneTableCsv(r, scoring));
    if (!st.ok()) return ReportError(st);
    fmt::print(stderr, "wrote the table to {}\n", table);
  }
  if (o.out.empty() && o.test.empty()) return kExitOk;
  auto best = WithPoint(base, r.points[r.best]);
  if (!best.ok()) return ReportError(best.status());
  fmt::print(stderr, "best:{}; refitting on all {} rows\n", PointText(r.points[r.best]), d.n_rows);
  return FitAndWrite(d, *best, o.out, o.test, o.test_output, o.keep_columns);
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("forestbatch");
}

// The per-task command the runner's workers run on each task file. It is
// also the outputs' fingerprint in their manifests, so it holds nothing that
// may change between runs of one tune (the thread count travels in
// kTaskThreadsEnv instead).
std::string TaskCommand() { return ShellQuote(SelfPath()) + " tune task {input} {output}"; }

constexpr const char* kTaskThreadsEnv = "FORESTBATCH_TUNE_TASK_THREADS";

Result<TunePlan> PlanFrom(const TrainOptions& o, const TuneFlags& t, TrainingData* data) {
  if (o.data.empty() || o.target.empty()) return InvalidArgument("tune needs --data and --target");
  if (t.grid.empty()) return InvalidArgument("tune needs --grid, e.g. 'max_depth=5,10,none;trees=100,200'");
  TunePlan plan;
  plan.data = o.data;
  plan.target = o.target;
  plan.drop = o.drop;
  plan.task = o.task;
  for (const auto& kv : o.params)
    if (kv.first != "threads") plan.params.push_back(kv);
  FB_ASSIGN_OR_RETURN(plan.points, ParseGrid(t.grid));
  plan.k = o.cv > 0 ? o.cv : 3;
  plan.default_scoring = t.scoring.empty();
  if (!plan.default_scoring) {
    FB_ASSIGN_OR_RETURN(plan.scoring, ParseScoring(t.scoring));
  }
  auto start = std::chrono::steady_clock::now();
  FB_RETURN_IF_ERROR(MakeTunePlan(&plan, data));
  Describe(plan.data, *data, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return plan;
}

std::string AbsolutePath(const std::string& p) {
  std::error_code ec;
  auto a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

void PrintNextSteps(const TunePlan& plan, const std::string& dir) {
  const std::string d = AbsolutePath(dir);
  const std::string exec = ShellQuote(TaskCommand());
  const std::string io = fmt::format("--input {}/tasks --output {}/results", ShellQuote(d), ShellQuote(d));
  fmt::print(
      "planned {} tasks ({} grid points x {} folds) in {} (plan {})\n"
      "run them as local worker processes:\n"
      "  forestbatch run --name tune --workers 4 --exec {} {}\n"
      "or as an array job (the folder and {} on a disk every task sees):\n"
      "  forestbatch submit --engine slurm|aws-batch|kubernetes --workers {} -- --exec {} {}\n"
      "then rank the points, refit the best and write it:\n"
      "  forestbatch tune collect --dir {} --out BEST.fbm\n",
      plan.n_tasks(), plan.points.size(), plan.k, d, plan.id.substr(0, 12), exec, io, plan.data,
      std::min<size_t>(plan.n_tasks(), 100), exec, io, ShellQuote(d));
}

int RunTunePlan(const TrainOptions& o, const TuneFlags& t) {
  if (t.dir.empty()) return ReportError(InvalidArgument("tune plan needs --dir DIR (where the tasks go)"));
  TrainingData data;
  auto plan = PlanFrom(o, t, &data);
  if (!plan.ok()) return ReportError(plan.status());
  Status st = WriteTunePlan(*plan, t.dir);
  if (!st.ok()) return ReportError(st);
  PrintNextSteps(*plan, t.dir);
  return kExitOk;
}

int RunTuneTask(const std::string& task, const std::string& result, int32_t threads) {
  auto start = std::chrono::steady_clock::now();
  if (threads == 0) {
    const char* env = std::getenv(kTaskThreadsEnv);
    if (env != nullptr && *env) threads = std::max(0, std::atoi(env));
  }
  Status st = RunTuneTaskFile(task, result, threads);
  if (!st.ok()) return ReportError(st);
  fmt::print(stderr, "tune task {}: done in {:.2f} s\n", task,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return kExitOk;
}

int RunTuneCollect(const TrainOptions& o, const std::string& dir, std::string results) {
  if (!o.test_output.empty() && o.test.empty())
    return ReportError(InvalidArgument("--test-output needs --test TEST.csv"));
  auto plan = ReadTunePlan(dir);
  if (!plan.ok()) return ReportError(plan.status());
  if (results.empty()) results = dir + "/results";
  auto r = CollectTune(*plan, results);
  if (!r.ok()) return ReportError(r.status());
  auto data = LoadPlannedData(*plan);
  if (!data.ok()) return ReportError(data.status());
  auto base = BaseParams(*plan);
  if (!base.ok()) return ReportError(base.status());
  auto p = ParamsFrom(o);  // --threads only
  if (!p.ok()) return ReportError(p.status());
  base->threads = p->threads;
  fmt::print(stderr, "tune: {} results of plan {} collected from {}\n", plan->n_tasks(),
             plan->id.substr(0, 12), results);
  return ReportAndRefit(*r, plan->scoring, *data, *base, o, dir);
}

// plan, then the tasks as a local array job of worker processes (the
// runner: sharding, retries, restarts, job records), then collect.
int RunTuneWithWorkers(const TrainOptions& o, const TuneFlags& t) {
  InstallStopHandlers();
  if (o.out.empty())
    return ReportError(InvalidArgument("tune needs --out MODEL.fbm for the refitted best model"));
  const std::string dir = t.dir.empty() ? o.out + ".tune" : t.dir;
  TrainingData data;
  auto plan = PlanFrom(o, t, &data);
  if (!plan.ok()) return ReportError(plan.status());
  Status st = WriteTunePlan(*plan, dir);
  if (!st.ok()) return ReportError(st);
  auto p = ParamsFrom(o);
  if (!p.ok()) return ReportError(p.status());
  const int32_t workers = std::min<int32_t>(t.workers, static_cast<int32_t>(plan->n_tasks()));
  const int32_t per_task = std::max(1, EffectiveThreads(p->threads) / workers);
  JobSpec spec;
  spec.name = "tune";
  spec.exec = TaskCommand();
  spec.input = dir + "/tasks";
  spec.output = dir + "/results";
  spec.workers = workers;
  spec.threads = 1;
  spec.backoff_seconds = 0.5;
  RunOptions ro;
  ro.state_dir = t.state;
  ro.progress_bar = ::isatty(2);
  // Handed to the workers and so to their task commands.
  ro.worker_env = {fmt::format("{}={}", kTaskThreadsEnv, per_task)};
  fmt::print(stderr,
             "tune: {} grid points x {} folds = {} tasks in {}, on {} worker processes x {} threads\n",
             plan->points.size(), plan->k, plan->n_tasks(), dir, workers, per_task);
  auto job = RunLocalJob(spec, "", ro, g_stop_requested);
  if (!job.ok()) return ReportError(job.status());
  if (job->state != JobState::kSucceeded) {
    fmt::print(stderr,
               "tune: job {} {}; see forestbatch status {} --state {}; rerun this command to resume\n",
               job->job, StateName(job->state), job->job, t.state);
    return JobExitCode(job->state);
  }
  fmt::print(stderr, "tune: job {} succeeded ({} tasks run now, {} already done)\n", job->job,
             job->done_this_run, job->counts.skipped);
  auto r = CollectTune(*plan, spec.output);
  if (!r.ok()) return ReportError(r.status());
  auto base = BaseParams(*plan);
  if (!base.ok()) return ReportError(base.status());
  base->threads = p->threads;
  return ReportAndRefit(*r, plan->scoring, data, *base, o, dir);
}

int RunTune(const TrainOptions& o, const TuneFlags& t) {
  if (!o.test_output.empty() && o.test.empty())
    return ReportError(InvalidArgument("--test-output needs --test TEST.csv"));
  if (o.data.empty() || o.target.empty() || t.grid.empty())
    return ReportError(InvalidArgument(
        "tune needs --data, --target, --grid and --out (or a subcommand: plan, task, collect; see --help)"));
  if (t.workers > 0) return RunTuneWithWorkers(o, t);
  if (o.out.empty())
    return ReportError(InvalidArgument("tune needs --out MODEL.fbm for the refitted best model"));
  auto points = ParseGrid(t.grid);
  if (!points.ok()) return ReportError(points.status());
  auto p = ParamsFrom(o);
  if (!p.ok()) return ReportError(p.status());
  auto d = Load(o);
  if (!d.ok()) return ReportError(d.status());
  auto scoring = ScoringFor(t.scoring, d->kind);
  if (!scoring.ok()) return ReportError(scoring.status());
  const int32_t k = o.cv > 0 ? o.cv : 3;
  fmt::print(stderr, "tune: {} grid points x {} folds = {} tasks on {} threads of this process\n",
             points->size(), k, points->size() * k, t.jobs);
  auto r = Tune(*d, *p, *points, k, t.jobs, *scoring);
  if (!r.ok()) return ReportError(r.status());
  return ReportAndRefit(*r, *scoring, *d, *p, o, t.dir);
}

void AddTuneOptions(CLI::App* sub, const std::shared_ptr<TrainOptions>& o,
                    const std::shared_ptr<TuneFlags>& t) {
  sub->add_option("--grid", t->grid, "e.g. 'max_depth=5,10,none;trees=100,200' (scikit-learn names)");
  o->cv = 3;
  sub->add_option("--cv", o->cv, "folds (default 3)");
  sub->add_option("--scoring", t->scoring,
                  "roc_auc (default), accuracy, neg_log_loss for classification; rmse (default), r2 "
                  "for regression");
}

}  // namespace

CommandSpec TrainCommand() {
  return {"train", "train a random forest or extra trees from a raw CSV file (writes a native .fbm model)",
          [](CLI::App* sub) {
            auto o = std::make_shared<TrainOptions>();
            AddCommonOptions(sub, o, kRequireData | kFitOutputs | kThreads);
            sub->add_option("--cv", o->cv,
                            "K-fold cross-validation (stratified for classification): per-fold and mean "
                            "metrics, printed before the final fit; 0: none");
            return std::function<int()>([o] { return RunTrain(*o); });
          }};
}

CommandSpec TuneCommand() {
  return {
      "tune", "grid search with cross-validation; refits and writes the best model", [](CLI::App* sub) {
        auto o = std::make_shared<TrainOptions>();
        auto t = std::make_shared<TuneFlags>();
        sub->footer(
            "Every (grid point, fold) pair is a task. Three ways to run them:\n"
            "  in this process, on --jobs threads (the default):\n"
            "    forestbatch tune --data D.csv --target y --grid 'max_depth=5,none' --out best.fbm\n"
            "  as --workers local worker processes (plan, `run`, collect in one; rerun to resume):\n"
            "    forestbatch tune ... --out best.fbm --workers 4 [--dir DIR]\n"
            "  as an array job on a cluster, step by step:\n"
            "    forestbatch tune plan --data D.csv --target y --grid ... --dir DIR   (prints the next "
            "commands)\n"
            "    forestbatch submit --engine slurm --workers N -- --exec 'forestbatch tune task {input} "
            "{output}' \\\n"
            "        --input DIR/tasks --output DIR/results\n"
            "    forestbatch tune collect --dir DIR --out best.fbm\n"
            "The results do not depend on the way, --jobs, --workers or --threads. See docs/train.md.");
        AddCommonOptions(sub, o, kFitOutputs | kThreads);
        AddTuneOptions(sub, o, t);
        sub->add_option("--jobs", t->jobs, "tasks run at once on threads of this process (default 1)")
            ->check(CLI::Range(1, 1024));
        sub->add_option(
               "--workers", t->workers,
               "run the tasks as this many local worker processes (forestbatch run --exec; default: none, "
               "threads of this process)")
            ->check(CLI::Range(1, 4096));
        sub->add_option("--dir", t->dir,
                        "with --workers: the tune folder (plan, tasks, results, table.csv; default "
                        "OUT.tune); without: where table.csv goes (default: none)");
        sub->add_option("--state", t->state, "with --workers: job records folder (default ./.forestbatch)");

        auto which = std::make_shared<int>(0);
        auto po = std::make_shared<TrainOptions>();
        auto pt = std::make_shared<TuneFlags>();
        CLI::App* plan = sub->add_subcommand(
            "plan", "write the tune's tasks (one file per grid point and fold) into --dir; run nothing");
        AddCommonOptions(plan, po, kRequireData);
        AddTuneOptions(plan, po, pt);
        plan->get_option("--grid")->required();
        plan->add_option("--dir", pt->dir, "the tune folder to create (plan.json, tasks/)")->required();
        plan->callback([which] { *which = 1; });

        auto task_file = std::make_shared<std::string>();
        auto result_file = std::make_shared<std::string>();
        auto task_threads = std::make_shared<int32_t>(0);
        CLI::App* task = sub->add_subcommand(
            "task", "run one task file and write its result (what each worker's --exec runs)");
        task->add_option("TASK", *task_file, "a task file, DIR/tasks/task-NNNNN.json")->required();
        task->add_option("RESULT", *result_file, "the result file to write (atomically)")->required();
        task->add_option(
                "--threads", *task_threads,
                "threads (default: $FORESTBATCH_TUNE_TASK_THREADS, which tune --workers sets, else the "
                "CPUs this process may use)")
            ->check(CLI::Range(0, 4096));
        task->callback([which] { *which = 2; });

        auto co = std::make_shared<TrainOptions>();
        auto collect_dir = std::make_shared<std::string>();
        auto results = std::make_shared<std::string>();
        CLI::App* collect = sub->add_subcommand(
            "collect", "read every task's result, print the ranked table, refit the best point");
        collect->add_option("--dir", *collect_dir, "the tune folder (from tune plan)")->required();
        collect->add_option("--results", *results, "the results folder (default DIR/results)");
        collect->add_option("--out", co->out,
                            "model file to write (.fbm): the best point refitted on all rows");
        collect->add_option("--test", co->test, "held-out CSV: the refitted model's metrics on it");
        collect->add_option("--test-output", co->test_output, "with --test: its predictions (as train's)");
        collect->add_option_function<std::string>(
            "--threads", [co](const std::string& v) { co->params.emplace_back("threads", v); },
            "threads for the refit (default: all cores)");
        collect->callback([which] { *which = 3; });

        return std::function<int()>([=] {
          switch (*which) {
            case 1: return RunTunePlan(*po, *pt);
            case 2: return RunTuneTask(*task_file, *result_file, *task_threads);
            case 3: return RunTuneCollect(*co, *collect_dir, *results);
            default: return RunTune(*o, *t);
          }
        });
      }};
}

}  // namespace fb::cli
