#include "train/tune.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "train/forest_trainer.h"

namespace fb::train {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    size_t e = s.find(sep, b);
    std::string part = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
    size_t i = part.find_first_not_of(" \t"), j = part.find_last_not_of(" \t");
    out.push_back(i == std::string::npos ? "" : part.substr(i, j - i + 1));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<GridPoint>> ParseGrid(const std::string& grid) {
  std::vector<GridPoint> points = {{}};
  for (const std::string& axis : Split(grid, ';')) {
    if (axis.empty()) continue;
    size_t eq = axis.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("--grid: '" + axis + "' is not name=value,value,...");
    std::string name = axis.substr(0, eq);
    std::vector<std::string> values = Split(axis.substr(eq + 1), ',');
    std::vector<GridPoint> next;
    for (const GridPoint& p : points) {
      for (const std::string& v : values) {
        TrainParams probe;
        FB_RETURN_IF_ERROR(SetParam(&probe, name, v).Prefix("--grid"));
        GridPoint q = p;
        q.emplace_back(name, v);
        next.push_back(std::move(q));
      }
    }
    points = std::move(next);
  }
  if (points.size() == 1 && points[0].empty()) return InvalidArgument("--grid is empty");
  if (points.size() > 10000)
    return InvalidArgument(fmt::format("--grid has {} points (at most 10000)", points.size()));
  return points;
}

Result<Scoring> ParseScoring(const std::string& name) {
  if (name == "roc_auc") return Scoring::kRocAuc;
  if (name == "accuracy") return Scoring::kAccuracy;
  if (name == "neg_log_loss" || name == "log_loss") return Scoring::kNegLogLoss;
  if (name == "neg_root_mean_squared_error" || name == "rmse") return Scoring::kNegRmse;
  if (name == "r2") return Scoring::kR2;
  return InvalidArgument("--scoring: expected roc_auc, accuracy, neg_log_loss, rmse or r2");
}

const char* ScoringName(Scoring s) {
  switch (s) {
    case Scoring::kRocAuc: return "roc_auc";
    case Scoring::kAccuracy: return "accuracy";
    case Scoring::kNegLogLoss: return "neg_log_loss";
    case Scoring::kNegRmse: return "neg_rmse";
    case Scoring::kR2: return "r2";
  }
  return "?";
}

double Score(const Metrics& m, Scoring s) {
  switch (s) {
    case Scoring::kRocAuc: return m.roc_auc;
    case Scoring::kAccuracy: return m.accuracy;
    case Scoring::kNegLogLoss: return -m.log_loss;
    case Scoring::kNegRmse: return -m.rmse;
    case Scoring::kR2: return m.r2;
  }
  return 0;
}

Result<TrainParams> WithPoint(const TrainParams& base, const GridPoint& point) {
  TrainParams p = base;
  for (const auto& [k, v] : point) FB_RETURN_IF_ERROR(SetParam(&p, k, v));
  return p;
}

Status CheckScoring(ModelKind kind, Scoring scoring) {
  bool cls = kind == ModelKind::kClassifier;
  bool cls_score =
      scoring == Scoring::kRocAuc || scoring == Scoring::kAccuracy || scoring == Scoring::kNegLogLoss;
  if (cls != cls_score)
    return InvalidArgument(fmt::format("--scoring {} does not fit a {} task", ScoringName(scoring),
                                       cls ? "classification" : "regression"));
  return Status::Ok();
}

Result<Metrics> RunTuneTask(const TrainingData& data, TrainParams params,
                            const std::vector<std::vector<int64_t>>& folds, int32_t fold, int32_t threads) {
  if (fold < 0 || fold >= static_cast<int32_t>(folds.size()))
    return InvalidArgument(fmt::format("fold {} of {}", fold, folds.size()));
  params.threads = threads;
  FB_ASSIGN_OR_RETURN(Forest f, TrainForest(data, params, Complement(data.n_rows, folds[fold])));
  return Evaluate(f, data, folds[fold], threads);
}

TuneResult SummarizeTune(std::vector<GridPoint> points, std::vector<std::vector<Metrics>> folds,
                         Scoring scoring) {
  TuneResult r;
  r.points = std::move(points);
  r.folds = std::move(folds);
  for (size_t p = 0; p < r.points.size(); ++p) {
    r.mean.push_back(MeanMetrics(r.folds[p]));
    if (Score(r.mean[p], scoring) > Score(r.mean[r.best], scoring)) r.best = p;
  }
  return r;
}

Result<TuneResult> Tune(const TrainingData& data, const TrainParams& base,
                        const std::vector<GridPoint>& points, int32_t k, int32_t jobs, Scoring scoring) {
  FB_RETURN_IF_ERROR(CheckScoring(data.kind, scoring));
  FB_ASSIGN_OR_RETURN(auto folds, MakeFolds(data, k, base.seed));
  std::vector<TrainParams> params;
  for (const GridPoint& p : points) {
    FB_ASSIGN_OR_RETURN(TrainParams tp, WithPoint(base, p));
    FB_RETURN_IF_ERROR(ValidateParams(tp, data.kind));
    params.push_back(tp);
  }
  std::vector<std::vector<Metrics>> metrics(points.size(), std::vector<Metrics>(k));
  const size_t n_tasks = points.size() * static_cast<size_t>(k);
  jobs = std::clamp<int32_t>(jobs, 1, static_cast<int32_t>(n_tasks));
  const int32_t per_job = std::max(1, EffectiveThreads(base.threads) / jobs);
  std::vector<Status> errors(n_tasks);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t t; (t = next.fetch_add(1)) < n_tasks;) {
      const size_t point = t / k, fold = t % k;
      auto m = RunTuneTask(data, params[point], folds, static_cast<int32_t>(fold), per_job);
      if (!m.ok()) {
        errors[t] = m.status();
        continue;
      }
      metrics[point][fold] = *m;
    }
  };
  std::vector<std::thread> pool;
  for (int32_t j = 1; j < jobs; ++j) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const Status& s : errors) FB_RETURN_IF_ERROR(s);
  return SummarizeTune(points, std::move(metrics), scoring);
}

