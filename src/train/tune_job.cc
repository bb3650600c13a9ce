#include "train/tune_job.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/sha256.h"

namespace fb::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormat = 1;

Result<std::pair<uint64_t, std::string>> FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  Sha256 sha;
  std::vector<char> buf(size_t{1} << 20);
  uint64_t bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(got)));
    bytes += static_cast<uint64_t>(got);
  }
  if (in.bad()) return IoError("cannot read " + path);
  return std::make_pair(bytes, sha.HexDigest());
}

json PairsToJson(const std::vector<std::pair<std::string, std::string>>& v) {
  json a = json::array();
  for (const auto& [k, x] : v) a.push_back({k, x});
  return a;
}

Result<std::vector<std::pair<std::string, std::string>>> PairsFromJson(const json& a) {
  if (!a.is_array()) return InvalidData("expected a list of [name, value] pairs");
  std::vector<std::pair<std::string, std::string>> v;
  for (const json& p : a) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string())
      return InvalidData("expected a [name, value] pair of strings");
    v.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  }
  return v;
}

// The plan's content, without its id (the id is the digest of this).
json PlanContent(const TunePlan& p) {
  json points = json::array();
  for (const GridPoint& g : p.points) points.push_back(PairsToJson(g));
  return {{"forestbatch_tune_plan", kFormat},
          {"data", p.data},
          {"data_bytes", p.data_bytes},
          {"data_sha256", p.data_sha256},
          {"target", p.target},
          {"drop", p.drop},
          {"task", p.task},
          {"params", PairsToJson(p.params)},
          {"points", points},
          {"cv", p.k},
          {"scoring", ScoringName(p.scoring)},
          {"tasks", p.n_tasks()}};
}

std::string PlanId(const TunePlan& p) { return Sha256Hex(PlanContent(p).dump()); }

// NaN (a fold without both classes has no ROC AUC) is written as null.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double NumberFrom(const json& j) {
  return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

json MetricsToJson(const Metrics& m) {
  return {{"n_test", m.n_test},
          {"roc_auc", Number(m.roc_auc)},
          {"accuracy", Number(m.accuracy)},
          {"log_loss", Number(m.log_loss)},
          {"rmse", Number(m.rmse)},
          {"r2", Number(m.r2)}};
}

// May throw json::exception (callers catch it).
Result<Metrics> MetricsFromJson(const json& j) {
  if (!j.is_object() || !j.contains("n_test") || !j["n_test"].is_number_integer())
    return InvalidData("no metrics");
  Metrics m;
  m.n_test = j["n_test"].get<int64_t>();
  m.roc_auc = NumberFrom(j.at("roc_auc"));
  m.accuracy = NumberFrom(j.at("accuracy"));
  m.log_loss = NumberFrom(j.at("log_loss"));
  m.rmse = NumberFrom(j.at("rmse"));
  m.r2 = NumberFrom(j.at("r2"));
  return m;
}

Result<json> ReadJson(const std::string& path) {
  FB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidData("not valid JSON").At(path);
  return j;
}

Result<TunePlan> PlanFromJson(const json& j) {
  if (!j.is_object() || !j.contains("forestbatch_tune_plan") || j["forestbatch_tune_plan"] != kFormat)
    return InvalidData("not a forestbatch tune plan (version 1)");
  TunePlan p;
  try {
    p.data = j.at("data").get<std::string>();
    p.data_bytes = j.at("data_bytes").get<uint64_t>();
    p.data_sha256 = j.at("data_sha256").get<std::string>();
    p.target = j.at("target").get<std::string>();
    if (j.contains("drop")) p.drop = j.at("drop").get<std::vector<std::string>>();
    p.task = j.at("task").get<std::string>();
    FB_ASSIGN_OR_RETURN(p.params, PairsFromJson(j.at("params")));
    for (const json& g : j.at("points")) {
      FB_ASSIGN_OR_RETURN(GridPoint point, PairsFromJson(g));
      p.points.push_back(std::move(point));
    }
    p.k = j.at("cv").get<int32_t>();
    FB_ASSIGN_OR_RETURN(p.scoring, ParseScoring(j.at("scoring").get<std::string>()));
  } catch (const json::exception& e) {
    return InvalidData(std::string("malformed tune plan: ") + e.what());
  }
  if (p.points.empty() || p.k < 2) return InvalidData("malformed tune plan: no points or fewer than 2 folds");
  return p;
}

}  // namespace

