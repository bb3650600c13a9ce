// tune as an array job: every (grid point, fold) task of `forestbatch tune`
// as a file that a separate process turns into a result file, so the tasks
// can run as local worker processes (`forestbatch run --exec`) or as an
// array job on a cluster (`forestbatch submit ... -- --exec`), with the
// runner's sharding, retries, manifests and job records.
//
// A tune folder DIR holds:
//   DIR/plan.json               what to tune: data file (absolute path, size,
//                               SHA-256), target, task, base hyperparameters,
//                               grid points, folds, scoring; its id is the
//                               SHA-256 of that content
//   DIR/tasks/task-NNNNN.json   one per task, self-contained (plan id, point,
//                               fold, data, parameters); task t is point t / k,
//                               fold t % k, as in Tune
//   DIR/results/task-NNNNN.json one per finished task: its fold's metrics
//                               (written atomically; the runner adds manifests)
// RunTuneTaskFile is deterministic: a task killed before its result appeared
// is simply run again, and a result, once there, is never rewritten by the
// runner (it skips outputs whose manifest matches). CollectTune reads every
// result and gives exactly the TuneResult that the in-process Tune gives
// (metrics travel as 17-digit decimals, which round-trip doubles).
//
// Every process must see the same data file at the same path (a shared disk
// on a cluster); each task checks its SHA-256 first.
//
// Thread safety: plain functions; a task or collect per process.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "train/training_data.h"
#include "train/tune.h"

namespace fb::train {

struct TunePlan {
  std::string data;         // absolute path of the training CSV
  uint64_t data_bytes = 0;  // its size and SHA-256 when planned
  std::string data_sha256;
  std::string target;
  std::vector<std::string> drop;                            // columns that are not features (train --drop)
  std::string task = "auto";                                // auto, classification or regression
  std::vector<std::pair<std::string, std::string>> params;  // base hyperparameters (SetParam names)
  std::vector<GridPoint> points;
  int32_t k = 3;
  Scoring scoring = Scoring::kRocAuc;
  // MakeTunePlan sets `scoring` to the task's default (roc_auc or rmse).
  bool default_scoring = false;
  std::string id;  // set by MakeTunePlan / ReadTunePlan

  size_t n_tasks() const { return points.size() * static_cast<size_t>(k); }
};

Result<Task> ParseTask(const std::string& name);

// Checks the plan against its data (loaded here: hyperparameters, folds and
// scoring must fit it) and fills data (made absolute), data_bytes,
// data_sha256 and id. `data` is returned through `loaded` when not null.
Status MakeTunePlan(TunePlan* plan, TrainingData* loaded = nullptr);

// Writes plan.json and the task files under `dir` (created). A folder that
// already holds the same plan is left as it is (its results stay valid);
// another plan there is AlreadyExists.
Status WriteTunePlan(const TunePlan& plan, const std::string& dir);
Result<TunePlan> ReadTunePlan(const std::string& dir);

// File names of task t (relative to DIR/tasks and DIR/results).
std::string TuneTaskName(size_t t);

// Runs the task in `task_file` with `threads` threads (0: all this process
// may use) and writes its result to `result_file` atomically.
Status RunTuneTaskFile(const std::string& task_file, const std::string& result_file, int32_t threads);

// Reads the results of every task of `plan` from `results_dir`. InvalidData
// listing the missing tasks (or naming a result of another plan).
Result<TuneResult> CollectTune(const TunePlan& plan, const std::string& results_dir);

// The plan's training data, checked against the planned size and SHA-256.
Result<TrainingData> LoadPlannedData(const TunePlan& plan);

// The base hyperparameters of the plan.
Result<TrainParams> BaseParams(const TunePlan& plan);

}  // namespace fb::train
