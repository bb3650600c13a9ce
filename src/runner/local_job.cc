#include "runner/local_job.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/cpu_limits.h"
#include "common/random.h"
#include "common/sha256.h"
#include "runner/job_report.h"
#include "runner/lease.h"
#include "runner/manifest.h"

namespace fb {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
// How often a running job renews its leases (they go stale after 120 s).
constexpr auto kHeartbeat = std::chrono::seconds(10);

std::string JobSpec::ToJson() const {
  json j = {{"name", name},
            {"model", model},
            {"input", input},
            {"output", output},
            {"workers", workers},
            {"threads", threads},
            {"shard_by", ShardByName(shard_by)},
            {"schedule", ScheduleName(schedule)},
            {"lease_seconds", lease_seconds},
            {"retries", retries},
            {"backoff_seconds", backoff_seconds},
            {"grace_seconds", grace_seconds},
            {"overwrite", overwrite},
            {"verify", verify},
            {"exec", exec},
            {"shell", shell},
            {"task_retries", task_retries},
            {"worker_args", worker_args},
            {"include", include},
            {"exclude", exclude},
            {"workdir", workdir}};
  return j.dump();
}

Result<JobSpec> JobSpec::FromJson(const std::string& text) {
  try {
    json j = json::parse(text);
    JobSpec s;
    s.name = j.at("name");
    s.model = j.at("model");
    s.input = j.at("input");
    s.output = j.at("output");
    s.workers = j.at("workers");
    s.threads = j.at("threads");
    FB_ASSIGN_OR_RETURN(s.shard_by, ParseShardBy(j.at("shard_by").get<std::string>()));
    // Records written before dynamic scheduling existed are static.
    FB_ASSIGN_OR_RETURN(s.schedule, ParseSchedule(j.value("schedule", std::string("static"))));
    s.lease_seconds = j.value("lease_seconds", 60.0);
    s.retries = j.at("retries");
    s.backoff_seconds = j.at("backoff_seconds");
    s.grace_seconds = j.at("grace_seconds");
    s.overwrite = j.at("overwrite");
    s.verify = j.at("verify");
    s.exec = j.at("exec");
    s.shell = j.at("shell");
    s.task_retries = j.at("task_retries");
    s.worker_args = j.at("worker_args").get<std::vector<std::string>>();
    if (j.contains("include")) s.include = j.at("include").get<std::vector<std::string>>();
    if (j.contains("exclude")) s.exclude = j.at("exclude").get<std::vector<std::string>>();
    s.workdir = j.value("workdir", std::string());
    return s;
  } catch (const std::exception& e) {
    return InvalidData(std::string("bad job spec in the job database: ") + e.what());
  }
}

JobSpec JobSpec::Anchored() const {
  JobSpec s = *this;
  auto anchor = [](std::string& p) {
    if (p.empty() || IsS3Uri(p)) return;
    std::error_code ec;
    auto a = std::filesystem::absolute(p, ec);
    if (!ec) p = a.lexically_normal().string();
  };
  anchor(s.model);
  anchor(s.input);
  anchor(s.output);
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (!ec) s.workdir = cwd.string();
  return s;
}

int JobSpec::ResolvedWorkers() const {
  if (workers > 0) return workers;
  return AvailableCpus();
}

int JobSpec::ResolvedThreads() const {
  if (threads > 0) return threads;
  return std::max(1, AvailableCpus() / ResolvedWorkers());
}

std::string JobLogDir(const std::string& state_dir, const std::string& job) {
  return state_dir + "/logs/" + job;
}
std::string TaskLogPath(const std::string& state_dir, const std::string& job, int64_t index) {
  return fmt::format("{}/task-{}.log", JobLogDir(state_dir, job), index);
}
std::string JobLeasePath(const std::string& state_dir, const std::string& job) {
  return state_dir + "/leases/job-" + job + ".lease";
}
std::string OutputLeasePath(const std::string& state_dir, const std::string& output) {
  if (!IsS3Uri(output)) return ResolvedLocation(output) + "/.forestbatch.lease";
  return state_dir + "/leases/output-" + Sha256Hex(ResolvedLocation(output)).substr(0, 32) + ".lease";
}

JobState EffectiveJobState(const JobRecord& job, const std::string& state_dir) {
  if (!IsLive(job.state)) return job.state;
  auto lease = Lease::Read(JobLeasePath(state_dir, job.id));
  if (!lease.ok()) return job.state;  // cannot tell
  if (!*lease || Lease::HolderLiveness(**lease) == Liveness::kDead) return JobState::kDead;
  return job.state;
}

std::string CatalogPath(const std::string& state_dir, const std::string& job) {
  return state_dir + "/catalog/" + job + ".jsonl";
}
std::string ClaimsDirFor(const std::string& state_dir, const std::string& job, const std::string& run) {
  return state_dir + "/claims/" + job + "/" + run;
}

std::string NewJobId(const std::string& name) {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string base = name.empty() ? "job" : name;
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return fmt::format("{}-{}-{:04x}", base, stamp, RandomBits() & 0xffff);
}

namespace {

std::string Hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string Duration(double s) {
  const int64_t m = static_cast<int64_t>(s / 60);
  return fmt::format("{}m {:.1f}s", m, s - 60.0 * static_cast<double>(m));
}

struct Task {
  int64_t index = 0;
  ProcessId pid = 0;  // while its worker runs
  int attempts = 0;
  bool finished = false;
  TaskRecord record;
  std::optional<Clock::time_point> restart_at;
};

class Progress {
 public:
  Progress(const RunOptions& o, int64_t total) : o_(o), total_(total), start_(Clock::now()) {}
  void Update(const FileCounts& c, const FileCounts& before, bool final) {
    if (o_.progress == nullptr) return;
    const double el = std::chrono::duration<double>(Clock::now() - start_).count();
    if (c.done != last_done_) {
      last_done_ = c.done;
      last_completion_ = el;
    }
    const ProgressFigures p = ComputeProgress({c, before, total_, el, last_completion_});
    const int64_t finished = p.finished;
    const double rate = p.rows_per_second;
    const std::string eta = p.eta_seconds ? Duration(*p.eta_seconds) : "-";
    if (o_.progress_bar) {
      constexpr int kWidth = 30;
      int filled = total_ > 0 ? static_cast<int>(kWidth * finished / total_) : kWidth;
      fmt::print(o_.progress, "\r[{}{}] {}/{} files  {:.0f} rows/s  ETA {}  failed {}\x1b[K",
                 std::string(filled, '#'), std::string(kWidth - filled, '.'), finished, total_, rate, eta,
                 c.failed);
      if (final) fmt::print(o_.progress, "\n");
      std::fflush(o_.progress);
      return;
    }
    if (!final && Clock::now() - last_ < std::chrono::duration<double>(o_.progress_interval)) return;
    last_ = Clock::now();
    fmt::print(o_.progress, "progress: {}/{} files ({} skipped, {} failed), {} rows, {:.0f} rows/s, ETA {}\n",
               finished, total_, c.skipped, c.failed, c.rows, rate, eta);
    std::fflush(o_.progress);
  }

