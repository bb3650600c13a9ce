// The sbatch script `forestbatch submit --engine slurm` writes: one Slurm job
// array whose every task execs `forestbatch worker` with the user's options.
// The tasks find their index from SLURM_ARRAY_TASK_ID/MIN/STEP/COUNT
// (runner/array_task.h), so the script passes no --index.
#pragma once

#include <string>
#include <vector>

#include "scaleout/submit_spec.h"

namespace fb {

// Precondition: ValidateSubmitSpec(spec) is OK and spec.engine is kSlurm.
std::string SlurmBatchScript(const SubmitSpec& spec);

// "0-(N-1)" plus "%max" when spec.max_parallel > 0.
std::string SlurmArraySpec(const SubmitSpec& spec);

// The command line that submits `script_path`: sbatch --parsable SCRIPT.
std::vector<std::string> SbatchCommand(const std::string& script_path);

// `sbatch --parsable` prints "JOBID" or "JOBID;CLUSTER". Returns the job id or
// an error quoting what was printed.
Result<std::string> ParseSbatchOutput(const std::string& stdout_text);

}  // namespace fb
