// `forestbatch jobs`, `status JOB`, `logs JOB`, `cancel JOB`: the job records.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <memory>

#include "cli/command.h"
#include "cli/run_options.h"
#include "common/atomic_file.h"
#include "common/text_escape.h"
#include "runner/job_db.h"
#include "runner/lease.h"
#include "runner/local_job.h"

namespace fb::cli {

int ShowSubmittedStatus(const std::string& state_dir, const std::string& name, bool json);  // cmd_submit.cc

namespace {

Result<std::unique_ptr<JobDb>> OpenExisting(const std::string& state) {
  if (::access((state + "/jobs.db").c_str(), F_OK) != 0) return NotFound("no job records in " + state);
  return JobDb::Open(state);
}

int Jobs(const std::string& state) {
  auto db = OpenExisting(state);
  if (!db.ok()) return ReportError(db.status());
  auto jobs = (*db)->ListJobs();
  if (!jobs.ok()) return ReportError(jobs.status());
  fmt::print("{:<40} {:<12} {:>7} {:>7} {:>7} {:>9}  {}\n", "JOB", "STATE", "FILES", "DONE", "FAILED",
             "SECONDS", "CREATED");
  for (const auto& j : *jobs) {
    auto c = (*db)->Counts(j.id);
    if (!c.ok()) return ReportError(c.status());
    fmt::print("{:<40} {:<12} {:>7} {:>7} {:>7} {:>9.1f}  {}\n", j.id, EffectiveJobState(j, state),
               j.files_total, c->done + c->skipped, c->failed, j.seconds, j.created_at);
  }
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
  if (json) {
    auto j = JobStatusJson(**db, id, state, *price);
    if (!j.ok()) return ReportError(j.status());
    fmt::print("{}", *j);
    return kExitOk;
  }
  auto job = (*db)->GetJob(id);
  if (!job.ok()) return ReportError(job.status());
  if (!*job) return ReportError(NotFound("no job '" + id + "' in " + state));
  auto c = (*db)->Counts(id);
  auto tasks = (*db)->Tasks(id);
  auto files = (*db)->Files(id);
  if (!c.ok() || !tasks.ok() || !files.ok()) return ReportError(IoError("cannot read the job records"));
  const auto& j = **job;
  const std::string st = EffectiveJobState(j, state);
  fmt::print("job {} ({}): {}, exit code {}, {:.1f} s, created {}\n", j.id,
             j.name.empty() ? "-" : EscapeForMessage(j.name), st, j.exit_code, j.seconds, j.created_at);
  if (st == "dead")
    fmt::print("its supervisor is gone; continue it with: forestbatch resume {} --state {}\n", j.id, state);
  fmt::print("files: {} total, {} done, {} already done, {} failed, {} pending, {} running; {} rows\n",
             j.files_total, c->done, c->skipped, c->failed, c->pending, c->running, c->rows);
  auto cost = JobCostOf(**db, id, *price);
  auto attempts = (*db)->Attempts(id);
  if (!cost.ok() || !attempts.ok()) return ReportError(IoError("cannot read the job records"));
  fmt::print("cpu: {}\n", CostLine(*cost));
  fmt::print("{:>5} {:<12} {:>8} {:>5} {:>6} {:>8}  {}\n", "TASK", "STATE", "ATTEMPTS", "EXIT", "SIGNAL",
             "CPU S", "LOG");
  for (const auto& t : *tasks) {
    double cpu = 0;
    for (const auto& a : *attempts) {
      if (a.index == t.index) cpu += a.user_seconds + a.sys_seconds;
    }
    fmt::print("{:>5} {:<12} {:>8} {:>5} {:>6} {:>8.1f}  {}\n", t.index, t.state, t.attempts, t.exit_code,
               t.signal, cpu, t.log);
  }
  for (const auto& f : *files) {
    if (f.state == "failed")
      fmt::print("failed: {} (task {}, {} attempts): {}\n", EscapeForMessage(f.relative), f.task, f.attempts,
                 EscapeForMessage(f.error));
  }
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
  if (j.state != "running" && j.state != "cancelling") {
    fmt::print("job {} is not running ({})\n", id, j.state);
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
  Status s =
      (*db)->UpdateJob(id, alive ? "cancelling" : "cancelled", alive ? -1 : kExitInterrupted, j.seconds);
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
            sub->add_option("--state", *state, "job records folder (default ./.forestbatch)");
            return std::function<int()>([state] { return Jobs(*state); });
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
            sub->add_option("--index", *index, "only this task");
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