 private:
  const RunOptions& o_;
  int64_t total_;
  Clock::time_point start_;
  Clock::time_point last_{};
  int64_t last_done_ = -1;
  double last_completion_ = 0;
};

// One line per output of the job. The job's vCPU-seconds are shared among the
// files it made in proportion to their time (from the manifests), so the
// lines of a catalogue add up to the job's total; files already done before
// the job began get none.
Status WriteCatalog(const std::vector<FileRecord>& files, const std::string& job, const std::string& path,
                    double vcpu_seconds, std::optional<double> price) {
  std::vector<std::pair<const FileRecord*, Manifest>> made;
  double made_seconds = 0;
  for (const auto& f : files) {
    if (f.state != FileState::kDone && f.state != FileState::kSkipped) continue;
    if (f.output.empty()) continue;
    FB_ASSIGN_OR_RETURN(auto storage, StorageFor(f.output));
    auto text = storage->ReadAll(ManifestPathFor(f.output));
    if (!text.ok()) continue;  // the output was removed since: not in the catalogue
    auto m = Manifest::Parse(*text, ManifestPathFor(f.output));
    if (!m.ok()) continue;
    if (f.state == FileState::kDone) made_seconds += m->total_seconds;
    made.emplace_back(&f, std::move(*m));
  }
  std::string out;
  for (const auto& [f, m] : made) {
    json line = {{"job", job},
                 {"input", f->relative},
                 {"path", f->output},
                 {"rows", m.rows},
                 {"class_counts", m.class_counts},
                 {"sha256", m.output_sha256},
                 {"bytes", m.output_bytes},
                 {"model_sha256", m.model_sha256},
                 {"finished_at", m.finished_at},
                 {"seconds",
                  {{"read", m.read_seconds},
                   {"predict", m.predict_seconds},
                   {"write", m.write_seconds},
                   {"total", m.total_seconds}}}};
    double share = 0;
    if (f->state == FileState::kDone && made_seconds > 0)
      share = vcpu_seconds * m.total_seconds / made_seconds;
    line["vcpu_seconds"] = share;
    if (price) line["cost"] = share / 3600.0 * *price;
    out += line.dump();
    out += '\n';
  }
  return LocalStorage()->WriteAll(path, out);
}

// The steps of RunLocalJob, in order.

// One owner per job and per output folder, for as long as the run holds them.
struct JobLeases {
  std::unique_ptr<Lease> job, output;
};

// Creates the lease folder and a local output folder, and takes both leases;
// AlreadyExists when another live supervisor runs the job.
Result<JobLeases> AcquireLeases(const std::string& state_dir, const JobSpec& spec, const std::string& job) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir + "/leases", ec);
  if (ec) return IoError("cannot create lease folder: " + ec.message()).At(state_dir + "/leases");
  if (!IsS3Uri(spec.output)) {
    std::filesystem::create_directories(spec.output, ec);
    if (ec) return IoError("cannot create output folder: " + ec.message()).At(spec.output);
  }
  JobLeases leases;
  auto job_lease = Lease::Acquire(JobLeasePath(state_dir, job), "job " + job);
  if (!job_lease.ok()) {
    if (job_lease.status().code() == StatusCode::kAlreadyExists)
      return AlreadyExists("job " + job + " is still running: " + job_lease.status().ToString());
    return job_lease.status();
  }
  leases.job = std::move(*job_lease);
  FB_ASSIGN_OR_RETURN(
      leases.output, Lease::Acquire(OutputLeasePath(state_dir, spec.output),
                                    "job " + job + " writing " + spec.output + " (state " + state_dir + ")"));
  return leases;
}

