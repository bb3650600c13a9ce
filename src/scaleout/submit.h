// Submit: hands a SubmitSpec to its engine and records the submission.
//
// For each engine it writes the artifact the engine reads (Slurm: the sbatch
// script; AWS Batch: the SubmitJob request JSON; Kubernetes: the Job
// manifest, JSON, which kubectl reads like YAML) under
// <state_dir>/submits/, runs the engine's tool (sbatch --parsable; aws batch
// submit-job --cli-input-json; kubectl apply -f -), and writes a record
// <state_dir>/submits/<name>.json with the engine's job id, which
// QuerySubmittedJob (submit_status.h) follows. With dry_run it only builds
// the artifact and returns it: nothing is written or run.
//
// Errors: InvalidArgument for a bad spec; NotFound when the engine's tool is
// not on PATH; IoError when the engine rejects the submission (its stderr is
// in the message) or a file cannot be written.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runner/job_estimate.h"
#include "scaleout/submit_spec.h"

namespace fb {

struct SubmitRecord {
  std::string name;
  Engine engine = Engine::kSlurm;
  std::string job_id;  // Slurm job id, AWS Batch jobId, Kubernetes job name
  std::string k8s_namespace;
  int64_t workers = 0;
  std::string submitted_at;  // ISO 8601, UTC
  std::string artifact_path;
  std::string log_dir;  // Slurm only
  // `submit --estimate`: the projection made before submitting, kept to be
  // shown beside the job (status, serve).
  std::optional<EstimateRecord> estimate;
};

nlohmann::json RecordToJson(const SubmitRecord& r);
Result<SubmitRecord> RecordFromJson(const nlohmann::json& j);

struct SubmitOutcome {
  std::string artifact;  // the script, request or manifest text
  SubmitRecord record;   // job_id empty after a dry run
};

Result<SubmitOutcome> Submit(SubmitSpec spec, const std::string& state_dir, bool dry_run,
                             const std::optional<EstimateRecord>& estimate = std::nullopt);

std::string SubmitRecordPath(const std::string& state_dir, const std::string& name);
Result<SubmitRecord> LoadSubmitRecord(const std::string& state_dir, const std::string& name);

}  // namespace fb
