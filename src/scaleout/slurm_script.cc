#include "scaleout/slurm_script.h"

#include <fmt/format.h>

#include <cctype>

#include "common/shell_quote.h"

namespace fb {
namespace {

// #SBATCH values are read by sbatch, not by a shell: quote only what has
// blanks, with double quotes (which sbatch strips).
std::string DirectiveValue(const std::string& v) {
  if (v.find_first_of(" \t") == std::string::npos) return v;
  return "\"" + v + "\"";
}

}  // namespace

std::string SlurmArraySpec(const SubmitSpec& spec) {
  std::string a = fmt::format("0-{}", spec.workers - 1);
  if (spec.max_parallel > 0) a += fmt::format("%{}", spec.max_parallel);
  return a;
}

std::string SlurmBatchScript(const SubmitSpec& spec) {
  std::string s = "#!/bin/bash\n";
  s += "# Written by `forestbatch submit --engine slurm`: each array task runs one\n";
  if (spec.schedule == Schedule::kDynamic) {
    s += "# `forestbatch worker --schedule dynamic`: every task claims the next free file; the\n";
    s += "# claims live in OUTPUT/.forestbatch-claims/$SLURM_ARRAY_JOB_ID (one folder per array job).\n";
  } else {
    s += "# `forestbatch worker`, which takes its shard from SLURM_ARRAY_TASK_ID/MIN/STEP/COUNT.\n";
  }
  auto directive = [&s](const std::string& opt) { s += "#SBATCH " + opt + "\n"; };
  directive("--job-name=" + DirectiveValue(spec.name));
  directive("--array=" + SlurmArraySpec(spec));
  directive("--ntasks=1");
  directive(fmt::format("--cpus-per-task={}", spec.cpus_per_task));
  std::string log_dir = spec.log_dir.empty() ? std::string(".") : spec.log_dir;
  directive("--output=" + DirectiveValue(log_dir + "/%x_%A_%a.log"));
  if (!spec.workdir.empty()) directive("--chdir=" + DirectiveValue(spec.workdir));
  if (!spec.memory.empty()) directive("--mem=" + spec.memory);
  if (!spec.partition.empty()) directive("--partition=" + spec.partition);
  if (!spec.time_limit.empty()) directive("--time=" + spec.time_limit);
  // A task that is cancelled, or whose node fails, may be requeued: the
  // worker skips outputs that are already complete, so a rerun is safe.
  directive("--requeue");
  for (const auto& extra : spec.sbatch_args) directive(extra);
  s += "set -eu\n";
  for (const auto& [k, v] : spec.env) s += "export " + k + "=" + ShellQuote(v) + "\n";
  s += "exec " + ShellQuote(spec.forestbatch_path) + " worker";
  for (const auto& a : spec.worker_args) s += " " + ShellQuote(a);
  s += "\n";
  return s;
}

std::vector<std::string> SbatchCommand(const std::string& script_path) {
  return {"sbatch", "--parsable", script_path};
}

Result<std::string> ParseSbatchOutput(const std::string& out) {
  std::string first = out.substr(0, out.find('\n'));
  std::string id = first.substr(0, first.find(';'));
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
  bool digits = !id.empty();
  for (char c : id) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits) return IoError(fmt::format("sbatch printed no job id (output: '{}')", first));
  return id;
}

}  // namespace fb