// A new job's record, with its estimate when one was made.
Status RecordNewJob(JobDb& db, const std::string& job, const JobSpec& spec, int64_t input_files,
                    const RunOptions& o) {
  JobRecord r;
  r.id = job;
  r.name = spec.name;
  r.state = JobState::kRunning;
  r.spec_json = spec.ToJson();
  r.host = Hostname();
  r.supervisor_pid = ::getpid();
  r.files_total = input_files;
  FB_RETURN_IF_ERROR(db.CreateJob(r));
  if (o.estimate) FB_RETURN_IF_ERROR(db.SetEstimate(job, o.estimate->ToJson()));
  return Status::Ok();
}

// What a resumed job's earlier runs left.
struct EarlierRuns {
  double seconds = 0;             // their wall time
  int count = 0;                  // how many there were
  std::vector<TaskRecord> tasks;  // their tasks (attempts continue from them)
};

// A resumed job: its earlier runs closed (a run whose supervisor died ends at
// its last recorded activity) and added up, the files left running by dead
// workers pending again, and the record running under this supervisor.
Result<EarlierRuns> ReopenJob(JobDb& db, const std::string& job, int64_t input_files) {
  FB_ASSIGN_OR_RETURN(auto rec, db.GetJob(job));
  FB_ASSIGN_OR_RETURN(double last, db.LastFileUpdateUnix(job));
  FB_RETURN_IF_ERROR(db.CloseUnfinishedRuns(job, last));
  FB_ASSIGN_OR_RETURN(auto runs, db.Runs(job));
  if (runs.empty() && rec && rec->seconds > 0) {
    // Recorded before runs were: the record's time is the earlier run's.
    RunRecord earlier;
    FB_ASSIGN_OR_RETURN(earlier.run, db.StartRun(job, ParseUtcSeconds(rec->created_at)));
    earlier.started_unix = ParseUtcSeconds(rec->created_at);
    earlier.finished_unix = earlier.started_unix + rec->seconds;
    earlier.seconds = rec->seconds;
    earlier.state = rec->state;
    FB_RETURN_IF_ERROR(db.FinishRun(job, earlier));
    runs.push_back(earlier);
  }
  EarlierRuns e;
  for (const auto& r : runs) e.seconds += r.seconds;
  e.count = static_cast<int>(runs.size());
  FB_RETURN_IF_ERROR(db.ResetRunning(job));
  FB_RETURN_IF_ERROR(db.SetSupervisor(job, ::getpid(), Hostname()));
  FB_RETURN_IF_ERROR(db.SetFilesTotal(job, input_files));
  FB_RETURN_IF_ERROR(db.UpdateJob(job, JobState::kRunning, -1, e.seconds));
  FB_ASSIGN_OR_RETURN(e.tasks, db.Tasks(job));
  return e;
}

// Registers every planned file, so progress and `status` know the whole job:
// static, each with the task its shard plan gives it; dynamic, with no task
// yet (the task that claims a file records itself), and a resumed job keeps
// the task that made each finished file.
Status RegisterFiles(JobDb& db, const std::string& job, const JobSpec& spec,
                     const std::vector<ObjectInfo>& files, int workers) {
  if (spec.schedule == Schedule::kDynamic) {
    FB_ASSIGN_OR_RETURN(auto known, db.Files(job));
    std::set<std::string> finished;
    for (const auto& r : known) {
      if (r.state == FileState::kDone || r.state == FileState::kSkipped) finished.insert(r.relative);
    }
    std::vector<std::string> rel;
    for (const auto& f : files) {
      if (!finished.count(f.relative)) rel.push_back(f.relative);
    }
    return db.AddPendingFiles(job, rel, std::vector<int64_t>(rel.size(), -1));
  }
  auto plan = PlanShards(files, workers, spec.shard_by);
  std::vector<std::string> rel(files.size());
  std::vector<int64_t> owner(files.size());
  for (size_t t = 0; t < plan.size(); ++t) {
    for (size_t i : plan[t]) {
      rel[i] = files[i].relative;
      owner[i] = static_cast<int64_t>(t);
    }
  }
  return db.AddPendingFiles(job, rel, owner);
}

