// The AWS Batch SubmitJob request of `forestbatch submit --engine aws-batch`,
// shaped as the Batch API documents it (and as `aws batch submit-job
// --cli-input-json` reads it): an array job of `workers` children whose
// container command is the worker's options (the image's entrypoint is
// `forestbatch worker`), the seed's NUMBER_OF_WORKERS in the environment, a
// retry strategy that retries Spot reclaims ("Host EC2*") and exits on every
// other failure, and an optional per-attempt timeout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scaleout/submit_spec.h"

namespace fb {

// Precondition: ValidateSubmitSpec(spec) is OK and spec.engine is kAwsBatch.
nlohmann::json AwsBatchSubmitJobRequest(const SubmitSpec& spec);

std::vector<std::string> AwsSubmitJobCommand(const std::string& request_path);

// Reads the job id from submit-job's JSON answer ({"jobArn", "jobName", "jobId"}).
Result<std::string> ParseAwsSubmitJobOutput(const std::string& stdout_text);

}  // namespace fb
