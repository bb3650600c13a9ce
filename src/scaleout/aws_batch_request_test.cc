#include "scaleout/aws_batch_request.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

SubmitSpec Spec() {
  SubmitSpec s;
  s.engine = Engine::kAwsBatch;
  s.name = "test-10-workers";
  s.workers = 10;
  s.job_queue = "forestbatch-queue";
  s.job_definition = "forestbatch-worker";
  s.worker_args = {"--model",  "s3://b/model.joblib", "--input", "s3://b/input/",
                   "--output", "s3://b/output/"};
  s.timeout_seconds = 3600;
  s.env = {{"AWS_REGION", "eu-west-1"}};
  return s;
}

// Round-trips through text, as `aws --cli-input-json` reads it.
nlohmann::json Emit(const SubmitSpec& s) {
  return nlohmann::json::parse(AwsBatchSubmitJobRequest(s).dump(2));
}

TEST(AwsBatchRequestTest, DocumentedShape) {
  auto j = Emit(Spec());
  // Exactly the SubmitJob members this request uses (the API's names).
  std::set<std::string> keys;
  for (auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"jobName", "jobQueue", "jobDefinition", "arrayProperties",
                                         "containerOverrides", "retryStrategy", "timeout"}));
  EXPECT_EQ(j["jobName"], "test-10-workers");
  EXPECT_EQ(j["jobQueue"], "forestbatch-queue");
  EXPECT_EQ(j["jobDefinition"], "forestbatch-worker");
  EXPECT_EQ(j["arrayProperties"]["size"], 10);
  EXPECT_TRUE(j["arrayProperties"]["size"].is_number_integer());
  EXPECT_EQ(j["containerOverrides"]["command"],
            nlohmann::json::array({"--model", "s3://b/model.joblib", "--input", "s3://b/input/", "--output",
                                   "s3://b/output/"}));
  auto env = j["containerOverrides"]["environment"];
  ASSERT_TRUE(env.is_array());
  EXPECT_EQ(env[0], (nlohmann::json{{"name", "NUMBER_OF_WORKERS"}, {"value", "10"}}));
  EXPECT_EQ(env[1], (nlohmann::json{{"name", "AWS_REGION"}, {"value", "eu-west-1"}}));
  for (const auto& e : env) EXPECT_TRUE(e["value"].is_string());  // KeyValuePair values are strings
  EXPECT_EQ(j["timeout"]["attemptDurationSeconds"], 3600);
}

TEST(AwsBatchRequestTest, RetriesSpotReclaimsOnly) {
  auto j = Emit(Spec());
  auto rs = j["retryStrategy"];
  EXPECT_EQ(rs["attempts"], 3);
  ASSERT_EQ(rs["evaluateOnExit"].size(), 3u);
  // First match wins: the Spot rule must come first.
  EXPECT_EQ(rs["evaluateOnExit"][0], (nlohmann::json{{"onStatusReason", "Host EC2*"}, {"action", "RETRY"}}));
  // Exit 75: the worker stopped early (Spot notice, SIGTERM) and is safe to retry.
  EXPECT_EQ(rs["evaluateOnExit"][1], (nlohmann::json{{"onExitCode", "75"}, {"action", "RETRY"}}));
  EXPECT_EQ(rs["evaluateOnExit"][2], (nlohmann::json{{"onReason", "*"}, {"action", "EXIT"}}));
}

TEST(AwsBatchRequestTest, OneWorkerIsAPlainJobAndNoTimeoutByDefault) {
  auto s = Spec();
  s.workers = 1;
  s.timeout_seconds = 0;
  s.worker_args.clear();
  auto j = Emit(s);
  EXPECT_FALSE(j.contains("arrayProperties"));
  EXPECT_FALSE(j.contains("timeout"));
  EXPECT_FALSE(j["containerOverrides"].contains("command"));  // the job definition's command stays
}

// --cpus and --memory reach the container as resourceRequirements (VCPU as
// given, MEMORY in MiB); without them the job definition's stay.
TEST(AwsBatchRequestTest, ResourceRequirementsFromCpusAndMemory) {
  auto s = Spec();
  EXPECT_FALSE(Emit(s)["containerOverrides"].contains("resourceRequirements"));
  s.aws_vcpus = "4";
  s.aws_memory = "7G";
  auto r = Emit(s)["containerOverrides"]["resourceRequirements"];
  EXPECT_EQ(
      r,
      (nlohmann::json::array({{{"type", "VCPU"}, {"value", "4"}}, {{"type", "MEMORY"}, {"value", "7168"}}})));
  s.aws_vcpus.clear();
  s.aws_memory = "512Mi";
  EXPECT_EQ(Emit(s)["containerOverrides"]["resourceRequirements"],
            (nlohmann::json::array({{{"type", "MEMORY"}, {"value", "512"}}})));
}

TEST(AwsBatchRequestTest, CommandLine) {
  EXPECT_EQ(AwsSubmitJobCommand("/s/r.json"),
            (std::vector<std::string>{"aws", "batch", "submit-job", "--output", "json", "--cli-input-json",
                                      "file:///s/r.json"}));
}

TEST(AwsBatchRequestTest, ParsesSubmitJobAnswer) {
  auto id = ParseAwsSubmitJobOutput(
      R"({"jobArn": "arn:aws:batch:us-east-1:123456789012:job/876da822-4198-45f2-a252-6cea32512ea8",
          "jobName": "example", "jobId": "876da822-4198-45f2-a252-6cea32512ea8"})");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "876da822-4198-45f2-a252-6cea32512ea8");
  EXPECT_FALSE(ParseAwsSubmitJobOutput("not json").ok());
  EXPECT_FALSE(ParseAwsSubmitJobOutput("{}").ok());
}

}  // namespace
}  // namespace fb