// What every worker of the run is told, and where it runs.
struct WorkerPlan {
  std::string job;
  int workers = 0, threads = 0;
  std::string state_dir;  // absolute: workers start in the job's folder (spec.workdir)
  std::string claims;     // dynamic: this run's claims folder

  // The command line of task `index`'s worker.
  std::vector<std::string> Args(const JobSpec& spec, int64_t index) const {
    std::vector<std::string> a = {"forestbatch", "worker",
                                  "--input",     spec.input,
                                  "--output",    spec.output,
                                  "--index",     std::to_string(index),
                                  "--count",     std::to_string(workers),
                                  "--threads",   std::to_string(threads),
                                  "--shard-by",  ShardByName(spec.shard_by),
                                  "--retries",   std::to_string(spec.retries),
                                  "--backoff",   fmt::format("{}", spec.backoff_seconds),
                                  "--grace",     fmt::format("{}", spec.grace_seconds),
                                  "--state",     state_dir,
                                  "--job",       job};
    if (!spec.model.empty()) a.insert(a.end(), {"--model", spec.model});
    if (!spec.exec.empty()) a.insert(a.end(), {"--exec", spec.exec});
    if (spec.schedule == Schedule::kDynamic) {
      a.insert(a.end(), {"--schedule", "dynamic", "--claims", claims, "--lease",
                         fmt::format("{}", spec.lease_seconds)});
    }
    if (spec.shell) a.push_back("--shell");
    if (spec.overwrite) a.push_back("--overwrite");
    if (spec.verify) a.push_back("--verify");
    for (const std::string& g : spec.include) a.insert(a.end(), {"--include", g});
    for (const std::string& g : spec.exclude) a.insert(a.end(), {"--exclude", g});
    a.insert(a.end(), spec.worker_args.begin(), spec.worker_args.end());
    return a;
  }
};

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// Starts one worker per task and watches them until every one has ended,
// with the policy RunOptions describes: a worker that died is restarted
// while it may be; the leases are renewed; on a stop (signal, cancel, a lost
// lease) every worker's group gets SIGTERM, then SIGKILL. Records each task
// and attempt as it goes.
class Supervisor {
 public:
  Supervisor(const JobSpec& spec, const RunOptions& o, JobDb& db, const WorkerPlan& plan, JobLeases& leases,
             const std::atomic<bool>& stop)
      : spec_(spec), o_(o), db_(db), plan_(plan), job_(plan.job), leases_(leases), stop_(stop) {
    processes_ = o.processes;
    if (processes_ == nullptr) {
      own_processes_ = MakeProcessRunner();
      processes_ = own_processes_.get();
    }
  }

  // Starts every task's worker, attempts counted on from `earlier` (a
  // resumed job's tasks); on an error, kills the workers it started.
  Status StartAll(const std::vector<TaskRecord>& earlier) {
    tasks_.resize(static_cast<size_t>(plan_.workers));
    for (size_t t = 0; t < tasks_.size(); ++t) {
      tasks_[t].index = static_cast<int64_t>(t);
      if (t < earlier.size()) tasks_[t].attempts = earlier[t].attempts;
      tasks_[t].record.files = 0;
      Status s = Launch(t);
      if (!s.ok()) {
        for (auto& [pid, _] : by_pid_) processes_->SignalGroup(pid, SIGKILL);
        return s;
      }
    }
    running_ = tasks_.size();
    return Status::Ok();
  }

  // Until no worker runs and none is due a restart; shows progress as it goes.
  void Watch(Progress& progress, const FileCounts& before) {
    next_heartbeat_ = Clock::now() + kHeartbeat;
    while (running_ > 0 || std::any_of(tasks_.begin(), tasks_.end(),
                                       [](const Task& t) { return t.restart_at.has_value(); })) {
      RenewLeasesWhenDue();
      if (!stopping_) StopWhenAsked();
      KillWhenOverdue();
      if (ReapOne()) continue;
      RestartWhenDue();
      auto c = db_.Counts(job_);
      if (c.ok()) progress.Update(*c, before, false);
      // Woken at once when a worker ends (the real runner's pidfds), not at
      // the next tick: a job's end used to come up to a tick (100 ms) late.
      processes_->WaitForAnExit(o_.poll_seconds);
    }
  }

