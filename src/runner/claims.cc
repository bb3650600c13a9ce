#include "runner/claims.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/sha256.h"

namespace fb {

using json = nlohmann::json;

Result<Schedule> ParseSchedule(std::string_view s) {
  if (s == "static") return Schedule::kStatic;
  if (s == "dynamic") return Schedule::kDynamic;
  return InvalidArgument("unknown schedule '" + std::string(s) + "' (static or dynamic)");
}

const char* ScheduleName(Schedule s) { return s == Schedule::kDynamic ? "dynamic" : "static"; }

namespace {

std::string RandomToken() { return RandomHex(16); }

bool SameProcess(const ProcessIdentity& a, const ProcessIdentity& b) {
  return a.pid == b.pid && a.start_ticks == b.start_ticks && a.host == b.host && a.boot_id == b.boot_id &&
         a.pid_namespace == b.pid_namespace;
}

}  // namespace

std::string ClaimRecord::ToJson() const {
  json j = {{"file", file},
            {"state", StateName(state)},
            {"task", task},
            {"job", job},
            {"owner", json::parse(owner.ToJson())},
            {"token", token},
            {"renewals", renewals}};
  if (!error.empty()) j["error"] = error;
  return j.dump() + "\n";
}

Result<ClaimRecord> ClaimRecord::FromJson(std::string_view text, const std::string& name) {
  try {
    json j = json::parse(text);
    ClaimRecord r;
    r.file = j.at("file").get<std::string>();
    Result<ClaimState> state = ReadState<ClaimState>(j.at("state").get<std::string>());
    if (!state.ok()) return InvalidData("bad claim: " + state.status().message()).At(name);
    r.state = *state;
    r.task = j.at("task").get<int64_t>();
    r.job = j.at("job").get<std::string>();
    FB_ASSIGN_OR_RETURN(r.owner, ProcessIdentity::FromJson(j.at("owner").dump()));
    r.token = j.at("token").get<std::string>();
    r.renewals = j.at("renewals").get<int64_t>();
    if (j.contains("error")) r.error = j.at("error").get<std::string>();
    return r;
  } catch (const std::exception& e) {
    return InvalidData(std::string("bad claim: ") + e.what()).At(name);
  }
}

ClaimBook::ClaimBook(Storage& storage, std::string root, ClaimOptions options)
    : storage_(storage), root_(std::move(root)), o_(std::move(options)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

double ClaimBook::Now() const {
  if (o_.now) return o_.now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string ClaimBook::ClaimUri(const std::string& file) const {
  // A hash keeps every claim one flat, short, safe name whatever the input's
  // path; the record inside names the file.
  return root_ + "/" + Sha256Hex(file).substr(0, 40) + ".claim";
}

Result<std::optional<ClaimRecord>> ClaimBook::Read(const std::string& uri) {
  auto text = storage_.ReadAll(uri);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<ClaimRecord>();
    return text.status();
  }
  FB_ASSIGN_OR_RETURN(ClaimRecord r, ClaimRecord::FromJson(*text, uri));
  return std::optional<ClaimRecord>(std::move(r));
}

ClaimRecord ClaimBook::Fresh(const std::string& file, ClaimState state) const {
  ClaimRecord r;
  r.file = file;
  r.state = state;
  r.task = o_.task;
  r.job = o_.job;
  r.owner = CurrentProcess();
  r.token = RandomToken();
  return r;
}

Status ClaimBook::Probe() {
  const std::string probe = root_ + "/.probe-" + RandomToken();
  Status s = storage_.WriteIfAbsent(probe, "probe\n");
  if (s.code() == StatusCode::kUnsupported) {
    return Unsupported("--schedule dynamic needs atomic claims under " + root_ + ": " + s.ToString() +
                       "; use --schedule static, or put the claims on a file system with hard links "
                       "or an S3 store with conditional writes (--claims)");
  }
  FB_RETURN_IF_ERROR(s);
  Status again = storage_.WriteIfAbsent(probe, "probe\n");
  (void)storage_.Delete(probe);
  if (again.code() == StatusCode::kAlreadyExists) return Status::Ok();
  if (again.ok() || again.code() == StatusCode::kUnsupported) {
    return Unsupported("--schedule dynamic needs atomic claims, but " + root_ +
                       " accepted a second exclusive create of one object (a store that ignores "
                       "If-None-Match); use --schedule static, or keep the claims on a shared file "
                       "system (--claims DIR)");
  }
  return again;
}

bool ClaimBook::Expired(const std::string& key, const std::string& token, int64_t renewals) {
  const double now = Now();
  auto it = seen_.find(key);
  if (it == seen_.end() || it->second.token != token || it->second.renewals != renewals) {
    seen_[key] = {token, renewals, now};
    return false;
  }
  return now - it->second.since >= o_.lease_seconds;
}

Result<ClaimAttempt> ClaimBook::TryClaim(const std::string& file) {
  const std::string uri = ClaimUri(file);
  ClaimAttempt a;
  FB_ASSIGN_OR_RETURN(auto found, Read(uri));
  if (!found) {
    ClaimRecord mine = Fresh(file, ClaimState::kClaimed);
    Status s = storage_.WriteIfAbsent(uri, mine.ToJson());
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      held_[file] = mine;
      a.outcome = ClaimOutcome::kClaimed;
      return a;
    }
    if (s.code() != StatusCode::kAlreadyExists) return s;
    FB_ASSIGN_OR_RETURN(found, Read(uri));  // who won
    if (!found) return a;                   // released meanwhile: try again on the next pass
    // A retried create whose first try succeeded (its answer lost on the
    // way back) is refused by its own claim: the token tells.
    if (found->token == mine.token) {
      std::lock_guard<std::mutex> lock(mu_);
      held_[file] = mine;
      a.outcome = ClaimOutcome::kClaimed;
      return a;
    }
  }
  if (found->file != file)
    return InvalidData("claim names '" + found->file + "', not '" + file + "'").At(uri);
  a.record = found;
  if (found->state == ClaimState::kDone) {
    a.outcome = ClaimOutcome::kFinished;
    return a;
  }
  // A failure recorded by this run's tasks is final for this run; a rerun
  // uses another claims root.
  if (found->state == ClaimState::kFailed) {
    a.outcome = ClaimOutcome::kFinished;
    return a;
  }
  const bool dead = CheckLiveness(found->owner) == Liveness::kDead;
  if (SameProcess(found->owner, CurrentProcess())) {
    std::lock_guard<std::mutex> lock(mu_);
    auto h = held_.find(file);
    if (h != held_.end() && h->second.token == found->token) return a;  // ours, being worked on
  }
  if (!dead && !Expired(uri, found->token, found->renewals)) return a;

  // Take over. One contender wins the mark; a mark whose taker died between
  // winning it and replacing the claim is removed once this reader has seen
  // it stay for a whole lease.
  const std::string mark = uri + ".takeover." + found->token + "." + std::to_string(found->renewals);
  ClaimRecord mine = Fresh(file, ClaimState::kClaimed);
  Status m = storage_.WriteIfAbsent(mark, mine.ToJson());
  if (m.code() == StatusCode::kAlreadyExists) {
    if (Expired(mark, "mark", 0)) (void)storage_.Delete(mark);
    return a;
  }
  FB_RETURN_IF_ERROR(m);
  auto still = Read(uri);
  Status result = still.status();
  bool won = false;
  if (still.ok() && *still && (*still)->token == found->token && (*still)->renewals == found->renewals) {
    result = storage_.WriteAll(uri, mine.ToJson());
    won = result.ok();
  }
  (void)storage_.Delete(mark);
  FB_RETURN_IF_ERROR(result);
  if (!won) return a;
  seen_.erase(uri);
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_[file] = mine;
  }
  a.outcome = ClaimOutcome::kClaimed;
  a.takeover = true;
  return a;
}

