#include "runner/job_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/redact.h"
#include "common/text_escape.h"
#include "runner/cost.h"
#include "runner/lease.h"
#include "runner/local_job.h"

namespace fb {
namespace {

using json = nlohmann::json;

std::string TimePhrase(const JobTimes& t, JobState state) {
  std::string s = IsLive(state) ? "running for " + FormatDuration(t.seconds) : FormatDuration(t.seconds);
  if (t.until_last_activity) s += " until its last recorded activity";
  if (t.runs > 1) {
    s += fmt::format(" ({} runs: {} before this one, {} in it)", t.runs, FormatDuration(t.before_seconds),
                     FormatDuration(t.this_run_seconds));
  }
  return s;
}

}  // namespace

double ParseUtcSeconds(const std::string& iso) {
  std::tm tm{};
  int y, mo, d, h, mi, s;
  char z = 0;
  if (iso.size() != 20 ||
      std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 || z != 'Z')
    return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<double>(timegm(&tm));
}

std::string FormatDuration(double s) {
  s = std::max(0.0, s);
  const int64_t m = static_cast<int64_t>(s / 60);
  return fmt::format("{}m {:.1f}s", m, s - 60.0 * static_cast<double>(m));
}

JobTimes JobTimesOf(const JobRecord& job, const std::vector<RunRecord>& runs, JobState state,
                    double last_activity, double now) {
  JobTimes t;
  const bool live = IsLive(state);
  if (runs.empty()) {
    // Recorded before runs were: the record's own time, or since its creation.
    const double created = ParseUtcSeconds(job.created_at);
    if (live && created > 0) {
      t.this_run_seconds = std::max(0.0, now - created);
    } else if (state == JobState::kDead && created > 0) {
      t.this_run_seconds = std::max(job.seconds, last_activity - created);
      t.until_last_activity = true;
    } else {
      t.this_run_seconds = job.seconds;
    }
    t.seconds = t.this_run_seconds;
    return t;
  }
  t.runs = static_cast<int>(runs.size());
  for (size_t i = 0; i + 1 < runs.size(); ++i) t.before_seconds += runs[i].seconds;
  const RunRecord& r = runs.back();
  if (r.finished_unix > 0) {
    t.this_run_seconds = r.seconds;
  } else if (live) {
    t.this_run_seconds = std::max(0.0, now - r.started_unix);
  } else {
    // Its supervisor died (or stopped without a word): it ran until the last
    // thing it recorded.
    t.this_run_seconds = std::max(0.0, last_activity - r.started_unix);
    t.until_last_activity = true;
  }
  t.seconds = t.before_seconds + t.this_run_seconds;
  return t;
}

Result<JobTimes> LoadJobTimes(JobDb& db, const JobRecord& job, const std::string& state_dir, JobState state,
                              double now) {
  FB_ASSIGN_OR_RETURN(auto runs, db.Runs(job.id));
  FB_ASSIGN_OR_RETURN(double last, db.LastFileUpdateUnix(job.id));
  if (!IsLive(state) && state_dir.size() > 0) {
    // A dead supervisor's lease keeps its last heartbeat (every 10 s while it ran).
    auto lease = Lease::Read(JobLeasePath(state_dir, job.id));
    if (lease.ok() && *lease) last = std::max(last, static_cast<double>((*lease)->heartbeat_unix));
  }
  return JobTimesOf(job, runs, state, last, now);
}

Result<std::optional<EstimateComparison>> LoadEstimateComparison(JobDb& db, const JobRecord& job,
                                                                 const JobTimes& times, bool finished,
                                                                 std::optional<double> price,
                                                                 double /*now*/) {
  FB_ASSIGN_OR_RETURN(auto text, db.EstimateJson(job.id));
  if (!text) return std::optional<EstimateComparison>();
  FB_ASSIGN_OR_RETURN(EstimateRecord e, EstimateRecord::FromJson(*text));
  JobActuals a;
  a.duration_seconds = times.seconds;
  a.finished = finished;
  FB_ASSIGN_OR_RETURN(a.used_vcpu_seconds, db.CpuSeconds(job.id));
  // The job's workers hold their vCPUs for as long as the job runs, as a
  // machine or container sized for them is billed.
  a.reserved_vcpu_seconds = times.seconds * static_cast<double>(e.workers) * e.vcpus_per_task;
  FB_ASSIGN_OR_RETURN(FileCounts c, db.Counts(job.id));
  a.files_finished = c.done + c.skipped + c.failed;
  a.files_total = job.files_total;
  return std::optional<EstimateComparison>(CompareEstimate(e, a, price));
}

JobSpecSummary SummarizeSpec(const std::string& spec_json) {
  JobSpecSummary s;
  json j;
  try {
    j = json::parse(spec_json);
  } catch (const std::exception&) {
    return s;  // a spec this version cannot read
  }
  if (!j.is_object()) return s;
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? RedactSecrets(j[k].get<std::string>()) : std::string();
  };
  s.model = str("model");
  s.input = str("input");
  s.output = str("output");
  s.exec = str("exec");
  std::vector<std::string> o;
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].dump() : std::string(); };
  auto flag = [&](const char* k) { return j.contains(k) && j[k].is_boolean() && j[k].get<bool>(); };
  const std::string w = num("workers"), th = num("threads");
  o.push_back("workers " + (w.empty() || w == "0" ? std::string("one per core") : w));
  o.push_back("threads " + (th.empty() || th == "0" ? std::string("cores / workers") : th));
  if (!str("schedule").empty()) o.push_back("schedule " + str("schedule"));
  if (!str("shard_by").empty()) o.push_back("shard by " + str("shard_by"));
  if (!num("retries").empty()) o.push_back("retries " + num("retries"));
  if (!num("task_retries").empty()) o.push_back("task retries " + num("task_retries"));
  for (const char* f : {"overwrite", "verify", "shell"}) {
    if (flag(f)) o.push_back(f);
  }
  for (const char* k : {"include", "exclude"}) {
    if (j.contains(k) && j[k].is_array()) {
      for (const auto& g : j[k]) {
        if (g.is_string()) o.push_back(std::string(k) + " " + RedactSecrets(g.get<std::string>()));
      }
    }
  }
  if (j.contains("worker_args") && j["worker_args"].is_array() && !j["worker_args"].empty()) {
    std::string a;
    for (const auto& x : j["worker_args"]) {
      if (x.is_string()) a += (a.empty() ? "" : " ") + x.get<std::string>();
    }
    o.push_back("predict options: " + RedactSecrets(a));
  }
  for (const auto& x : o) s.options += (s.options.empty() ? "" : ", ") + x;
  return s;
}