  bool cancelled() const { return cancelled_; }  // by `cancel JOB`
  bool stopped() const { return stopping_; }     // by a signal, a cancel or a lost lease
  bool any_task_failed() const { return any_task_failed_; }

 private:
  // Starts task t's worker (again).
  Status Launch(size_t t) {
    Task& k = tasks_[t];
    ++k.attempts;
    k.record.index = k.index;
    k.record.attempts = k.attempts;
    k.record.state = TaskState::kRunning;
    k.record.log = TaskLogPath(o_.state_dir, job_, k.index);
    k.record.started_at = UtcNow();
    k.record.finished_at.clear();
    k.record.exit_code = -1;
    k.record.signal = 0;
    // Its own process group, which stop and cancel signal as a whole; it
    // dies with the supervisor: a killed `run` never leaves workers behind.
    ProcessSpec ps;
    // Named `forestbatch worker ...` in ps, whatever the binary's path.
    ps.argv = plan_.Args(spec_, k.index);
    ps.program = o_.self_exe;
    ps.log_path = k.record.log;
    ps.log_banner = fmt::format("=== attempt {} at {}\n", k.attempts, UtcNow());
    // The folder the job was started in; where it is gone, paths are absolute anyway.
    ps.workdir = spec_.workdir;
    if (!o_.worker_env.empty()) ps.env = EnvironmentWith(o_.worker_env);
    ps.die_with_parent = true;
    ps.exec_failure_message = "forestbatch: cannot run the worker " + ps.program;
    FB_ASSIGN_OR_RETURN(ProcessId pid, processes_->Start(ps));
    k.pid = pid;
    k.record.pid = pid;
    by_pid_[pid] = t;
    return db_.UpsertTask(job_, k.record);
  }

  void RenewLeasesWhenDue() {
    if (Clock::now() < next_heartbeat_) return;
    next_heartbeat_ = Clock::now() + kHeartbeat;
    for (Lease* l : {leases_.job.get(), leases_.output.get()}) {
      Status s = l->Renew();
      if (s.code() == StatusCode::kCancelled) {
        lease_lost_ = true;
        if (o_.progress) fmt::print(o_.progress, "forestbatch: {}; stopping\n", s.ToString());
      }
    }
  }

  // A `cancel JOB` from another process marks the job; a signal sets `stop`.
  // Either, or a lost lease, stops the run: workers due a restart are not
  // restarted, and every running one's group gets SIGTERM.
  void StopWhenAsked() {
    auto rec = db_.GetJob(job_);
    if (rec.ok() && *rec && (*rec)->state == JobState::kCancelling) cancelled_ = true;
    if (!stop_.load() && !cancelled_ && !lease_lost_) return;
    stopping_ = true;
    for (auto& k : tasks_) {
      if (k.restart_at) {
        k.restart_at.reset();
        k.finished = true;
        k.record.state = TaskState::kInterrupted;
        (void)db_.UpsertTask(job_, k.record);
      }
      if (!k.finished && k.pid > 0) processes_->SignalGroup(k.pid, SIGTERM);
    }
    kill_at_ = Clock::now() + Seconds(spec_.grace_seconds + o_.kill_margin_seconds);
  }

  void KillWhenOverdue() {
    if (!kill_at_ || Clock::now() <= *kill_at_) return;
    for (auto& k : tasks_) {
      if (!k.finished && k.pid > 0) processes_->SignalGroup(k.pid, SIGKILL);
    }
    kill_at_.reset();
  }

  // Records one ended worker's attempt and decides its task's fate; false
  // when none of this run's workers ended.
  bool ReapOne() {
    std::optional<ProcessExit> ended = processes_->Poll();
    if (!ended || !by_pid_.count(ended->id)) return false;
    const ProcessId pid = ended->id;
    Task& k = tasks_[by_pid_[pid]];
    by_pid_.erase(pid);
    k.pid = 0;
    k.record.finished_at = UtcNow();
    k.record.exit_code = ended->exit_code;
    k.record.signal = ended->signal;
    (void)db_.AddAttempt(job_, k.index, k.attempts, pid, k.record.exit_code, k.record.signal,
                         k.record.started_at, k.record.finished_at);
    (void)db_.SetAttemptUsage(job_, k.index, k.attempts, ended->user_seconds, ended->sys_seconds);
    const int code = k.record.exit_code;
    // Permanent failures (bad options, model, input; refusing to overwrite) are not retried.
    if (code == kExitOk || code == kExitSomeFailed) {
      k.record.state = code == kExitOk ? TaskState::kSucceeded : TaskState::kFailed;
      k.finished = true;
    } else if (stopping_) {
      k.record.state = TaskState::kInterrupted;
      k.finished = true;
    } else if (!IsPermanentExit(code) && k.attempts <= spec_.task_retries) {
      k.record.state = TaskState::kRestarting;
      k.restart_at = Clock::now() + Seconds(o_.restart_delay_seconds);
    } else {
      k.record.state = TaskState::kFailed;
      k.finished = true;
    }
    if (k.record.state == TaskState::kFailed) any_task_failed_ = true;
    (void)db_.UpsertTask(job_, k.record);
    --running_;
    return true;
  }

