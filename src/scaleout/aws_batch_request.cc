#include "scaleout/aws_batch_request.h"

#include <fmt/format.h>

#include <string>

#include "common/exit_codes.h"

namespace fb {

nlohmann::json AwsBatchSubmitJobRequest(const SubmitSpec& spec) {
  using nlohmann::json;
  json req = json::object();
  req["jobName"] = spec.name;
  req["jobQueue"] = spec.job_queue;
  req["jobDefinition"] = spec.job_definition;
  // Batch arrays have 2..10,000 children; one worker is a plain job, whose
  // task then defaults to index 0 of 1.
  if (spec.workers >= 2) req["arrayProperties"] = {{"size", spec.workers}};

  json env = json::array();
  // The seed's variable, so forestbatch's image is a drop-in for the seed's
  // job definition (Batch also sets AWS_BATCH_JOB_ARRAY_SIZE).
  env.push_back({{"name", "NUMBER_OF_WORKERS"}, {"value", std::to_string(spec.workers)}});
  for (const auto& [k, v] : spec.env) env.push_back({{"name", k}, {"value", v}});
  json overrides = {{"environment", env}};
  if (!spec.worker_args.empty()) overrides["command"] = spec.worker_args;
  // --cpus / --memory override the job definition's, as resourceRequirements
  // (the documented form; the older vcpus/memory fields are deprecated).
  json resources = json::array();
  if (!spec.aws_vcpus.empty()) resources.push_back({{"type", "VCPU"}, {"value", spec.aws_vcpus}});
  if (auto mib = AwsMemoryMiB(spec.aws_memory); !spec.aws_memory.empty() && mib) {
    resources.push_back({{"type", "MEMORY"}, {"value", std::to_string(*mib)}});
  }
  if (!resources.empty()) overrides["resourceRequirements"] = resources;
  req["containerOverrides"] = overrides;

  // Rules are tried in order, the first match decides: a Spot reclaim's
  // status reason starts with "Host EC2"; kExitInterrupted (75) is a worker that
  // stopped early on a Spot interruption notice or SIGTERM (its finished
  // outputs stay, the retry does the rest); anything else is a real failure
  // that another attempt would repeat.
  req["retryStrategy"] = {
      {"attempts", spec.attempts},
      {"evaluateOnExit", json::array({{{"onStatusReason", "Host EC2*"}, {"action", "RETRY"}},
                                      {{"onExitCode", std::to_string(kExitInterrupted)}, {"action", "RETRY"}},
                                      {{"onReason", "*"}, {"action", "EXIT"}}})}};
  if (spec.timeout_seconds > 0) req["timeout"] = {{"attemptDurationSeconds", spec.timeout_seconds}};
  return req;
}

std::vector<std::string> AwsSubmitJobCommand(const std::string& request_path) {
  return {"aws", "batch", "submit-job", "--output", "json", "--cli-input-json", "file://" + request_path};
}

Result<std::string> ParseAwsSubmitJobOutput(const std::string& out) {
  auto j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("jobId") || !j["jobId"].is_string()) {
    return IoError(fmt::format("aws batch submit-job printed no jobId (output: '{}')", out.substr(0, 300)));
  }
  return j["jobId"].get<std::string>();
}

}  // namespace fb