Status ClaimBook::Renew(const std::string& file) {
  ClaimRecord mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto h = held_.find(file);
    if (h == held_.end()) return Cancelled("claim lost: not held").At(ClaimUri(file));
    mine = h->second;
  }
  const std::string uri = ClaimUri(file);
  FB_ASSIGN_OR_RETURN(auto now, Read(uri));
  if (!now || now->token != mine.token) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(file);
    return Cancelled("claim lost: " + (now ? "taken over by task " + std::to_string(now->task) + " (" +
                                                 now->owner.Describe() + ")"
                                           : std::string("removed")))
        .At(uri);
  }
  ++mine.renewals;
  FB_RETURN_IF_ERROR(storage_.WriteAll(uri, mine.ToJson()));
  std::lock_guard<std::mutex> lock(mu_);
  auto h = held_.find(file);
  if (h != held_.end() && h->second.token == mine.token) h->second.renewals = mine.renewals;
  return Status::Ok();
}

Status ClaimBook::Finish(const std::string& file, bool ok, const std::string& error) {
  ClaimRecord mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto h = held_.find(file);
    if (h != held_.end()) mine = h->second;
    held_.erase(file);
  }
  const std::string uri = ClaimUri(file);
  if (mine.token.empty()) mine = Fresh(file, ClaimState::kClaimed);
  if (!ok) {
    FB_ASSIGN_OR_RETURN(auto now, Read(uri));
    if (!now || now->token != mine.token) return Status::Ok();  // another task works on it now
  }
  mine.state = ok ? ClaimState::kDone : ClaimState::kFailed;
  mine.error = ok ? "" : error;
  return storage_.WriteAll(uri, mine.ToJson());
}

