#include "scaleout/submit.h"

#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "runner/manifest.h"
#include "scaleout/aws_batch_request.h"
#include "scaleout/engine_process.h"
#include "scaleout/kubernetes_job.h"
#include "scaleout/slurm_script.h"

namespace fb {
namespace fs = std::filesystem;
namespace {

Status WriteWhole(const std::string& path, const std::string& text) {
  FB_ASSIGN_OR_RETURN(auto f, AtomicFile::Create(path));
  FB_RETURN_IF_ERROR(f.Write(text));
  return f.Commit();
}

std::string SubmitsDir(const std::string& state_dir) { return state_dir + "/submits"; }

}  // namespace

std::string SubmitRecordPath(const std::string& state_dir, const std::string& name) {
  return SubmitsDir(state_dir) + "/" + name + ".json";
}

nlohmann::json RecordToJson(const SubmitRecord& r) {
  nlohmann::json j = {
      {"name", r.name},       {"engine", EngineName(r.engine)}, {"job_id", r.job_id},
      {"workers", r.workers}, {"submitted_at", r.submitted_at}, {"artifact", r.artifact_path}};
  if (!r.k8s_namespace.empty()) j["namespace"] = r.k8s_namespace;
  if (!r.log_dir.empty()) j["log_dir"] = r.log_dir;
  if (r.estimate) j["estimate"] = nlohmann::json::parse(r.estimate->ToJson());
  return j;
}

Result<SubmitRecord> RecordFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("engine") || !j["engine"].is_string() || !j.contains("job_id") ||
      !j["job_id"].is_string()) {
    return InvalidData("not a forestbatch submit record");
  }
  SubmitRecord r;
  FB_ASSIGN_OR_RETURN(r.engine, ParseEngine(j["engine"].get<std::string>()));
  r.name = j.value("name", "");
  r.job_id = j["job_id"].get<std::string>();
  r.workers = j.value("workers", int64_t{0});
  r.submitted_at = j.value("submitted_at", "");
  r.artifact_path = j.value("artifact", "");
  r.k8s_namespace = j.value("namespace", "");
  r.log_dir = j.value("log_dir", "");
  if (j.contains("estimate") && j["estimate"].is_object()) {
    auto e = EstimateRecord::FromJson(j["estimate"].dump());
    if (e.ok()) r.estimate = std::move(*e);  // unreadable: shown without it
  }
  return r;
}

Result<SubmitRecord> LoadSubmitRecord(const std::string& state_dir, const std::string& name) {
  std::string path = SubmitRecordPath(state_dir, name);
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("no submitted job named '{}' (looked for {})", name, path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return InvalidData("not valid JSON").At(path);
  auto r = RecordFromJson(j);
  if (!r.ok()) return std::move(r).take_status().WithPath(path);
  return r;
}

Result<SubmitOutcome> Submit(SubmitSpec spec, const std::string& state_dir, bool dry_run,
                             const std::optional<EstimateRecord>& estimate) {
  std::error_code ec;
  std::string abs_state = fs::absolute(state_dir, ec).lexically_normal().string();
  if (abs_state.size() > 1 && abs_state.back() == '/') abs_state.pop_back();
  std::string dir = SubmitsDir(abs_state);
  if (spec.engine == Engine::kSlurm) {
    if (spec.workdir.empty()) spec.workdir = fs::current_path(ec).string();
    if (spec.log_dir.empty()) spec.log_dir = abs_state + "/slurm-logs";
  }
  FB_RETURN_IF_ERROR(ValidateSubmitSpec(spec));

  SubmitOutcome outcome;
  SubmitRecord& rec = outcome.record;
  rec.name = spec.name;
  rec.engine = spec.engine;
  rec.workers = spec.workers;
  rec.k8s_namespace = spec.k8s_namespace;
  rec.estimate = estimate;
  switch (spec.engine) {
    case Engine::kSlurm:
      outcome.artifact = SlurmBatchScript(spec);
      rec.artifact_path = dir + "/" + spec.name + ".sbatch";
      rec.log_dir = spec.log_dir;
      break;
    case Engine::kAwsBatch:
      outcome.artifact = AwsBatchSubmitJobRequest(spec).dump(2) + "\n";
      rec.artifact_path = dir + "/" + spec.name + ".submit-job.json";
      break;
    case Engine::kKubernetes:
      outcome.artifact = KubernetesIndexedJob(spec).dump(2) + "\n";
      rec.artifact_path = dir + "/" + spec.name + ".job.json";
      break;
  }
  if (dry_run) return outcome;

  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create {}: {}", dir, ec.message()));
  FB_RETURN_IF_ERROR(WriteWhole(rec.artifact_path, outcome.artifact));

  switch (spec.engine) {
    case Engine::kSlurm: {
      // Slurm does not create the folder of --output; a task whose log
      // cannot be opened fails at once.
      fs::create_directories(spec.log_dir, ec);
      if (ec) return IoError(fmt::format("cannot create {}: {}", spec.log_dir, ec.message()));
      FB_ASSIGN_OR_RETURN(auto r, RunEngineTool(SbatchCommand(rec.artifact_path), "",
                                                "run on a Slurm login node, or install slurm-client"));
      FB_ASSIGN_OR_RETURN(rec.job_id, ParseSbatchOutput(r.out));
      break;
    }
    case Engine::kAwsBatch: {
      FB_ASSIGN_OR_RETURN(auto r, RunEngineTool(AwsSubmitJobCommand(rec.artifact_path), "",
                                                "install the AWS CLI (v1 or v2) and configure credentials"));
      FB_ASSIGN_OR_RETURN(rec.job_id, ParseAwsSubmitJobOutput(r.out));
      break;
    }
    case Engine::kKubernetes: {
      FB_ASSIGN_OR_RETURN(auto r, RunEngineTool(KubectlApplyCommand(spec), outcome.artifact,
                                                "install kubectl and point it at the cluster"));
      (void)r;
      rec.job_id = spec.name;  // a Job is known by its name (and namespace)
      break;
    }
  }
  rec.submitted_at = UtcNow();
  FB_RETURN_IF_ERROR(WriteWhole(SubmitRecordPath(abs_state, spec.name), RecordToJson(rec).dump(2) + "\n"));
  return outcome;
}

}  // namespace fb