Result<Task> ParseTask(const std::string& name) {
  if (name == "auto") return Task::kAuto;
  if (name == "classification") return Task::kClassification;
  if (name == "regression") return Task::kRegression;
  return InvalidArgument("--task: expected auto, classification or regression");
}

std::string TuneTaskName(size_t t) { return fmt::format("task-{:05d}.json", t); }

Result<TrainParams> BaseParams(const TunePlan& plan) {
  TrainParams p;
  for (const auto& [k, v] : plan.params) FB_RETURN_IF_ERROR(SetParam(&p, k, v));
  return p;
}

Status MakeTunePlan(TunePlan* plan, TrainingData* loaded) {
  std::error_code ec;
  fs::path abs = fs::absolute(plan->data, ec);
  if (ec) return IoError("cannot resolve the path: " + ec.message()).At(plan->data);
  plan->data = abs.lexically_normal().string();
  FB_ASSIGN_OR_RETURN(auto digest, FileDigest(plan->data));
  plan->data_bytes = digest.first;
  plan->data_sha256 = digest.second;
  FB_ASSIGN_OR_RETURN(Task task, ParseTask(plan->task));
  FB_ASSIGN_OR_RETURN(TrainingData data, LoadTrainingData(plan->data, plan->target, task, plan->drop));
  if (plan->default_scoring)
    plan->scoring = data.kind == ModelKind::kClassifier ? Scoring::kRocAuc : Scoring::kNegRmse;
  FB_RETURN_IF_ERROR(CheckScoring(data.kind, plan->scoring));
  FB_ASSIGN_OR_RETURN(TrainParams base, BaseParams(*plan));
  for (const GridPoint& g : plan->points) {
    FB_ASSIGN_OR_RETURN(TrainParams p, WithPoint(base, g));
    FB_RETURN_IF_ERROR(ValidateParams(p, data.kind));
  }
  FB_RETURN_IF_ERROR(MakeFolds(data, plan->k, base.seed).take_status());
  plan->id = PlanId(*plan);
  if (loaded != nullptr) *loaded = std::move(data);
  return Status::Ok();
}

Status WriteTunePlan(const TunePlan& plan, const std::string& dir) {
  const std::string plan_path = (fs::path(dir) / "plan.json").string();
  json content = PlanContent(plan);
  content["id"] = plan.id;
  const std::string text = content.dump(2) + "\n";
  std::error_code ec;
  if (fs::exists(plan_path, ec)) {
    FB_ASSIGN_OR_RETURN(TunePlan old, ReadTunePlan(dir));
    if (old.id != plan.id)
      return AlreadyExists("holds another tune plan (" + old.id.substr(0, 12) +
                           "); use another folder or remove it")
          .At(dir);
  }
  // Unchanged files are not rewritten: the runner would see their new mtime
  // as changed inputs and redo finished tasks.
  auto write_if_changed = [](const std::string& path, const std::string& bytes) -> Status {
    auto old = ReadFile(path);
    if (old.ok() && *old == bytes) return Status::Ok();
    return WriteFileAtomically(path, bytes);
  };
  for (size_t t = 0; t < plan.n_tasks(); ++t) {
    const size_t point = t / plan.k, fold = t % plan.k;
    json task = {{"forestbatch_tune_task", kFormat},
                 {"plan_id", plan.id},
                 {"task", t},
                 {"point", point},
                 {"fold", fold},
                 {"plan", PlanContent(plan)}};
    FB_RETURN_IF_ERROR(
        write_if_changed((fs::path(dir) / "tasks" / TuneTaskName(t)).string(), task.dump(2) + "\n"));
  }
  // The plan last: a folder with plan.json has all its tasks.
  return write_if_changed(plan_path, text);
}

Result<TunePlan> ReadTunePlan(const std::string& dir) {
  const std::string path = (fs::path(dir) / "plan.json").string();
  FB_ASSIGN_OR_RETURN(json j, ReadJson(path));
  auto plan = PlanFromJson(j);
  if (!plan.ok()) return std::move(plan).take_status().At(path);
  plan->id = PlanId(*plan);
  if (!j.contains("id") || j["id"] != plan->id)
    return InvalidData("the plan's id does not match its content (edited by hand?)").At(path);
  return plan;
}

