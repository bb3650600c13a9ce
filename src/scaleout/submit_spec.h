// SubmitSpec: everything `forestbatch submit` needs to hand an array job of
// `forestbatch worker` tasks to an engine (Slurm, AWS Batch, Kubernetes).
//
// A plain value; the builders (slurm_script.h, aws_batch_request.h,
// kubernetes_job.h) read it and never touch the process or the network.
// ValidateSubmitSpec checks the limits each engine documents so a bad spec is
// refused here, with a clear message, instead of by the engine later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runner/claims.h"

namespace fb {

enum class Engine { kSlurm, kAwsBatch, kKubernetes };

const char* EngineName(Engine e);  // "slurm", "aws-batch", "kubernetes"
Result<Engine> ParseEngine(const std::string& name);

struct SubmitSpec {
  Engine engine = Engine::kSlurm;
  std::string name;                      // job name; see ValidateSubmitSpec for each engine's rules
  int64_t workers = 1;                   // array size N: tasks 0..N-1
  std::vector<std::string> worker_args;  // options after `--`, passed to `forestbatch worker`
  std::vector<std::pair<std::string, std::string>> env;  // extra environment for every task
  // kDynamic: worker_args hold `--schedule dynamic` (ApplySchedule) and each
  // engine gives its tasks one run id for their claims (runner/claims.h).
  Schedule schedule = Schedule::kStatic;

  // Slurm.
  std::string forestbatch_path;  // absolute path of the binary the tasks run
  std::string workdir;           // --chdir of the tasks (the submitter's folder)
  std::string log_dir;           // where %A_%a logs go
  int64_t max_parallel = 0;      // --array=0-(N-1)%max; 0 = no throttle
  int64_t cpus_per_task = 2;
  std::string memory;                    // --mem, e.g. "7G"; empty = cluster default
  std::string partition;                 // empty = cluster default
  std::string time_limit;                // --time, e.g. "01:00:00"; empty = default
  std::vector<std::string> sbatch_args;  // extra `#SBATCH` options, verbatim

  // AWS Batch.
  std::string job_queue;
  std::string job_definition;
  int64_t attempts = 3;         // retryStrategy.attempts, 1..10
  int64_t timeout_seconds = 0;  // timeout.attemptDurationSeconds; 0 = none, else >= 60
  std::string aws_vcpus;        // resourceRequirements VCPU from --cpus; empty = the job definition's
  std::string aws_memory;       // resourceRequirements MEMORY from --memory (7G, 7Gi, 7168M); empty = same

  // Kubernetes.
  std::string image;
  std::string k8s_namespace;  // empty = kubectl's current namespace
  int64_t parallelism = 0;    // 0 = workers
  int64_t backoff_limit_per_index = 3;
  std::string cpu = "2";  // resources.requests/limits.cpu
  std::string k8s_memory = "7Gi";
  int64_t grace_period_seconds = 60;  // terminationGracePeriodSeconds (SIGTERM to SIGKILL)
  std::string service_account;        // empty = default (e.g. an IRSA account for S3 access)
};

// Checks the limits each engine documents and every value written into a
// script; lists every problem at once.
// `known_problems` (found by the caller, e.g. options of another engine) are
// listed first, in the same message.
Status ValidateSubmitSpec(const SubmitSpec& spec, std::vector<std::string> known_problems = {});

// MiB for AWS Batch's MEMORY resource from "7G", "7Gi", "512M", "1T" or plain
// MiB; nullopt when not understood.
std::optional<int64_t> AwsMemoryMiB(const std::string& memory);

// Makes `spec.schedule` and the worker options agree: `--schedule S` given
// to submit is appended to the worker options (with `--lease` when
// `lease_seconds` > 0); a `--schedule dynamic` already among the worker
// options sets spec.schedule. InvalidArgument when the two disagree.
Status ApplySchedule(SubmitSpec& spec, const std::string& schedule, double lease_seconds);

// "forestbatch-YYYYMMDD-HHMMSS" in UTC: valid for every engine.
std::string DefaultJobName();

}  // namespace fb