Result<std::string> JobStatusText(JobDb& db, const std::string& id, const std::string& state_dir,
                                  std::optional<double> price, double now) {
  FB_ASSIGN_OR_RETURN(auto job, db.GetJob(id));
  if (!job) return NotFound("no job '" + id + "' in " + state_dir);
  const JobRecord& j = *job;
  FB_ASSIGN_OR_RETURN(auto c, db.Counts(id));
  FB_ASSIGN_OR_RETURN(auto tasks, db.Tasks(id));
  FB_ASSIGN_OR_RETURN(auto files, db.Files(id));
  FB_ASSIGN_OR_RETURN(auto attempts, db.Attempts(id));
  FB_ASSIGN_OR_RETURN(JobCost cost, JobCostOf(db, id, price));
  const JobState st = EffectiveJobState(j, state_dir);
  FB_ASSIGN_OR_RETURN(JobTimes times, LoadJobTimes(db, j, state_dir, st, now));
  std::string out;
  const bool ended = !IsLive(st) && st != JobState::kDead;
  out += fmt::format("job {} ({}): {}{}, {}, created {}\n", j.id,
                     j.name.empty() ? "-" : EscapeForMessage(j.name), StateName(st),
                     ended ? fmt::format(", exit code {}", j.exit_code) : "", TimePhrase(times, st),
                     j.created_at);
  if (st == JobState::kDead)
    out += fmt::format("its supervisor is gone; continue it with: forestbatch resume {} --state {}\n", j.id,
                       EscapeForMessage(state_dir));
  const JobSpecSummary spec = SummarizeSpec(j.spec_json);
  if (!spec.model.empty()) out += "model: " + EscapeForMessage(spec.model) + "\n";
  if (!spec.exec.empty()) out += "exec: " + EscapeForMessage(spec.exec) + "\n";
  out += "input: " + EscapeForMessage(spec.input) + "\n";
  out += "output: " + EscapeForMessage(spec.output) + "\n";
  out += "options: " + EscapeForMessage(spec.options) + "\n";
  out +=
      fmt::format("files: {} total, {} done, {} already done, {} failed, {} pending, {} running; {} rows\n",
                  j.files_total, c.done, c.skipped, c.failed, c.pending, c.running, c.rows);
  out += "cpu: " + CostLine(cost) + "\n";
  FB_ASSIGN_OR_RETURN(auto cmp, LoadEstimateComparison(db, j, times, IsFinished(st), price, now));
  if (cmp) {
    out += EstimateComparisonText(*cmp);
  } else {
    out += std::string("estimate: ") + kNoEstimate + "\n";
  }
  out += fmt::format("{:>5} {:<12} {:>8} {:>5} {:>6} {:>8}  {}\n", "TASK", "STATE", "ATTEMPTS", "EXIT",
                     "SIGNAL", "CPU S", "LOG");
  for (const auto& t : tasks) {
    double cpu = 0;
    for (const auto& a : attempts) {
      if (a.index == t.index) cpu += a.user_seconds + a.sys_seconds;
    }
    out += fmt::format("{:>5} {:<12} {:>8} {:>5} {:>6} {:>8.1f}  {}\n", t.index, StateName(t.state),
                       t.attempts, t.exit_code, t.signal, cpu, EscapeForMessage(t.log));
  }
  for (const auto& f : files) {
    if (f.state == FileState::kFailed)
      out += fmt::format("failed: {} (task {}, {} attempts): {}\n", EscapeForMessage(f.relative), f.task,
                         f.attempts, EscapeForMessage(f.error));
  }
  return out;
}

