#include "scaleout/submit_status.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

#include "scaleout/engine_process.h"

namespace fb {
namespace {

std::optional<int64_t> ToInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Array task ids as squeue/scontrol print them: "3", "2-5", "[2-5%2]",
// "1,4-6".
void ForEachTaskId(std::string spec, const std::function<void(int64_t)>& fn) {
  if (!spec.empty() && spec.front() == '[') spec = spec.substr(1);
  if (!spec.empty() && spec.back() == ']') spec.pop_back();
  spec = spec.substr(0, spec.find('%'));
  std::stringstream ss(spec);
  std::string part;
  while (std::getline(ss, part, ',')) {
    size_t dash = part.find('-');
    if (dash == std::string::npos) {
      if (auto v = ToInt(part)) fn(*v);
    } else {
      auto a = ToInt(std::string_view(part).substr(0, dash));
      auto b = ToInt(std::string_view(part).substr(dash + 1));
      if (a && b && *b - *a < 1000000) {
        for (int64_t i = *a; i <= *b; ++i) fn(i);
      }
    }
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace

TaskPhase SlurmStatePhase(const std::string& state_in) {
  std::string state = state_in.substr(0, state_in.find(' '));  // "CANCELLED by 0"
  if (state == "COMPLETED") return TaskPhase::kSucceeded;
  if (state == "RUNNING" || state == "COMPLETING" || state == "CONFIGURING" || state == "STAGE_OUT" ||
      state == "SIGNALING" || state == "RESIZING" || state == "SUSPENDED") {
    return TaskPhase::kRunning;
  }
  if (state == "PENDING" || state.rfind("REQUEUE", 0) == 0 || state == "RESV_DEL_HOLD" ||
      state == "SPECIAL_EXIT") {
    return TaskPhase::kPending;
  }
  return TaskPhase::kFailed;  // FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, ...
}

void ParseSqueueLines(const std::string& text, std::map<int64_t, std::string>& states) {
  for (const auto& line : Lines(text)) {
    size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    std::string state = line.substr(bar + 1);
    ForEachTaskId(line.substr(0, bar), [&](int64_t i) { states[i] = state; });
  }
}

void ParseSacctLines(const std::string& text, const std::string& job_id,
                     std::map<int64_t, std::string>& states) {
  for (const auto& line : Lines(text)) {
    size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    std::string id = line.substr(0, bar);
    std::string state = line.substr(bar + 1);
    state = state.substr(0, state.find('|'));
    if (id.rfind(job_id + "_", 0) != 0) continue;
    ForEachTaskId(id.substr(job_id.size() + 1), [&](int64_t i) { states[i] = state; });
  }
}

void ParseScontrolLines(const std::string& text, std::map<int64_t, std::string>& states) {
  for (const auto& line : Lines(text)) {
    std::string task, state;
    std::stringstream ss(line);
    std::string field;
    while (ss >> field) {
      if (field.rfind("ArrayTaskId=", 0) == 0) task = field.substr(12);
      if (field.rfind("JobState=", 0) == 0) state = field.substr(9);
    }
    if (task.empty() || state.empty()) continue;
    ForEachTaskId(task, [&](int64_t i) { states[i] = state; });
  }
}

EngineJobState SlurmJobState(const std::map<int64_t, std::string>& states, int64_t workers) {
  EngineJobState s;
  s.tasks = workers;
  s.task_states = states;
  for (const auto& [i, st] : states) {
    switch (SlurmStatePhase(st)) {
      case TaskPhase::kPending: ++s.pending; break;
      case TaskPhase::kRunning: ++s.running; break;
      case TaskPhase::kSucceeded: ++s.succeeded; break;
      case TaskPhase::kFailed: ++s.failed; break;
    }
  }
  // Tasks the engine no longer reports are counted as unknown, not done.
  s.finished = s.pending == 0 && s.running == 0 && s.succeeded + s.failed == workers;
  s.engine_state = s.finished ? (s.failed ? "FAILED" : "COMPLETED") : (s.running ? "RUNNING" : "PENDING");
  return s;
}

Result<EngineJobState> ParseAwsDescribeJobs(const std::string& text, int64_t workers) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("jobs") || !j["jobs"].is_array()) {
    return InvalidData("aws batch describe-jobs: unexpected answer");
  }
  if (j["jobs"].empty())
    return NotFound("AWS Batch does not know this job (jobs older than 7 days are gone)");
  const auto& job = j["jobs"][0];
  EngineJobState s;
  s.tasks = workers;
  s.engine_state = job.value("status", "");
  if (job.contains("arrayProperties") && job["arrayProperties"].contains("statusSummary")) {
    const auto& sum = job["arrayProperties"]["statusSummary"];
    auto n = [&sum](const char* k) { return sum.contains(k) ? sum[k].get<int64_t>() : int64_t{0}; };
    s.pending = n("SUBMITTED") + n("PENDING") + n("RUNNABLE");
    s.running = n("STARTING") + n("RUNNING");
    s.succeeded = n("SUCCEEDED");
    s.failed = n("FAILED");
  } else {
    TaskPhase p = s.engine_state == "SUCCEEDED"                                   ? TaskPhase::kSucceeded
                  : s.engine_state == "FAILED"                                    ? TaskPhase::kFailed
                  : (s.engine_state == "RUNNING" || s.engine_state == "STARTING") ? TaskPhase::kRunning
                                                                                  : TaskPhase::kPending;
    s.pending = p == TaskPhase::kPending;
    s.running = p == TaskPhase::kRunning;
    s.succeeded = p == TaskPhase::kSucceeded;
    s.failed = p == TaskPhase::kFailed;
  }
  s.finished = s.engine_state == "SUCCEEDED" || s.engine_state == "FAILED";
  return s;
}

Result<EngineJobState> ParseKubectlJob(const std::string& text, int64_t workers) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("kind", "") != "Job") {
    return InvalidData("kubectl get job: unexpected answer");
  }
  EngineJobState s;
  s.tasks = j.contains("spec") ? j["spec"].value("completions", workers) : workers;
  nlohmann::json st = j.value("status", nlohmann::json::object());
  s.running = st.value("active", int64_t{0});
  s.succeeded = st.value("succeeded", int64_t{0});
  // With backoffLimitPerIndex, "failed" counts failed pods; failedIndexes
  // lists indexes that gave up, which is what a task failure is here.
  int64_t failed_indexes = 0;
  if (st.contains("failedIndexes")) {
    ForEachTaskId(st["failedIndexes"].get<std::string>(), [&](int64_t) { ++failed_indexes; });
  }
  s.failed = failed_indexes;
  s.pending = std::max<int64_t>(0, s.tasks - s.running - s.succeeded - s.failed);
  if (st.contains("conditions")) {
    for (const auto& c : st["conditions"]) {
      if (c.value("status", "") != "True") continue;
      std::string type = c.value("type", "");
      if (type == "Complete" || type == "Failed") {
        s.finished = true;
        s.engine_state = type;
      } else if (type == "Suspended") {
        s.engine_state = type;
      }
    }
  }
  if (s.finished) s.pending = 0;
  if (s.engine_state.empty()) s.engine_state = s.running ? "Running" : "Pending";
  return s;
}