Status ClaimBook::Abandon(const std::string& file) {
  ClaimRecord mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto h = held_.find(file);
    if (h == held_.end()) return Status::Ok();
    mine = h->second;
    held_.erase(h);
  }
  const std::string uri = ClaimUri(file);
  FB_ASSIGN_OR_RETURN(auto now, Read(uri));
  if (!now || now->token != mine.token) return Status::Ok();
  return storage_.Delete(uri);
}

Result<std::map<std::string, ClaimRecord>> ClaimBook::ReadAll() {
  std::map<std::string, ClaimRecord> out;
  auto list = storage_.List(root_);
  if (!list.ok()) {
    if (list.status().code() == StatusCode::kNotFound) return out;
    return list.status();
  }
  for (const ObjectInfo& o : *list) {
    if (o.relative.size() < 6 || o.relative.compare(o.relative.size() - 6, 6, ".claim") != 0) continue;
    auto r = Read(o.uri);
    if (!r.ok() || !*r) continue;  // removed meanwhile, or a half-written probe
    out[(*r)->file] = **r;
  }
  return out;
}

Result<std::string> ClaimsRootFor(const std::string& explicit_root, const std::string& output,
                                  const std::string& job, const GetEnv& getenv_in) {
  if (!explicit_root.empty()) return explicit_root;
  GetEnv env = getenv_in ? getenv_in : GetEnv([](const char* n) { return std::getenv(n); });
  auto var = [&env](const char* n) {
    const char* v = env(n);
    return std::string(v ? v : "");
  };
  std::string run = var("FORESTBATCH_RUN_ID");
  if (run.empty()) run = var("SLURM_ARRAY_JOB_ID");
  if (run.empty()) {
    run = var("AWS_BATCH_JOB_ID");
    if (const size_t colon = run.find(':'); colon != std::string::npos) run.resize(colon);
  }
  if (run.empty()) run = job;
  if (run.empty()) {
    return InvalidArgument(
        "--schedule dynamic: the tasks of one run must share a claims folder: give --claims, --job, or "
        "FORESTBATCH_RUN_ID (Slurm and AWS Batch set their own job ids)");
  }
  for (char& ch : run) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '_';
  }
  if (run.front() == '.') run.front() = '_';
  std::string base = output;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/.forestbatch-claims/" + run;
}

}  // namespace fb
