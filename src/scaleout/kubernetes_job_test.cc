#include "scaleout/kubernetes_job.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

SubmitSpec Spec() {
  SubmitSpec s;
  s.engine = Engine::kKubernetes;
  s.name = "fb-run";
  s.workers = 8;
  s.image = "registry.example/forestbatch:0.1";
  s.worker_args = {"--model", "s3://b/m.joblib", "--input", "s3://b/in/", "--output", "s3://b/out/"};
  return s;
}

nlohmann::json Emit(const SubmitSpec& s) { return nlohmann::json::parse(KubernetesIndexedJob(s).dump()); }

TEST(KubernetesJobTest, IndexedJobShape) {
  auto j = Emit(Spec());
  EXPECT_EQ(j["apiVersion"], "batch/v1");
  EXPECT_EQ(j["kind"], "Job");
  EXPECT_EQ(j["metadata"]["name"], "fb-run");
  EXPECT_FALSE(j["metadata"].contains("namespace"));
  auto spec = j["spec"];
  EXPECT_EQ(spec["completionMode"], "Indexed");
  EXPECT_EQ(spec["completions"], 8);
  EXPECT_EQ(spec["parallelism"], 8);
  EXPECT_EQ(spec["backoffLimitPerIndex"], 3);
  // backoffLimitPerIndex and podFailurePolicy both need restartPolicy Never.
  auto pod = spec["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["terminationGracePeriodSeconds"], 60);
  ASSERT_EQ(pod["containers"].size(), 1u);
  auto c = pod["containers"][0];
  EXPECT_EQ(c["name"], "worker");
  EXPECT_EQ(c["image"], "registry.example/forestbatch:0.1");
  EXPECT_EQ(c["args"][0], "--model");
  EXPECT_FALSE(c.contains("command"));  // keep the image's entrypoint, forestbatch worker
  EXPECT_EQ(c["env"][0], (nlohmann::json{{"name", "FORESTBATCH_TASK_COUNT"}, {"value", "8"}}));
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "2");
  EXPECT_EQ(c["resources"]["limits"]["memory"], "7Gi");
  // Pod template labels select nothing by themselves, but must be strings.
  for (auto& [k, v] : spec["template"]["metadata"]["labels"].items()) EXPECT_TRUE(v.is_string()) << k;
}

TEST(KubernetesJobTest, DynamicTasksShareTheJobUidAsRunId) {
  SubmitSpec s = Spec();
  ASSERT_TRUE(ApplySchedule(s, "dynamic", 30).ok());
  auto c = Emit(s)["spec"]["template"]["spec"]["containers"][0];
  const auto& args = c["args"];
  std::vector<std::string> tail(args.end() - 4, args.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"--schedule", "dynamic", "--lease", "30"}));
  bool run_id = false;
  for (const auto& e : c["env"]) {
    if (e["name"] == "FORESTBATCH_RUN_ID") {
      run_id = true;
      EXPECT_EQ(e["valueFrom"]["fieldRef"]["fieldPath"],
                "metadata.labels['batch.kubernetes.io/controller-uid']");
    }
  }
  EXPECT_TRUE(run_id);
  // Static jobs are unchanged.
  // The emitted document is kept in a variable: a range-for over a member of
  // a temporary would read freed memory (ASan caught it).
  const nlohmann::json static_job = Emit(Spec());
  for (const auto& e : static_job["spec"]["template"]["spec"]["containers"][0]["env"])
    EXPECT_NE(e["name"], "FORESTBATCH_RUN_ID");
}

TEST(KubernetesJobTest, PodFailurePolicy) {
  auto rules = Emit(Spec())["spec"]["podFailurePolicy"]["rules"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]["action"], "Ignore");
  EXPECT_EQ(rules[0]["onPodConditions"], nlohmann::json::parse(R"([{"type": "DisruptionTarget"}])"));
  EXPECT_EQ(rules[1]["action"], "FailIndex");
  EXPECT_EQ(rules[1]["onExitCodes"]["containerName"], "worker");
  EXPECT_EQ(rules[1]["onExitCodes"]["operator"], "In");
  EXPECT_EQ(rules[1]["onExitCodes"]["values"], nlohmann::json::parse("[2, 3, 4, 5, 7]"));
}

TEST(KubernetesJobTest, ParallelismNamespaceServiceAccount) {
  auto s = Spec();
  s.parallelism = 3;
  s.k8s_namespace = "batch";
  s.service_account = "forestbatch-s3";
  s.backoff_limit_per_index = 1;
  auto j = Emit(s);
  EXPECT_EQ(j["spec"]["parallelism"], 3);
  EXPECT_EQ(j["spec"]["completions"], 8);
  EXPECT_EQ(j["spec"]["backoffLimitPerIndex"], 1);
  EXPECT_EQ(j["metadata"]["namespace"], "batch");
  EXPECT_EQ(j["spec"]["template"]["spec"]["serviceAccountName"], "forestbatch-s3");
  EXPECT_EQ(KubectlApplyCommand(s), (std::vector<std::string>{"kubectl", "apply", "-f", "-", "-n", "batch"}));
}

}  // namespace
}  // namespace fb