Result<TrainingData> LoadPlannedData(const TunePlan& plan) {
  FB_ASSIGN_OR_RETURN(auto digest, FileDigest(plan.data));
  if (digest.first != plan.data_bytes || digest.second != plan.data_sha256)
    return InvalidData("the training data changed since the tune was planned (size or SHA-256 differs)")
        .At(plan.data);
  FB_ASSIGN_OR_RETURN(Task task, ParseTask(plan.task));
  return LoadTrainingData(plan.data, plan.target, task, plan.drop);
}

Status RunTuneTaskFile(const std::string& task_file, const std::string& result_file, int32_t threads) {
  const auto start = std::chrono::steady_clock::now();
  FB_ASSIGN_OR_RETURN(json j, ReadJson(task_file));
  if (!j.is_object() || !j.contains("forestbatch_tune_task") || j["forestbatch_tune_task"] != kFormat ||
      !j.contains("plan"))
    return InvalidData("not a forestbatch tune task (version 1)").At(task_file);
  auto plan = PlanFromJson(j["plan"]);
  if (!plan.ok()) return std::move(plan).take_status().At(task_file);
  plan->id = PlanId(*plan);
  size_t t = 0, point = 0, fold = 0;
  std::string plan_id;
  try {
    t = j.at("task").get<size_t>();
    point = j.at("point").get<size_t>();
    fold = j.at("fold").get<size_t>();
    plan_id = j.at("plan_id").get<std::string>();
  } catch (const json::exception& e) {
    return InvalidData(std::string("malformed tune task: ") + e.what()).At(task_file);
  }
  if (plan_id != plan->id || t >= plan->n_tasks() || point != t / plan->k || fold != t % plan->k)
    return InvalidData("inconsistent tune task (plan id, task, point or fold)").At(task_file);
  FB_ASSIGN_OR_RETURN(TrainingData data, LoadPlannedData(*plan));
  FB_ASSIGN_OR_RETURN(TrainParams base, BaseParams(*plan));
  FB_ASSIGN_OR_RETURN(TrainParams params, WithPoint(base, plan->points[point]));
  FB_RETURN_IF_ERROR(ValidateParams(params, data.kind));
  FB_ASSIGN_OR_RETURN(auto folds, MakeFolds(data, plan->k, base.seed));
  FB_ASSIGN_OR_RETURN(Metrics m, RunTuneTask(data, params, folds, static_cast<int32_t>(fold), threads));
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  json result = {
      {"forestbatch_tune_result", kFormat},
      {"plan_id", plan->id},
      {"task", t},
      {"point", point},
      {"fold", fold},
      {"metrics", MetricsToJson(m)},
      {"host", host},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  return WriteFileAtomically(result_file, result.dump(2) + "\n");
}

Result<TuneResult> CollectTune(const TunePlan& plan, const std::string& results_dir) {
  std::vector<std::vector<Metrics>> metrics(plan.points.size(), std::vector<Metrics>(plan.k));
  std::vector<size_t> missing;
  for (size_t t = 0; t < plan.n_tasks(); ++t) {
    const std::string path = (fs::path(results_dir) / TuneTaskName(t)).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      missing.push_back(t);
      continue;
    }
    FB_ASSIGN_OR_RETURN(json j, ReadJson(path));
    Status st = [&]() -> Status {
      try {
        if (!j.is_object() || !j.contains("forestbatch_tune_result") ||
            j["forestbatch_tune_result"] != kFormat)
          return InvalidData("not a forestbatch tune result (version 1)");
        if (j.at("plan_id").get<std::string>() != plan.id)
          return InvalidData("a result of another tune plan");
        if (j.at("task").get<size_t>() != t) return InvalidData("the result of another task");
        FB_ASSIGN_OR_RETURN(metrics[t / plan.k][t % plan.k], MetricsFromJson(j.at("metrics")));
      } catch (const json::exception& e) {
        return InvalidData(std::string("malformed tune result: ") + e.what());
      }
      return Status::Ok();
    }();
    if (!st.ok()) return std::move(st).At(path);
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i)
      list += (i ? ", " : "") + std::to_string(missing[i]);
    if (missing.size() > 20) list += fmt::format(", ... ({} more)", missing.size() - 20);
    return InvalidData(
               fmt::format("{} of the {} tasks have no result yet: {}", missing.size(), plan.n_tasks(), list))
        .At(results_dir);
  }
  return SummarizeTune(plan.points, std::move(metrics), plan.scoring);
}

}  // namespace fb::train
