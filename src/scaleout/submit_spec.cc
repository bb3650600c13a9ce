#include "scaleout/submit_spec.h"

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <optional>

namespace fb {
namespace {

bool IsDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

bool IsAwsName(const std::string& s) {
  if (s.empty() || s.size() > 128 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

bool IsEnvName(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

const char* EngineName(Engine e) {
  switch (e) {
    case Engine::kSlurm: return "slurm";
    case Engine::kAwsBatch: return "aws-batch";
    case Engine::kKubernetes: return "kubernetes";
  }
  return "?";
}

Result<Engine> ParseEngine(const std::string& name) {
  if (name == "slurm") return Engine::kSlurm;
  if (name == "aws-batch" || name == "awsbatch" || name == "batch") return Engine::kAwsBatch;
  if (name == "kubernetes" || name == "k8s") return Engine::kKubernetes;
  return InvalidArgument(fmt::format("unknown engine '{}': use slurm, aws-batch or kubernetes", name));
}

Status ValidateSubmitSpec(const SubmitSpec& s) {
  if (s.workers < 1) return InvalidArgument(fmt::format("--workers {} must be at least 1", s.workers));
  for (const auto& [k, v] : s.env) {
    if (!IsEnvName(k)) return InvalidArgument(fmt::format("--env '{}': not a variable name", k));
  }
  switch (s.engine) {
    case Engine::kSlurm:
      if (s.name.empty()) return InvalidArgument("the job needs a name");
      if (s.max_parallel < 0) return InvalidArgument("--max-parallel must not be negative");
      if (s.cpus_per_task < 1) return InvalidArgument("--cpus-per-task must be at least 1");
      if (s.forestbatch_path.empty()) return InvalidArgument("the path of the forestbatch binary is unknown");
      break;
    case Engine::kAwsBatch:
      // AWS Batch: array jobs have 2 to 10,000 children; a single task is a
      // plain job (no arrayProperties).
      if (s.workers > 10000) {
        return InvalidArgument(
            fmt::format("AWS Batch array jobs have at most 10,000 tasks, not {}", s.workers));
      }
      if (!IsAwsName(s.name)) {
        return InvalidArgument(
            fmt::format("AWS Batch job name '{}': up to 128 letters, digits, '-' and '_', starting with a "
                        "letter or digit",
                        s.name));
      }
      if (s.job_queue.empty()) return InvalidArgument("aws-batch needs --job-queue");
      if (s.job_definition.empty()) return InvalidArgument("aws-batch needs --job-definition");
      if (s.attempts < 1 || s.attempts > 10) {
        return InvalidArgument(fmt::format("--attempts {} must be between 1 and 10", s.attempts));
      }
      if (s.timeout_seconds != 0 && s.timeout_seconds < 60) {
        return InvalidArgument(
            fmt::format("--timeout {} s: AWS Batch timeouts are at least 60 s", s.timeout_seconds));
      }
      break;
    case Engine::kKubernetes:
      if (!IsDnsLabel(s.name)) {
        return InvalidArgument(fmt::format(
            "Kubernetes job name '{}': at most 63 lower-case letters, digits and '-', not starting or "
            "ending with '-'",
            s.name));
      }
      if (s.image.empty()) return InvalidArgument("kubernetes needs --image");
      if (s.workers > 100000) {
        return InvalidArgument(
            fmt::format("Indexed Jobs have at most 100,000 completions, not {}", s.workers));
      }
      if (s.parallelism < 0 || s.parallelism > s.workers) {
        return InvalidArgument(
            fmt::format("--parallelism {} must be between 1 and --workers", s.parallelism));
      }
      if (s.backoff_limit_per_index < 0)
        return InvalidArgument("--backoff-limit-per-index must not be negative");
      if (s.grace_period_seconds < 0) return InvalidArgument("--grace-period must not be negative");
      break;
  }
  return Status::Ok();
}

std::string DefaultJobName() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "forestbatch-%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace fb

namespace fb {

Status ApplySchedule(SubmitSpec& spec, const std::string& schedule, double lease_seconds) {
  std::optional<std::string> given;  // among the worker options
  auto& a = spec.worker_args;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--schedule" && i + 1 < a.size()) given = a[i + 1];
    if (a[i].rfind("--schedule=", 0) == 0) given = a[i].substr(11);
  }
  if (!schedule.empty() && given && *given != schedule) {
    return InvalidArgument("submit --schedule " + schedule + " but the worker options say --schedule " +
                           *given);
  }
  const std::string name = !schedule.empty() ? schedule : given.value_or("static");
  FB_ASSIGN_OR_RETURN(spec.schedule, ParseSchedule(name));
  if (!schedule.empty() && !given) a.insert(a.end(), {"--schedule", schedule});
  if (lease_seconds > 0) {
    if (spec.schedule != Schedule::kDynamic) return InvalidArgument("--lease goes with --schedule dynamic");
    a.insert(a.end(), {"--lease", fmt::format("{}", lease_seconds)});
  }
  return Status::Ok();
}

}  // namespace fb
