#include "scaleout/kubernetes_job.h"

#include "common/exit_codes.h"

namespace fb {

nlohmann::json KubernetesIndexedJob(const SubmitSpec& spec) {
  using nlohmann::json;
  const std::string container = "worker";
  json labels = {{"app.kubernetes.io/name", "forestbatch"}, {"forestbatch/job", spec.name}};

  json env = json::array();
  env.push_back({{"name", "FORESTBATCH_TASK_COUNT"}, {"value", std::to_string(spec.workers)}});
  if (spec.schedule == Schedule::kDynamic) {
    // One claims folder per Job object: its uid, which the Job controller
    // puts on every pod (Kubernetes 1.27+), unlike the name, which a
    // resubmission may reuse.
    env.push_back(
        {{"name", "FORESTBATCH_RUN_ID"},
         {"valueFrom",
          {{"fieldRef", {{"fieldPath", "metadata.labels['batch.kubernetes.io/controller-uid']"}}}}}});
  }
  for (const auto& [k, v] : spec.env) env.push_back({{"name", k}, {"value", v}});
  json resources = {{"cpu", spec.cpu}, {"memory", spec.k8s_memory}};
  json c = {{"name", container},
            {"image", spec.image},
            {"env", env},
            {"resources", {{"requests", resources}, {"limits", resources}}}};
  if (!spec.worker_args.empty()) c["args"] = spec.worker_args;

  json pod_spec = {{"restartPolicy", "Never"},
                   {"terminationGracePeriodSeconds", spec.grace_period_seconds},
                   {"containers", json::array({c})}};
  if (!spec.service_account.empty()) pod_spec["serviceAccountName"] = spec.service_account;

  json metadata = {{"name", spec.name}, {"labels", labels}};
  if (!spec.k8s_namespace.empty()) metadata["namespace"] = spec.k8s_namespace;

  json rules = json::array();
  rules.push_back({{"action", "Ignore"}, {"onPodConditions", json::array({{{"type", "DisruptionTarget"}}})}});
  // A bad command line, model or input, an unsupported option, a missing
  // model or input, or a refusal to overwrite fails the same way on every
  // attempt: the codes the local supervisor never restarts either
  // (common/exit_codes.h).
  json permanent = json::array();
  for (int code : kPermanentExitCodes) permanent.push_back(code);
  rules.push_back(
      {{"action", "FailIndex"},
       {"onExitCodes", {{"containerName", container}, {"operator", "In"}, {"values", permanent}}}});

  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", metadata},
          {"spec",
           {{"completionMode", "Indexed"},
            {"completions", spec.workers},
            {"parallelism", spec.parallelism > 0 ? spec.parallelism : spec.workers},
            {"backoffLimitPerIndex", spec.backoff_limit_per_index},
            {"podFailurePolicy", {{"rules", rules}}},
            {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}}}};
}

std::vector<std::string> KubectlApplyCommand(const SubmitSpec& spec) {
  std::vector<std::string> cmd = {"kubectl", "apply", "-f", "-"};
  if (!spec.k8s_namespace.empty()) {
    cmd.push_back("-n");
    cmd.push_back(spec.k8s_namespace);
  }
  return cmd;
}

}  // namespace fb
