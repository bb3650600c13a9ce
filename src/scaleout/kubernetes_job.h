// The Kubernetes Indexed Job of `forestbatch submit --engine kubernetes`:
// completionMode Indexed, completions = workers, parallelism = workers (or
// --parallelism), a retry budget per index (backoffLimitPerIndex, which needs
// restartPolicy Never), and a pod failure policy that does not count
// disruptions (node drain, preemption, Spot reclaim: condition
// DisruptionTarget) and fails an index at once on the worker's permanent
// errors (kPermanentExitCodes: 2, 3, 4, 5, 7, as the local supervisor).
// Kubernetes does not tell a pod the completion count, so
// FORESTBATCH_TASK_COUNT carries it.
//
// The container's `args` are the worker's options: the image's entrypoint is
// `forestbatch worker`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scaleout/submit_spec.h"

namespace fb {

// Precondition: ValidateSubmitSpec(spec) is OK and spec.engine is kKubernetes.
nlohmann::json KubernetesIndexedJob(const SubmitSpec& spec);

// kubectl apply -f - (with -n NAMESPACE when given); the manifest goes on stdin.
std::vector<std::string> KubectlApplyCommand(const SubmitSpec& spec);

}  // namespace fb
