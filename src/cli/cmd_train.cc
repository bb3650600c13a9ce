// `forestbatch train` and `forestbatch tune`: random forests / extra trees
// trained natively from a raw CSV file (src/train/), written as .fbm.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>
#include <set>

#include "cli/command.h"
#include "common/atomic_file.h"
#include "infer/predictor.h"
#include "io/result_writer.h"
#include "model/forest_builder.h"
#include "model/import/native_format.h"
#include "train/evaluation.h"
#include "train/forest_trainer.h"
#include "train/raw_table.h"
#include "train/training_data.h"
#include "train/tune.h"

namespace fb::cli {
namespace {

using namespace fb::train;

// Options shared by train and tune; hyperparameters stay text until
// SetParam, so the command line and --grid accept exactly the same values.
struct TrainOptions {
  std::string data, target, out, task = "auto", test, test_output;
  std::vector<std::pair<std::string, std::string>> params;  // in command-line order
  int32_t cv = 0;
};

void AddCommonOptions(CLI::App* sub, const std::shared_ptr<TrainOptions>& o) {
  sub->add_option("--data", o->data, "training CSV file with a header row")->required();
  sub->add_option("--target", o->target, "the column to predict")->required();
  sub->add_option("--out", o->out, "model file to write (.fbm)");
  sub->add_option("--test", o->test,
                  "held-out CSV (same columns): print the final model's metrics on it after fitting");
  sub->add_option("--test-output", o->test_output,
                  "with --test: write the final model's predictions on it there (predict --proba's CSV), "
                  "from the trainer's own encoding of the raw test file");
  sub->add_option("--task", o->task, "classification, regression or auto (default: auto)")
      ->check(CLI::IsMember({"auto", "classification", "regression"}));
  auto param = [&](const char* flag, const char* name, const char* help) {
    sub->add_option_function<std::string>(
        flag, [o, name](const std::string& v) { o->params.emplace_back(name, v); }, help);
  };
  param("--trees", "n_estimators", "number of trees (default 100)");
  param("--max-depth", "max_depth", "maximum tree depth, or none (default none)");
  param("--max-features", "max_features",
        "features tried per split: a count, a fraction in (0,1], sqrt, log2 or none (default sqrt for "
        "classification, all for regression)");
  param("--min-samples-leaf", "min_samples_leaf", "rows a leaf must hold (default 1)");
  param("--min-samples-split", "min_samples_split", "rows a node needs to be split (default 2)");
  param("--criterion", "criterion", "gini, entropy (classification) or squared_error (regression)");
  param("--class-weight", "class_weight", "balanced: weight classes inversely to their frequency");
  param("--seed", "seed", "random seed (default 0); same seed, same model");
  param("--threads", "threads", "threads (default: all cores); the model does not depend on it");
  param("--max-bins", "max_bins", "histogram bins per feature, 2..255 (default 255)");
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

Result<TrainingData> Load(const TrainOptions& o) {
  auto start = std::chrono::steady_clock::now();
  FB_ASSIGN_OR_RETURN(RawTable table, ReadCsvTable(o.data, {o.target}));
  if (table.FindColumn(o.target) < 0)
    return InvalidArgument(fmt::format("{} has no column '{}' (--target)", o.data, o.target));
  Task task = o.task == "classification" ? Task::kClassification
              : o.task == "regression"   ? Task::kRegression
                                         : Task::kAuto;
  FB_ASSIGN_OR_RETURN(TrainingData d, MakeTrainingData(table, o.target, task));
  int categorical = 0;
  for (const InputColumn& c : d.encoding.columns) categorical += c.categorical();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "read {}: {} rows, {} columns ({} categorical) -> {} features in {:.2f} s\n", o.data,
             d.n_rows, table.columns.size(), categorical, d.n_features, secs);
  if (d.kind == ModelKind::kClassifier) {
    std::string labels;
    for (size_t i = 0; i < d.class_labels.size() && i < 10; ++i)
      labels += (i ? ", " : "") + d.class_labels[i];
    fmt::print(stderr, "target '{}': classification, {} classes ({}{})\n", o.target, d.n_classes(), labels,
               d.class_labels.size() > 10 ? ", ..." : "");
  } else {
    fmt::print(stderr, "target '{}': regression\n", o.target);
  }
  return d;
}

std::string MetricsLine(const Metrics& m, ModelKind kind) {
  if (kind == ModelKind::kClassifier)
    return fmt::format("roc_auc {:.4f}  accuracy {:.4f}  log_loss {:.4f}", m.roc_auc, m.accuracy, m.log_loss);
  return fmt::format("rmse {:.6g}  r2 {:.4f}", m.rmse, m.r2);
}

// The predictions of `f` on every row of `t`, formatted as `predict --proba`
// writes them (same predictor, Finalize and formatter).
Status WritePredictions(const Forest& f, const TrainingData& t, const std::string& path) {
  std::vector<int64_t> rows(t.n_rows);
  std::iota(rows.begin(), rows.end(), 0);
  const std::vector<float> x = RowMajor(t, rows);
  auto forest = std::make_shared<const Forest>(f);
  std::vector<double> raw(rows.size() * static_cast<size_t>(f.n_outputs));
  MakeBestPredictor(forest)->PredictRaw(x.data(), rows.size(), raw.data());
  Predictions pred;
  Finalize(f, raw.data(), rows.size(), OutputKind::kPrediction, &pred);
  ResultLayout layout;
  layout.classifier = f.kind == ModelKind::kClassifier;
  layout.proba = true;
  layout.labels = f.class_labels;
  layout.labels_are_integers = f.labels_are_integers;
  layout.n_values = layout.classifier ? f.n_classes() : f.n_outputs;
  FB_ASSIGN_OR_RETURN(ResultFormatter formatter, ResultFormatter::Create(std::move(layout)));
  FormattedRows text;
  formatter.Format({rows.size(), pred.n_cols, pred.values.data(), pred.label.data()}, &text);
  return WriteFileAtomically(path, formatter.header() + text.text);
}

Status EvaluateOnTestFile(const Forest& f, const std::string& path, const std::string& target,
                          const std::string& output) {
  std::set<std::string> text = {target};
  for (const InputColumn& c : f.encoding.columns)
    if (c.categorical()) text.insert(c.name);
  FB_ASSIGN_OR_RETURN(RawTable table, ReadCsvTable(path, text));
  FB_ASSIGN_OR_RETURN(TrainingData t, EncodeLike(table, f, target));
  std::vector<int64_t> rows(t.n_rows);
  std::iota(rows.begin(), rows.end(), 0);
  auto start = std::chrono::steady_clock::now();
  Metrics m = Evaluate(f, t, rows);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("test (n={}): {}\n", m.n_test, MetricsLine(m, f.kind));
  fmt::print(stderr, "evaluated {} in {:.2f} s\n", path, secs);
  if (output.empty()) return Status::Ok();
  FB_RETURN_IF_ERROR(WritePredictions(f, t, output));
  fmt::print(stderr, "wrote the test predictions to {}\n", output);
  return Status::Ok();
}

// Trains on everything, reports, writes the model (when `out` is given) and
// evaluates it on `test` (when given).
int FitAndWrite(const TrainingData& d, const TrainParams& p, const std::string& out,
                const std::string& test = "", const std::string& test_output = "") {
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
    auto bytes = SerializeNativeModel(*f);
    if (!bytes.ok()) return ReportError(bytes.status());
    Status st = WriteFileAtomically(out, *bytes);
    if (!st.ok()) return ReportError(st);
    fmt::print(stderr, "wrote {} ({} bytes)\n", out, bytes->size());
  }
  if (!test.empty()) {
    Status st = EvaluateOnTestFile(*f, test, d.target, test_output);
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
  return FitAndWrite(*d, *p, o.out, o.test, o.test_output);
}

int RunTune(const TrainOptions& o, const std::string& grid, const std::string& scoring_name, int32_t jobs) {
  if (o.out.empty())
    return ReportError(InvalidArgument("tune needs --out MODEL.fbm for the refitted best model"));
  auto points = ParseGrid(grid);
  if (!points.ok()) return ReportError(points.status());
  auto p = ParamsFrom(o);
  if (!p.ok()) return ReportError(p.status());
  auto d = Load(o);
  if (!d.ok()) return ReportError(d.status());
  Scoring scoring = d->kind == ModelKind::kClassifier ? Scoring::kRocAuc : Scoring::kNegRmse;
  if (!scoring_name.empty()) {
    auto s = ParseScoring(scoring_name);
    if (!s.ok()) return ReportError(s.status());
    scoring = *s;
  }
  const int32_t k = o.cv > 0 ? o.cv : 3;
  fmt::print(stderr, "tune: {} grid points x {} folds = {} tasks on {} workers\n", points->size(), k,
             points->size() * k, jobs);
  auto r = Tune(*d, *p, *points, k, jobs, scoring);
  if (!r.ok()) return ReportError(r.status());
  // Rank by mean score (1 = best).
  std::vector<size_t> order(r->points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Score(r->mean[a], scoring) > Score(r->mean[b], scoring);
  });
  std::vector<size_t> rank(order.size());
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = i + 1;
  for (size_t i = 0; i < r->points.size(); ++i) {
    std::string point;
    for (const auto& [name, v] : r->points[i])
      point += fmt::format("{}{}={}", point.empty() ? "" : " ", name, v);
    fmt::print("rank {:>3}  {}={:.5f}  {}  [{}]\n", rank[i], ScoringName(scoring), Score(r->mean[i], scoring),
               MetricsLine(r->mean[i], d->kind), point);
  }
  auto best = WithPoint(*p, r->points[r->best]);
  if (!best.ok()) return ReportError(best.status());
  std::string point;
  for (const auto& [name, v] : r->points[r->best]) point += fmt::format(" {}={}", name, v);
  fmt::print(stderr, "best:{}; refitting on all {} rows\n", point, d->n_rows);
  return FitAndWrite(*d, *best, o.out, o.test, o.test_output);
}

}  // namespace