  void RestartWhenDue() {
    for (size_t t = 0; t < tasks_.size(); ++t) {
      Task& k = tasks_[t];
      if (k.restart_at && Clock::now() >= *k.restart_at) {
        k.restart_at.reset();
        if (Launch(t).ok()) {
          ++running_;
        } else {
          k.finished = true;
          k.record.state = TaskState::kFailed;
          any_task_failed_ = true;
          (void)db_.UpsertTask(job_, k.record);
        }
      }
    }
  }

  const JobSpec& spec_;
  const RunOptions& o_;
  JobDb& db_;
  const WorkerPlan& plan_;
  const std::string& job_;
  JobLeases& leases_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<ProcessRunner> own_processes_;
  ProcessRunner* processes_ = nullptr;
  std::vector<Task> tasks_;
  std::map<ProcessId, size_t> by_pid_;
  size_t running_ = 0;
  bool stopping_ = false, cancelled_ = false, lease_lost_ = false, any_task_failed_ = false;
  Clock::time_point next_heartbeat_;
  std::optional<Clock::time_point> kill_at_;
};

// How the run ended: cancelled; stopped or unfinished, interrupted (failed
// if a task failed); failed when a file or a task failed; else succeeded.
JobState RunEndState(const Supervisor& s, const FileCounts& c) {
  if (s.cancelled()) return JobState::kCancelled;
  if (s.stopped() || c.pending + c.running > 0)
    return s.any_task_failed() ? JobState::kFailed : JobState::kInterrupted;
  if (c.failed > 0 || s.any_task_failed()) return JobState::kFailed;
  return JobState::kSucceeded;
}

// The run's end: its figures and state in `out`, the results catalogue, and
// the run's record and then the job's, so that a reader that sees the job
// ended sees its time complete.
Status FinishJob(JobDb& db, const std::string& job, const Supervisor& supervisor, const RunOptions& o,
                 int64_t run_number, double start_unix, const FileCounts& before, Progress& progress,
                 JobOutcome& out) {
  FB_ASSIGN_OR_RETURN(out.counts, db.Counts(job));
  progress.Update(out.counts, before, true);
  out.done_this_run = out.counts.done - before.done;
  out.rows_this_run = out.counts.rows - before.rows;
  out.state = RunEndState(supervisor, out.counts);
  FB_ASSIGN_OR_RETURN(auto records, db.Files(job));
  FB_ASSIGN_OR_RETURN(out.vcpu_seconds, db.CpuSeconds(job));
  out.catalog = CatalogPath(o.state_dir, job);
  Status cs = WriteCatalog(records, job, out.catalog, out.vcpu_seconds, o.price_per_vcpu_hour);
  RunRecord run;
  run.run = run_number;
  run.started_unix = start_unix;
  run.finished_unix = start_unix + out.seconds;
  run.seconds = out.seconds;
  run.state = out.state;
  run.done = out.done_this_run;
  run.failed = out.counts.failed;
  run.rows = out.rows_this_run;
  FB_RETURN_IF_ERROR(db.FinishRun(job, run));
  FB_RETURN_IF_ERROR(db.UpdateJob(job, out.state, JobExitCode(out.state), out.seconds_before + out.seconds));
  return cs;
}

}  // namespace