namespace {

struct ListRow {
  JobRecord job;
  JobState state = JobState::kRunning;
  FileCounts counts;
  JobTimes times;
  JobSpecSummary spec;
};

Result<std::vector<ListRow>> ListRows(JobDb& db, const std::string& state_dir, double now) {
  FB_ASSIGN_OR_RETURN(auto jobs, db.ListJobs());
  std::vector<ListRow> rows;
  for (auto& j : jobs) {
    ListRow r;
    r.state = EffectiveJobState(j, state_dir);
    FB_ASSIGN_OR_RETURN(r.counts, db.Counts(j.id));
    FB_ASSIGN_OR_RETURN(r.times, LoadJobTimes(db, j, state_dir, r.state, now));
    r.spec = SummarizeSpec(j.spec_json);
    r.job = std::move(j);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

Result<std::string> JobListText(JobDb& db, const std::string& state_dir, double now) {
  FB_ASSIGN_OR_RETURN(auto rows, ListRows(db, state_dir, now));
  std::string out = fmt::format("{:<40} {:<12} {:>7} {:>7} {:>7} {:>9}  {}\n", "JOB", "STATE", "FILES",
                                "DONE", "FAILED", "SECONDS", "CREATED");
  for (const auto& r : rows) {
    out += fmt::format("{:<40} {:<12} {:>7} {:>7} {:>7} {:>9.1f}  {}\n", r.job.id, StateName(r.state),
                       r.job.files_total, r.counts.done + r.counts.skipped, r.counts.failed, r.times.seconds,
                       r.job.created_at);
  }
  return out;
}

Result<std::string> JobListJson(JobDb& db, const std::string& state_dir, double now) {
  FB_ASSIGN_OR_RETURN(auto rows, ListRows(db, state_dir, now));
  json list = json::array();
  for (const auto& r : rows) {
    list.push_back(
        {{"job", r.job.id},
         {"name", r.job.name},
         {"state", StateName(r.state)},
         {"exit_code", IsLive(r.state) || r.state == JobState::kDead ? json(nullptr) : json(r.job.exit_code)},
         {"created_at", r.job.created_at},
         {"seconds", r.times.seconds},
         {"runs", r.times.runs},
         {"files",
          {{"total", r.job.files_total},
           {"done", r.counts.done},
           {"skipped", r.counts.skipped},
           {"failed", r.counts.failed},
           {"pending", r.counts.pending},
           {"running", r.counts.running}}},
         {"rows", r.counts.rows},
         {"model", r.spec.model},
         {"exec", r.spec.exec},
         {"input", r.spec.input},
         {"output", r.spec.output},
         {"host", r.job.host}});
  }
  return json({{"schema", 1}, {"state_dir", state_dir}, {"jobs", list}}).dump(2) + "\n";
}

ProgressFigures ComputeProgress(const ProgressSample& s) {
  ProgressFigures p;
  p.finished = s.now.done + s.now.skipped + s.now.failed;
  const int64_t made_now = std::max<int64_t>(0, s.now.done - s.before.done);
  const uint64_t rows_now = s.now.rows >= s.before.rows ? s.now.rows - s.before.rows : 0;
  if (s.elapsed > 0) {
    p.rows_per_second = static_cast<double>(rows_now) / s.elapsed;
    p.files_per_minute = static_cast<double>(made_now) / s.elapsed * 60.0;
  }
  const int64_t remaining = std::max<int64_t>(0, s.total - p.finished);
  if (made_now > 0 && remaining > 0 && s.last_completion > 0) {
    // The pace up to the latest completion, less the time since: a file in
    // flight brings the end nearer, never further.
    const double per_file = s.last_completion / static_cast<double>(made_now);
    p.eta_seconds =
        std::max(0.0, per_file * static_cast<double>(remaining) - (s.elapsed - s.last_completion));
  }
  return p;
}

}  // namespace fb