CommandSpec TrainCommand() {
  return {"train", "train a random forest or extra trees from a raw CSV file (writes a native .fbm model)",
          [](CLI::App* sub) {
            auto o = std::make_shared<TrainOptions>();
            AddCommonOptions(sub, o);
            sub->add_option("--cv", o->cv,
                            "K-fold cross-validation (stratified for classification): per-fold and mean "
                            "metrics, printed before the final fit");
            return std::function<int()>([o] { return RunTrain(*o); });
          }};
}

CommandSpec TuneCommand() {
  return {"tune", "grid search with cross-validation; refits and writes the best model", [](CLI::App* sub) {
            auto o = std::make_shared<TrainOptions>();
            auto grid = std::make_shared<std::string>();
            auto scoring = std::make_shared<std::string>();
            auto jobs = std::make_shared<int32_t>(1);
            AddCommonOptions(sub, o);
            sub->add_option("--grid", *grid, "e.g. 'max_depth=5,10,none;trees=100,200' (scikit-learn names)")
                ->required();
            o->cv = 3;
            sub->add_option("--cv", o->cv, "folds (default 3)");
            sub->add_option(
                "--scoring", *scoring,
                "roc_auc (default), accuracy, neg_log_loss for classification; rmse (default), r2 "
                "for regression");
            sub->add_option("--jobs", *jobs, "(grid point, fold) tasks run at once (default 1)")
                ->check(CLI::Range(1, 1024));
            return std::function<int()>([=] { return RunTune(*o, *grid, *scoring, *jobs); });
          }};
}

}  // namespace fb::cli
