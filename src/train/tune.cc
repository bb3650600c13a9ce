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

Result<TuneResult> Tune(const TrainingData& data, const TrainParams& base,
                        const std::vector<GridPoint>& points, int32_t k, int32_t jobs, Scoring scoring) {
  bool cls = data.kind == ModelKind::kClassifier;
  bool cls_score =
      scoring == Scoring::kRocAuc || scoring == Scoring::kAccuracy || scoring == Scoring::kNegLogLoss;
  if (cls != cls_score)
    return InvalidArgument(fmt::format("--scoring {} does not fit a {} task", ScoringName(scoring),
                                       cls ? "classification" : "regression"));
  FB_ASSIGN_OR_RETURN(auto folds, MakeFolds(data, k, base.seed));
  std::vector<TrainParams> params;
  for (const GridPoint& p : points) {
    FB_ASSIGN_OR_RETURN(TrainParams tp, WithPoint(base, p));
    FB_RETURN_IF_ERROR(ValidateParams(tp, data.kind));
    params.push_back(tp);
  }
  TuneResult r;
  r.points = points;
  r.folds.assign(points.size(), std::vector<Metrics>(k));
  const size_t n_tasks = points.size() * static_cast<size_t>(k);
  jobs = std::clamp<int32_t>(jobs, 1, static_cast<int32_t>(n_tasks));
  const int32_t per_job = std::max(1, EffectiveThreads(base.threads) / jobs);
  std::vector<Status> errors(n_tasks);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t t; (t = next.fetch_add(1)) < n_tasks;) {
      size_t point = t / k, fold = t % k;
      TrainParams p = params[point];
      p.threads = per_job;
      auto f = TrainForest(data, p, Complement(data.n_rows, folds[fold]));
      if (!f.ok()) {
        errors[t] = f.status();
        continue;
      }
      r.folds[point][fold] = Evaluate(*f, data, folds[fold]);
    }
  };
  std::vector<std::thread> pool;
  for (int32_t j = 1; j < jobs; ++j) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const Status& s : errors) FB_RETURN_IF_ERROR(s);
  for (size_t p = 0; p < points.size(); ++p) {
    r.mean.push_back(MeanMetrics(r.folds[p]));
    if (Score(r.mean[p], scoring) > Score(r.mean[r.best], scoring)) r.best = p;
  }
  return r;
}

}  // namespace fb::train
