#include "scaleout/submit_spec.h"

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <optional>

#include "common/text_escape.h"

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

// A value written into a `#SBATCH` line: sbatch reads one option per line and
// strips double quotes, so a line break would start a directive of its own and
// a quote would end the value early.
bool IsSafeDirectiveValue(const std::string& v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"') return false;
  }
  return true;
}

// "7G", "7Gi", "512M", "512Mi", "1T", or plain mebibytes: the MiB AWS Batch's
// MEMORY resource wants; nullopt when not understood.
std::optional<int64_t> MebibytesFrom(const std::string& text) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (n > (int64_t{1} << 40)) return std::nullopt;
    n = n * 10 + (text[i++] - '0');
  }
  if (i == 0) return std::nullopt;
  std::string unit = text.substr(i);
  if (unit.size() == 2 && unit[1] == 'i') unit.resize(1);
  if (unit.empty() || unit == "M") return n;
  if (unit == "G") return n * 1024;
  if (unit == "T") return n * 1024 * 1024;
  return std::nullopt;
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

std::optional<int64_t> AwsMemoryMiB(const std::string& memory) { return MebibytesFrom(memory); }

Status ValidateSubmitSpec(const SubmitSpec& s, std::vector<std::string> known_problems) {
  std::vector<std::string> problems = std::move(known_problems);
  auto problem = [&problems](std::string p) { problems.push_back(std::move(p)); };
  if (s.workers < 1) problem(fmt::format("--workers {} must be at least 1", s.workers));
  for (const auto& [k, v] : s.env) {
    if (!IsEnvName(k)) problem(fmt::format("--env '{}': not a variable name", k));
  }
  switch (s.engine) {
    case Engine::kSlurm: {
      if (s.name.empty()) problem("the job needs a name");
      if (s.max_parallel < 0) problem("--max-parallel must not be negative");
      if (s.cpus_per_task < 1) problem("--cpus-per-task must be at least 1");
      if (s.forestbatch_path.empty()) problem("the path of the forestbatch binary is unknown");
      const std::pair<const char*, const std::string*> directives[] = {
          {"--name", &s.name},     {"--log-dir", &s.log_dir},     {"the working folder", &s.workdir},
          {"--memory", &s.memory}, {"--partition", &s.partition}, {"--time", &s.time_limit}};
      for (const auto& [what, value] : directives) {
        if (!IsSafeDirectiveValue(*value)) {
          problem(fmt::format("{} '{}': a #SBATCH value may not hold a line break, control character or '\"'",
                              what, EscapeForMessage(*value)));
        }
      }
      for (const auto& extra : s.sbatch_args) {
        if (!IsSafeDirectiveValue(extra)) {
          problem(fmt::format("--sbatch-arg '{}': may not hold a line break, control character or '\"'",
                              EscapeForMessage(extra)));
        }
      }
      break;
    }
    case Engine::kAwsBatch:
      // AWS Batch: array jobs have 2 to 10,000 children; a single task is a
      // plain job (no arrayProperties).
      if (s.workers > 10000) {
        problem(fmt::format("AWS Batch array jobs have at most 10,000 tasks, not {}", s.workers));
      }
      if (!IsAwsName(s.name)) {
        problem(
            fmt::format("AWS Batch job name '{}': up to 128 letters, digits, '-' and '_', starting with a "
                        "letter or digit",
                        EscapeForMessage(s.name)));
      }
      if (s.job_queue.empty()) problem("aws-batch needs --job-queue");
      if (s.job_definition.empty()) problem("aws-batch needs --job-definition");
      if (s.attempts < 1 || s.attempts > 10) {
        problem(fmt::format("--attempts {} must be between 1 and 10", s.attempts));
      }
      if (s.timeout_seconds != 0 && s.timeout_seconds < 60) {
        problem(fmt::format("--timeout {} s: AWS Batch timeouts are at least 60 s", s.timeout_seconds));
      }
      if (!s.aws_memory.empty() && !MebibytesFrom(s.aws_memory)) {
        problem(fmt::format("--memory '{}': want a size such as 7G, 7Gi or 7168M",
                            EscapeForMessage(s.aws_memory)));
      }
      break;
    case Engine::kKubernetes:
      if (!IsDnsLabel(s.name)) {
        problem(fmt::format(
            "Kubernetes job name '{}': at most 63 lower-case letters, digits and '-', not starting or "
            "ending with '-'",
            EscapeForMessage(s.name)));
      }
      if (s.image.empty()) problem("kubernetes needs --image");
      if (s.workers > 100000) {
        problem(fmt::format("Indexed Jobs have at most 100,000 completions, not {}", s.workers));
      }
      if (s.parallelism < 0 || s.parallelism > s.workers) {
        problem(fmt::format("--parallelism {} must be between 1 and --workers", s.parallelism));
      }
      if (s.backoff_limit_per_index < 0) problem("--backoff-limit-per-index must not be negative");
      if (s.grace_period_seconds < 0) problem("--grace-period must not be negative");
      break;
  }
  if (problems.empty()) return Status::Ok();
  if (problems.size() == 1) return InvalidArgument(problems.front());
  std::string all = fmt::format("{} problems with this job:", problems.size());
  for (const auto& p : problems) all += "\n  - " + p;
  return InvalidArgument(all);
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