std::string MetricsLine(const Metrics& m, ModelKind kind) {
  if (kind == ModelKind::kClassifier)
    return fmt::format("roc_auc {:.4f}  accuracy {:.4f}  log_loss {:.4f}", m.roc_auc, m.accuracy, m.log_loss);
  return fmt::format("rmse {:.6g}  r2 {:.4f}", m.rmse, m.r2);
}

namespace {

// Rank of each point by mean score (1 = best; ties keep grid order).
std::vector<size_t> Ranks(const TuneResult& r, Scoring scoring) {
  std::vector<size_t> order(r.points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Score(r.mean[a], scoring) > Score(r.mean[b], scoring); });
  std::vector<size_t> rank(order.size());
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = i + 1;
  return rank;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string TuneTable(const TuneResult& r, Scoring scoring, ModelKind kind) {
  const std::vector<size_t> rank = Ranks(r, scoring);
  std::string out;
  for (size_t i = 0; i < r.points.size(); ++i) {
    std::string point;
    for (const auto& [name, v] : r.points[i])
      point += fmt::format("{}{}={}", point.empty() ? "" : " ", name, v);
    out += fmt::format("rank {:>3}  {}={:.5f}  {}  [{}]\n", rank[i], ScoringName(scoring),
                       Score(r.mean[i], scoring), MetricsLine(r.mean[i], kind), point);
  }
  return out;
}

std::string TuneTableCsv(const TuneResult& r, Scoring scoring) {
  const std::vector<size_t> rank = Ranks(r, scoring);
  std::string out = "rank";
  if (!r.points.empty())
    for (const auto& kv : r.points[0]) out += "," + CsvField(kv.first);
  out += fmt::format(",mean_{}", ScoringName(scoring));
  const size_t k = r.folds.empty() ? 0 : r.folds[0].size();
  for (size_t f = 0; f < k; ++f) out += fmt::format(",fold_{}", f + 1);
  out += "\n";
  for (size_t i = 0; i < r.points.size(); ++i) {
    out += std::to_string(rank[i]);
    for (const auto& kv : r.points[i]) out += "," + CsvField(kv.second);
    out += fmt::format(",{:.17g}", Score(r.mean[i], scoring));
    for (const Metrics& m : r.folds[i]) out += fmt::format(",{:.17g}", Score(m, scoring));
    out += "\n";
  }
  return out;
}

}  // namespace fb::train