Result<EngineJobState> QuerySubmittedJob(const SubmitRecord& r) {
  switch (r.engine) {
    case Engine::kSlurm: {
      std::map<int64_t, std::string> states;
      // Finished tasks first (sacct, or scontrol without accounting), then
      // the live view, which wins.
      auto acct = RunProgram({"sacct", "-n", "-P", "-X", "-j", r.job_id, "-o", "JobID,State"});
      if (acct.ok() && acct->exit_code == 0) ParseSacctLines(acct->out, r.job_id, states);
      auto sc = RunProgram({"scontrol", "show", "job", "-o", r.job_id});
      if (sc.ok() && sc->exit_code == 0) ParseScontrolLines(sc->out, states);
      FB_ASSIGN_OR_RETURN(auto q, RunEngineTool({"squeue", "-h", "-r", "-j", r.job_id, "-o", "%K|%T"}, "",
                                                "run on a Slurm login node"));
      ParseSqueueLines(q.out, states);
      return SlurmJobState(states, r.workers);
    }
    case Engine::kAwsBatch: {
      FB_ASSIGN_OR_RETURN(
          auto out, RunEngineTool({"aws", "batch", "describe-jobs", "--output", "json", "--jobs", r.job_id},
                                  "", "install the AWS CLI"));
      return ParseAwsDescribeJobs(out.out, r.workers);
    }
    case Engine::kKubernetes: {
      std::vector<std::string> cmd = {"kubectl", "get", "job", r.job_id, "-o", "json"};
      if (!r.k8s_namespace.empty()) {
        cmd.push_back("-n");
        cmd.push_back(r.k8s_namespace);
      }
      FB_ASSIGN_OR_RETURN(auto out, RunEngineTool(cmd, "", "install kubectl"));
      return ParseKubectlJob(out.out, r.workers);
    }
  }
  return Internal("unknown engine");
}

nlohmann::json EngineJobStateToJson(const EngineJobState& s) {
  nlohmann::json j = {{"tasks", s.tasks},
                      {"pending", s.pending},
                      {"running", s.running},
                      {"succeeded", s.succeeded},
                      {"failed", s.failed},
                      {"finished", s.finished},
                      {"engine_state", s.engine_state}};
  if (!s.task_states.empty()) {
    nlohmann::json t = nlohmann::json::object();
    for (const auto& [i, st] : s.task_states) t[std::to_string(i)] = st;
    j["task_states"] = t;
  }
  return j;
}

std::string EngineJobStateLine(const EngineJobState& s) {
  return fmt::format("{}: {} tasks: {} pending, {} running, {} succeeded, {} failed{}", s.engine_state,
                     s.tasks, s.pending, s.running, s.succeeded, s.failed, s.finished ? " (finished)" : "");
}

}  // namespace fb
