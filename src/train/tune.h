// Grid search with cross-validation (`forestbatch tune`).
//
// A grid is "name=v1,v2,...;name=v1,..." over the hyperparameters SetParam
// knows (train_params.h); its points are the cartesian product, the first
// name varying slowest. Each (point, fold) pair is one task: train on the
// fold's complement, evaluate on the fold. Tasks run on `jobs` worker
// threads, each training with threads / jobs threads, and results do not
// depend on jobs or threads (every task's model depends on the seed only).
// The best point has the best mean score (ties: the first point).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "train/evaluation.h"
#include "train/train_params.h"
#include "train/training_data.h"

namespace fb::train {

using GridPoint = std::vector<std::pair<std::string, std::string>>;

// Parses and checks (every value through SetParam) a grid.
Result<std::vector<GridPoint>> ParseGrid(const std::string& grid);

enum class Scoring : uint8_t { kRocAuc, kAccuracy, kNegLogLoss, kNegRmse, kR2 };
Result<Scoring> ParseScoring(const std::string& name);
const char* ScoringName(Scoring s);
// The score of metrics: larger is better.
double Score(const Metrics& m, Scoring s);

struct TuneResult {
  std::vector<GridPoint> points;
  std::vector<std::vector<Metrics>> folds;  // per point, per fold
  std::vector<Metrics> mean;                // per point
  size_t best = 0;
};

Result<TuneResult> Tune(const TrainingData& data, const TrainParams& base,
                        const std::vector<GridPoint>& points, int32_t k, int32_t jobs, Scoring scoring);

// `base` with a point's values set.
Result<TrainParams> WithPoint(const TrainParams& base, const GridPoint& point);

// The pieces Tune is made of, shared with tune's array job (tune_job.h) so
// that both give the same numbers:
// InvalidArgument when `scoring` does not fit the task.
Status CheckScoring(ModelKind kind, Scoring scoring);
// One task: trains `params` (base with the point set) on the complement of
// folds[fold] with `threads` threads and scores it on folds[fold]. The folds
// are MakeFolds(data, k, base.seed).
Result<Metrics> RunTuneTask(const TrainingData& data, TrainParams params,
                            const std::vector<std::vector<int64_t>>& folds, int32_t fold, int32_t threads);
// Means per point and the best point (first of the best mean score).
TuneResult SummarizeTune(std::vector<GridPoint> points, std::vector<std::vector<Metrics>> folds,
                         Scoring scoring);

// The ranked table `tune` prints: one line per point, in grid order, with
// its rank (1 = best), mean score, mean metrics and the point's values.
std::string TuneTable(const TuneResult& r, Scoring scoring, ModelKind kind);
// The same as CSV: rank, the grid's names, mean_<scoring>, then the score of
// each fold (fold_1...). Numbers with 17 significant digits.
std::string TuneTableCsv(const TuneResult& r, Scoring scoring);
// The metrics of one line: "roc_auc 0.9876  accuracy ..." or "rmse ...  r2 ...".
std::string MetricsLine(const Metrics& m, ModelKind kind);

}  // namespace fb::train
