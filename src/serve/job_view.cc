#include "serve/job_view.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runner/local_job.h"
#include "serve/html.h"

namespace fb::serve {

using json = nlohmann::json;

namespace {

// CPU seconds (own and reaped children's) of a live worker of this host, from
// /proc; nullopt unless `pid` is alive and a child of `parent`.
std::optional<double> LiveCpuSeconds(int64_t pid, int64_t parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!pid || !std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  if (f.size() < 15) return std::nullopt;
  try {
    if (std::stoll(f[1]) != parent) return std::nullopt;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return (std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14])) / ticks;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string ThisHost() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool IsJobId(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  bool only_dots = true;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
    if (c != '.') only_dots = false;
  }
  return !only_dots;
}

Result<JobView> LoadJobView(JobDb& db, const std::string& state_dir, const std::string& id,
                            std::optional<double> price, double now) {
  JobView v;
  FB_ASSIGN_OR_RETURN(auto job, db.GetJob(id));
  if (!job) return NotFound("no job '" + id + "'");
  v.job = std::move(*job);
  FB_ASSIGN_OR_RETURN(v.counts, db.Counts(id));
  FB_ASSIGN_OR_RETURN(auto tasks, db.Tasks(id));
  FB_ASSIGN_OR_RETURN(auto attempts, db.Attempts(id));
  FB_ASSIGN_OR_RETURN(v.files, db.Files(id));
  FB_ASSIGN_OR_RETURN(v.cost, JobCostOf(db, id, price));
  for (auto& t : tasks) {
    TaskView tv;
    for (const auto& a : attempts) {
      if (a.index == t.index) tv.cpu_seconds += a.user_seconds + a.sys_seconds;
    }
    tv.record = std::move(t);
    v.tasks.push_back(std::move(tv));
  }
  try {
    json spec = json::parse(v.job.spec_json);
    v.model = RedactSecrets(spec.value("model", ""));
    v.input = RedactSecrets(spec.value("input", ""));
    v.output = RedactSecrets(spec.value("output", ""));
    v.exec = RedactSecrets(spec.value("exec", ""));
    v.workers = spec.value("workers", 0);
  } catch (const std::exception&) {
    // A spec this version cannot read: shown without those fields.
  }
  if (v.workers == 0) v.workers = static_cast<int>(v.tasks.size());
  // Not the record's word alone: a killed supervisor leaves "running" behind.
  v.state = EffectiveJobState(v.job, state_dir);
  v.live = IsLive(v.state);
  // Attempts are recorded when their worker ends: add what running workers of
  // this host have used so far.
  if (v.live && v.job.host == ThisHost()) {
    for (auto& t : v.tasks) {
      if (t.record.state != TaskState::kRunning) continue;
      if (auto cpu = LiveCpuSeconds(t.record.pid, v.job.supervisor_pid)) {
        t.cpu_seconds += *cpu;
        v.cost.vcpu_seconds += *cpu;
      }
    }
  }
  v.started_unix = ParseUtc(v.job.created_at);
  FB_ASSIGN_OR_RETURN(v.times, LoadJobTimes(db, v.job, state_dir, v.state, now));
  v.elapsed_seconds = v.times.seconds;
  FB_ASSIGN_OR_RETURN(v.estimate,
                      LoadEstimateComparison(db, v.job, v.times, IsFinished(v.state), price, now));
  if (v.estimate) v.estimate->actual.used_vcpu_seconds = v.cost.vcpu_seconds;  // with the live workers
  // The rate over the last minute of completions (or the whole run so far).
  double first = 0, last = 0;
  int64_t recent = 0, made = 0;
  for (const auto& f : v.files) {
    if (f.state != FileState::kDone && f.state != FileState::kFailed) continue;
    if (f.updated_unix <= 0) continue;
    ++made;
    if (first == 0 || f.updated_unix - f.seconds < first) first = f.updated_unix - f.seconds;
    last = std::max(last, f.updated_unix);
    if (now - f.updated_unix <= 60) ++recent;
  }
  if (v.live && recent > 0) {
    v.files_per_second = static_cast<double>(recent) / std::max(1.0, std::min(60.0, now - first));
  } else if (made > 0 && last > first) {
    v.files_per_second = static_cast<double>(made) / (last - first);
  }
  const int64_t remaining = std::max<int64_t>(0, v.job.files_total - v.finished());
  if (v.live && v.files_per_second > 0) v.eta_seconds = static_cast<double>(remaining) / v.files_per_second;
  if (!v.live) v.eta_seconds.reset();
  return v;
}

std::string ProgressJson(const JobView& v) {
  auto opt = [](std::optional<double> x) { return x ? json(*x) : json(nullptr); };
  const double fraction = v.job.files_total > 0
                              ? static_cast<double>(v.finished()) / static_cast<double>(v.job.files_total)
                              : 1.0;
  // The vCPU-seconds the job will have used at this pace (while it runs).
  std::optional<double> projected;
  if (v.live && v.finished() > 0 && v.cost.vcpu_seconds > 0) projected = v.cost.vcpu_seconds / fraction;
  json j = {{"job", v.job.id},
            {"state", StateName(v.state)},
            {"live", v.live},
            {"files",
             {{"total", v.job.files_total},
              {"done", v.counts.done},
              {"skipped", v.counts.skipped},
              {"failed", v.counts.failed},
              {"pending", v.counts.pending},
              {"running", v.counts.running}}},
            {"fraction", fraction},
            {"rows", v.counts.rows},
            {"elapsed_seconds", v.elapsed_seconds},
            {"files_per_second", v.files_per_second},
            {"eta_seconds", opt(v.eta_seconds)},
            {"vcpu_seconds", v.cost.vcpu_seconds},
            {"projected_vcpu_seconds", opt(projected)},
            {"cost", opt(v.cost.Cost())},
            {"estimate", v.estimate ? json::parse(EstimateComparisonJson(*v.estimate)) : json(nullptr)}};
  return j.dump();
}

}  // namespace fb::serve
