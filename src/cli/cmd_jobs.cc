// `forestbatch jobs`, `status JOB`, `logs JOB`, `cancel JOB`: the job records.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "cli/command.h"
#include "cli/run_options.h"
#include "common/atomic_file.h"
#include "runner/job_db.h"
#include "runner/job_report.h"
#include "runner/lease.h"
#include "runner/local_job.h"

namespace fb::cli {

int ShowSubmittedStatus(const std::string& state_dir, const std::string& name, bool json);  // cmd_submit.cc

namespace {

Result<std::unique_ptr<JobDb>> OpenExisting(const std::string& state) {
  if (::access((state + "/jobs.db").c_str(), F_OK) != 0) return NotFound("no job records in " + state);
  return JobDb::Open(state);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int Jobs(const std::string& state, bool json) {
  auto db = OpenExisting(state);
  if (!db.ok()) return ReportError(db.status());
  auto text = json ? JobListJson(**db, state, Now()) : JobListText(**db, state, Now());
  if (!text.ok()) return ReportError(text.status());
  fmt::print("{}", *text);
  return kExitOk;
}

int Status_(const std::string& state, const std::string& id, bool json, const std::string& price_text) {
  auto price = PriceFrom(price_text);
  if (!price.ok()) return ReportError(price.status());
  // A job handed to Slurm, AWS Batch or Kubernetes by `forestbatch submit`.
  if (::access((state + "/submits/" + id + ".json").c_str(), F_OK) == 0)
    return ShowSubmittedStatus(state, id, json);
  auto db = OpenExisting(state);
  if (!db.ok()) return ReportError(db.status());
  auto text = json ? JobStatusJson(**db, id, state, *price) : JobStatusText(**db, id, state, *price, Now());
  if (!text.ok()) return ReportError(text.status());
  fmt::print("{}", *text);
  return kExitOk;
}

int Logs(const std::string& state, const std::string& id, int64_t index) {
  auto db = OpenExisting(state);
  if (!db.ok()) return ReportError(db.status());
  auto tasks = (*db)->Tasks(id);
  if (!tasks.ok()) return ReportError(tasks.status());
  if (tasks->empty()) return ReportError(NotFound("no tasks recorded for job '" + id + "'"));
  bool found = false;
  for (const auto& t : *tasks) {
    if (index >= 0 && t.index != index) continue;
    found = true;
    auto text = ReadFile(TaskLogPath(state, id, t.index));
    if (index < 0) fmt::print("==> task {} <==\n", t.index);
    if (text.ok()) fmt::print("{}", *text);
  }
  if (!found) return ReportError(NotFound(fmt::format("job '{}' has no task {}", id, index)));
  return kExitOk;
}

int Cancel(const std::string& state, const std::string& id) {
  auto db = OpenExisting(state);
  if (!db.ok()) return ReportError(db.status());
  auto job = (*db)->GetJob(id);
  if (!job.ok()) return ReportError(job.status());
  if (!*job) return ReportError(NotFound("no job '" + id + "' in " + state));
  const auto& j = **job;
  if (!IsLive(j.state)) {
    fmt::print("job {} is not running ({})\n", id, StateName(j.state));
    return kExitOk;
  }
  // The supervisor is whoever holds the job's lease, checked by PID and
  // start time, so a reused PID is never signalled.
  auto lease = Lease::Read(JobLeasePath(state, id));
  if (!lease.ok()) return ReportError(lease.status());
  const bool alive = *lease && Lease::HolderLiveness(**lease) != Liveness::kDead;
  if (*lease && CheckLiveness((*lease)->owner) == Liveness::kUnknown) {
    return ReportError(Unsupported("job " + id + " runs on another machine (" + (*lease)->owner.Describe() +
                                   "): cancel it there"));
  }
  // The supervisor polls for "cancelling"; SIGTERM makes it act at once.
  Status s = (*db)->UpdateJob(id, alive ? JobState::kCancelling : JobState::kCancelled,
                              alive ? -1 : kExitInterrupted, j.seconds);
  if (!s.ok()) return ReportError(s);
  if (alive) (void)SignalProcess((*lease)->owner, SIGTERM);
  fmt::print("job {}: {}\n", id,
             alive ? "cancelling (workers finish or abandon their current file)" : "cancelled");
  return kExitOk;
}

}  // namespace

CommandSpec JobsCommand() {
  return {"jobs", "list the jobs recorded in the state folder", [](CLI::App* sub) {
            auto state = std::make_shared<std::string>(".forestbatch");
            auto json = std::make_shared<bool>(false);
            sub->add_option("--state", *state, "job records folder (default ./.forestbatch)");
            sub->add_flag("--json", *json, "stable JSON for scripts (docs/run.md)");
            return std::function<int()>([state, json] { return Jobs(*state, *json); });
          }};
}

CommandSpec StatusCommand() {
  return {"status", "a job's tasks, files and failures (--json for orchestrators)", [](CLI::App* sub) {
            auto state = std::make_shared<std::string>(".forestbatch");
            auto job = std::make_shared<std::string>();
            auto json = std::make_shared<bool>(false);
            auto price = std::make_shared<std::string>();
            sub->add_option("job", *job, "job id")->required();
            sub->add_option("--state", *state, "job records folder (default ./.forestbatch)");
            sub->add_flag("--json", *json, "stable JSON (docs/run.md)");
            AddPriceFlag(sub, price.get());
            return std::function<int()>([=] { return Status_(*state, *job, *json, *price); });
          }};
}

CommandSpec LogsCommand() {
  return {"logs", "print a job's task logs", [](CLI::App* sub) {
            auto state = std::make_shared<std::string>(".forestbatch");
            auto job = std::make_shared<std::string>();
            auto index = std::make_shared<int64_t>(-1);
            sub->add_option("job", *job, "job id")->required();
            sub->add_option("--index", *index, "only this task (default: every task)");
            sub->add_option("--state", *state, "job records folder (default ./.forestbatch)");
            return std::function<int()>([=] { return Logs(*state, *job, *index); });
          }};
}

CommandSpec CancelCommand() {
  return {"cancel", "stop a running job cleanly (resume it later)", [](CLI::App* sub) {
            auto state = std::make_shared<std::string>(".forestbatch");
            auto job = std::make_shared<std::string>();
            sub->add_option("job", *job, "job id")->required();
            sub->add_option("--state", *state, "job records folder (default ./.forestbatch)");
            return std::function<int()>([=] { return Cancel(*state, *job); });
          }};
}

}  // namespace fb::cli