Result<JobOutcome> RunLocalJob(const JobSpec& given, const std::string& resume_job, const RunOptions& o,
                               const std::atomic<bool>& stop) {
  const auto start = Clock::now();
  const double start_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // A new job records where it reads and writes as absolute paths (a resumed
  // one runs as recorded), so `resume` means the same from any folder.
  const JobSpec spec = resume_job.empty() ? given.Anchored() : given;
  FB_RETURN_IF_ERROR(CheckInputOutput(spec.input, spec.output, /*allow_output_inside_input=*/true));
  FB_ASSIGN_OR_RETURN(auto db, JobDb::Open(o.state_dir));
  FB_ASSIGN_OR_RETURN(auto in, StorageFor(spec.input));
  FB_ASSIGN_OR_RETURN(auto files,
                      ListInputs(*in, spec.input, spec.output, InputFilter{spec.include, spec.exclude}));
  WorkerPlan plan;
  plan.workers = spec.ResolvedWorkers();
  plan.threads = spec.ResolvedThreads();
  plan.job = resume_job.empty() ? NewJobId(spec.name) : resume_job;
  const std::string& job = plan.job;

  JobOutcome out;
  out.workers = plan.workers;
  out.input_files = static_cast<int64_t>(files.size());
  out.files_per_worker = (out.input_files + plan.workers - 1) / plan.workers;
  FB_ASSIGN_OR_RETURN(JobLeases leases, AcquireLeases(o.state_dir, spec, job));
  EarlierRuns earlier;
  if (resume_job.empty()) {
    FB_RETURN_IF_ERROR(RecordNewJob(*db, job, spec, out.input_files, o));
  } else {
    FB_ASSIGN_OR_RETURN(earlier, ReopenJob(*db, job, out.input_files));
  }
  out.runs = earlier.count + 1;
  out.job = job;
  out.seconds_before = earlier.seconds;
  FB_ASSIGN_OR_RETURN(out.vcpu_seconds_before, db->CpuSeconds(job));
  FB_ASSIGN_OR_RETURN(const int64_t run_number, db->StartRun(job, start_unix));

  plan.claims = ClaimsDirFor(o.state_dir, job, fmt::format("run-{}-{}", std::time(nullptr), ::getpid()));
  FB_RETURN_IF_ERROR(RegisterFiles(*db, job, spec, files, plan.workers));
  FB_ASSIGN_OR_RETURN(FileCounts before, db->Counts(job));
  std::error_code ec;
  std::filesystem::create_directories(JobLogDir(o.state_dir, job), ec);
  if (ec) return IoError("cannot create log folder: " + ec.message()).At(JobLogDir(o.state_dir, job));
  plan.state_dir = std::filesystem::absolute(o.state_dir, ec).lexically_normal().string();

  Supervisor supervisor(spec, o, *db, plan, leases, stop);
  FB_RETURN_IF_ERROR(supervisor.StartAll(earlier.tasks));
  Progress progress(o, out.input_files);
  supervisor.Watch(progress, before);
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  FB_RETURN_IF_ERROR(FinishJob(*db, job, supervisor, o, run_number, start_unix, before, progress, out));
  return out;
}

std::string SummaryTable(const JobOutcome& o, std::optional<double> price) {
  std::vector<std::string> head = {
      "job",         "workers",          "input files", "files per worker", "total time",
      "files made",  "files per minute", "rows",        "rows per second",  "failed files",
      "vCPU-seconds"};
  const bool resumed = o.runs > 1;
  if (resumed) head.insert(head.begin() + 1, "runs");
  auto amount = [](std::optional<double> v) { return v ? FormatAmount(*v) : std::string("-"); };
  // One row: files made, rows and CPU time in `seconds` of wall time.
  auto row = [&](const std::string& label, const std::string& runs, double seconds, int64_t made,
                 uint64_t rows, double vcpu) {
    std::vector<std::string> r = {
        label,
        std::to_string(o.workers),
        std::to_string(o.input_files),
        std::to_string(o.files_per_worker),
        Duration(seconds),
        std::to_string(made),
        fmt::format("{:.0f}", seconds > 0 ? static_cast<double>(made) / seconds * 60 : 0.0),
        std::to_string(rows),
        fmt::format("{:.0f}", seconds > 0 ? static_cast<double>(rows) / seconds : 0.0),
        std::to_string(o.counts.failed),
        fmt::format("{:.1f}", vcpu)};
    if (resumed) r.insert(r.begin() + 1, runs);
    if (price) {
      const JobCost c{vcpu, made, rows, price};
      r.insert(r.end(), {amount(c.Cost()), amount(c.PerThousandFiles()), amount(c.PerMillionRows())});
    }
    return r;
  };
  if (price) head.insert(head.end(), {"cost", "cost per 1,000 files", "cost per million rows"});
  std::vector<std::vector<std::string>> rows;
  if (resumed) {
    rows.push_back(row(o.job, fmt::format("all {}", o.runs), o.seconds_before + o.seconds, o.counts.done,
                       o.counts.rows, o.vcpu_seconds));
    rows.push_back(row("this run", std::to_string(o.runs), o.seconds, o.done_this_run, o.rows_this_run,
                       o.vcpu_seconds - o.vcpu_seconds_before));
  } else {
    rows.push_back(row(o.job, "1", o.seconds, o.done_this_run, o.rows_this_run, o.vcpu_seconds));
  }
  std::vector<size_t> w(head.size());
  for (size_t i = 0; i < head.size(); ++i) {
    w[i] = head[i].size();
    for (const auto& r : rows) w[i] = std::max(w[i], r[i].size());
  }
  std::string s = "|", sep = "|";
  for (size_t i = 0; i < head.size(); ++i) {
    s += fmt::format(" {:<{}} |", head[i], w[i]);
    sep += std::string(w[i] + 2, '-') + "|";
  }
  s += "\n" + sep + "\n";
  for (const auto& r : rows) {
    s += "|";
    for (size_t i = 0; i < head.size(); ++i) s += fmt::format(" {:>{}} |", r[i], w[i]);
    s += "\n";
  }
  return s;
}

Result<JobCost> JobCostOf(JobDb& db, const std::string& job, std::optional<double> price) {
  JobCost c;
  FB_ASSIGN_OR_RETURN(c.vcpu_seconds, db.CpuSeconds(job));
  FB_ASSIGN_OR_RETURN(auto counts, db.Counts(job));
  c.files = counts.done;
  c.rows = counts.rows;
  c.price_per_vcpu_hour = price;
  return c;
}

Result<std::string> JobStatusJson(JobDb& db, const std::string& id, const std::string& state_dir,
                                  std::optional<double> price) {
  FB_ASSIGN_OR_RETURN(auto job, db.GetJob(id));
  if (!job) return NotFound("no job '" + id + "' in " + state_dir);
  FB_ASSIGN_OR_RETURN(auto counts, db.Counts(id));
  FB_ASSIGN_OR_RETURN(auto tasks, db.Tasks(id));
  FB_ASSIGN_OR_RETURN(auto files, db.Files(id));
  FB_ASSIGN_OR_RETURN(auto attempts, db.Attempts(id));
  FB_ASSIGN_OR_RETURN(JobCost cost, JobCostOf(db, id, price));
  const JobState state = EffectiveJobState(*job, state_dir);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  json j;
  j["schema"] = 1;
  j["job"] = job->id;
  j["name"] = job->name;
  j["state"] = StateName(state);
  j["exit_code"] = job->exit_code;
  j["created_at"] = job->created_at;
  j["updated_at"] = job->updated_at;
  FB_ASSIGN_OR_RETURN(JobTimes times, LoadJobTimes(db, *job, state_dir, state, now));
  FB_ASSIGN_OR_RETURN(auto runs, db.Runs(id));
  // The whole job's wall time: every run, the running one until now.
  j["seconds"] = times.seconds;
  j["this_run_seconds"] = times.this_run_seconds;
  j["seconds_until_last_activity"] = times.until_last_activity;
  json jr = json::array();
  for (const auto& r : runs) {
    jr.push_back({{"run", r.run},
                  {"state", StateName(r.finished_unix > 0 ? r.state
                                      : IsLive(state)     ? JobState::kRunning
                                                          : JobState::kDead)},
                  {"started_unix", r.started_unix},
                  {"seconds", r.finished_unix > 0 ? r.seconds : times.this_run_seconds},
                  {"files_made", r.done},
                  {"rows", r.rows}});
  }
  j["runs"] = jr;
  FB_ASSIGN_OR_RETURN(auto cmp, LoadEstimateComparison(db, *job, times, IsFinished(state), price, now));
  if (cmp) {
    j["estimate"] = json::parse(EstimateComparisonJson(*cmp));
  } else {
    j["estimate"] = nullptr;
    j["estimate_missing"] = kNoEstimate;
  }
  j["host"] = job->host;
  j["files"] = {{"total", job->files_total}, {"done", counts.done},       {"skipped", counts.skipped},
                {"failed", counts.failed},   {"pending", counts.pending}, {"running", counts.running}};
  j["rows"] = counts.rows;
  auto opt = [](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
  j["cost"] = {{"vcpu_seconds", cost.vcpu_seconds},
               {"price_per_vcpu_hour", opt(cost.price_per_vcpu_hour)},
               {"cost", opt(cost.Cost())},
               {"per_1000_files", opt(cost.PerThousandFiles())},
               {"per_million_rows", opt(cost.PerMillionRows())}};
  json jt = json::array();
  for (const auto& t : tasks) {
    double cpu = 0;
    for (const auto& a : attempts) {
      if (a.index == t.index) cpu += a.user_seconds + a.sys_seconds;
    }
    int64_t made = 0;  // dynamic: which task did which file shows here and in files[].task
    for (const auto& f : files) made += f.task == t.index && f.state == FileState::kDone;
    jt.push_back({{"index", t.index},
                  {"files_done", made},
                  {"cpu_seconds", cpu},
                  {"state", StateName(t.state)},
                  {"attempts", t.attempts},
                  {"exit_code", t.exit_code},
                  {"signal", t.signal},
                  {"started_at", t.started_at},
                  {"finished_at", t.finished_at},
                  {"log", t.log}});
  }
  j["tasks"] = jt;
  json jf = json::array();
  for (const auto& f : files) {
    if (f.state != FileState::kFailed) continue;
    jf.push_back({{"input", f.relative}, {"task", f.task}, {"attempts", f.attempts}, {"error", f.error}});
  }
  j["failed_files"] = jf;
  j["catalog"] = CatalogPath(state_dir, id);
  try {
    j["spec"] = json::parse(job->spec_json);
  } catch (const std::exception&) {
    j["spec"] = nullptr;
  }
  return j.dump(2) + "\n";
}

}  // namespace fb
