#include "runner/worker.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/atomic_file.h"
#include "runner/manifest.h"
#include "runner/process_identity.h"

namespace fb {
namespace {

// Whether another attempt at the same file could succeed: I/O and network
// failures may pass; a malformed input, an unsupported model or a bad option
// fails the same way every time.
bool WorthRetrying(const Status& s) { return s.code() == StatusCode::kIoError; }

using Clock = std::chrono::steady_clock;

void DefaultSleep(double seconds, const std::atomic<bool>& stop) {
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!stop.load() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// Sets `cancel` once `stop` has been true for `grace` seconds. Looks at
// `stop` (set by a signal handler) every 20 ms; its end wakes it at once, so
// a worker does not wait up to 20 ms more to exit.
class GraceWatchdog {
 public:
  GraceWatchdog(const std::atomic<bool>& stop, double grace, std::atomic<bool>& cancel)
      : thread_([this, &stop, grace, &cancel] {
          std::optional<Clock::time_point> since;
          std::unique_lock<std::mutex> lock(mu_);
          while (!done_) {
            if (stop.load()) {
              if (!since) since = Clock::now();
              if (Clock::now() - *since >= std::chrono::duration<double>(grace)) cancel.store(true);
            }
            cv_.wait_for(lock, std::chrono::milliseconds(20));
          }
        }) {}
  ~GraceWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// True when no live process has this pid. A killed worker whose parent died
// too may linger as a zombie until init reaps it: that counts as gone.
bool ProcessGone(long pid) {
  if (pid <= 0) return true;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return false;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');  // the command name may hold spaces
  return close != nullptr && (close[1] == ' ') && (close[2] == 'Z' || close[2] == 'X');
}

}  // namespace

size_t RemoveStaleTemporaries(const std::string& root, const std::vector<std::string>& targets) {
  namespace fs = std::filesystem;
  // Temporaries are recognised by their prefix (TemporaryPrefixFor), which
  // a long target name shortens: map each target's prefix back to it.
  std::unordered_set<std::string> mine;
  for (const std::string& t : targets) {
    const fs::path rel(t);
    mine.insert((rel.parent_path() / TemporaryPrefixFor(rel.filename().string())).generic_string());
  }
  size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::string_view prefix;
    long pid = 0;
    if (!ParseTemporaryName(name, &prefix, &pid)) continue;
    fs::path rel = it->path().lexically_relative(root).parent_path() / std::string(prefix);
    if (!mine.count(rel.generic_string())) continue;
    if (pid == ::getpid() || !ProcessGone(pid)) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

namespace {

// RemoveStaleTemporaries for one target: only its own folder is read.
size_t RemoveStaleTemporariesOf(const std::string& root, const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path full = fs::path(root) / target;
  const std::string prefix = TemporaryPrefixFor(full.filename().string());
  size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(full.parent_path(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::string_view p;
    long pid = 0;
    if (!ParseTemporaryName(name, &p, &pid) || p != prefix) continue;
    if (pid == ::getpid() || !ProcessGone(pid)) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

}  // namespace

std::string OutputRelativeFor(const WorkerConfig& c, const std::string& relative) {
  if (c.output_format) return OutputNameFor(relative, *c.output_format);
  return std::string(StripCompressionSuffix(relative));
}

namespace {

enum class FileOutcome : uint8_t { kDone, kSkipped, kFailed, kAbandoned, kLost, kPending };

// Renews a held claim every `interval` seconds until destroyed; when the
// claim is lost, sets `lost` and `cancel` so the executor gives up the file.
class ClaimHeartbeat {
 public:
  ClaimHeartbeat(ClaimBook& book, std::string file, double interval, std::atomic<bool>& lost,
                 std::atomic<bool>& cancel)
      : thread_([this, &book, file = std::move(file), interval, &lost, &cancel] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, std::chrono::duration<double>(interval), [this] { return done_; })) {
            lock.unlock();
            Status s = book.Renew(file);
            lock.lock();
            // Other errors (a flaky store) are retried at the next beat; the
            // lease is several beats long.
            if (s.code() == StatusCode::kCancelled) {
              lost.store(true);
              cancel.store(true);
              return;
            }
          }
        }) {}
  ~ClaimHeartbeat() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

Result<WorkerSummary> RunWorker(const WorkerConfig& c, Storage& in, Storage& out, FileExecutor& executor,
                                const std::atomic<bool>& stop, WorkerListener* listener,
                                const SleepFn& sleep_fn) {
  WorkerListener none;
  WorkerListener& l = listener ? *listener : none;
  const SleepFn sleep = sleep_fn ? sleep_fn : SleepFn(DefaultSleep);
  const bool dynamic = c.schedule == Schedule::kDynamic;
  FB_RETURN_IF_ERROR(CheckInputOutput(c.input, c.output, /*allow_output_inside_input=*/true));
  if (dynamic && c.claims_root.empty()) return InvalidArgument("--schedule dynamic needs a claims folder");
  if (dynamic && !(c.lease_seconds > 0)) return InvalidArgument("--lease must be positive");
  FB_ASSIGN_OR_RETURN(auto files, ListInputs(in, c.input, c.output, c.filter));
  WorkerSummary sum;
  sum.total_files = files.size();

  std::optional<ClaimBook> book;
  std::vector<ObjectInfo> shard;
  if (dynamic) {
    book.emplace(c.claims_storage ? *c.claims_storage : out, c.claims_root,
                 ClaimOptions{c.lease_seconds, c.index, c.job, nullptr});
    FB_RETURN_IF_ERROR(book->Probe());
    l.OnDynamic(files.size(), c.claims_root);
  } else {
    for (size_t i : ShardFor(files, c.index, c.count, c.shard_by)) shard.push_back(files[i]);
    sum.shard_files = shard.size();
    l.OnShard(shard, files.size());
    // Temporaries left by killed earlier attempts at this task's outputs.
    // (With claims, each file's own, once claimed: see below.)
    if (!IsS3Uri(c.output)) {
      std::vector<std::string> targets;
      for (const auto& f : shard) {
        const std::string rel = OutputRelativeFor(c, f.relative);
        targets.push_back(rel);
        targets.push_back(ManifestPathFor(rel));
      }
      sum.temporaries_removed = RemoveStaleTemporaries(c.output, targets);
    }
  }

  // Two inputs may name one output (a.csv and a.csv.gz both give a.csv): the
  // first in listing order owns it, in every task alike; the other fails.
  std::unordered_map<std::string, std::string> owner;
  for (const auto& f : files) owner.emplace(OutputRelativeFor(c, f.relative), f.relative);

  std::atomic<bool> cancel{false};
  GraceWatchdog watchdog(stop, c.grace_seconds, cancel);
  std::atomic<bool> lost{false};  // the current file's claim was taken over
  const std::string host = CurrentProcess().host;

  // A file whose output is predicted and written but still being committed,
  // and its manifest written, on another thread: with the static schedule
  // and a local output, the fsyncs and renames of one file (the wait for the
  // disk) overlap the next file's prediction. The file is recorded done only
  // once both are on disk, as when the commit runs inline.
  struct CommitResult {
    Status status;
    double seconds = 0;  // the output's commit
  };
  struct Deferred {
    ObjectInfo f;
    FileEvent ev;
    int attempt = 0;
    Clock::time_point t0;
    std::future<CommitResult> done;
  };
  const bool defer_commits = !dynamic && !IsS3Uri(c.output);

  auto manifest_for = [&](const ObjectInfo& f, const FileStats& st, int attempt) {
    Manifest m;
    m.input = f.relative;
    m.input_bytes = f.size;
    m.input_mtime_ns = f.mtime_ns;
    m.model_sha256 = c.model_sha256;
    m.options = c.options;
    m.rows = st.rows;
    m.class_counts = st.class_counts;
    m.output_sha256 = st.output_sha256;
    m.output_bytes = st.output_bytes;
    m.read_seconds = st.read_seconds;
    m.predict_seconds = st.predict_seconds;
    m.write_seconds = st.write_seconds;
    m.total_seconds = st.total_seconds;
    m.attempts = attempt;
    m.job = c.job;
    m.task = c.index;
    m.host = host;
    m.finished_at = UtcNow();
    return m;
  };
  // Commits a prepared output (if the executor left it uncommitted), then
  // writes its manifest: never a manifest for an output not yet in place.
  auto commit_file = [&out](std::unique_ptr<PendingOutput> output, const std::string& input_uri,
                            const std::string& manifest_uri, Manifest m) -> CommitResult {
    CommitResult r;
    if (output != nullptr) {
      const auto t = Clock::now();
      r.status = output->Commit();
      if (!r.status.ok()) {
        r.status.WithPath(input_uri);
        return r;
      }
      r.seconds = std::chrono::duration<double>(Clock::now() - t).count();
      m.write_seconds += r.seconds;
      m.total_seconds += r.seconds;
    }
    r.status = out.WriteAll(manifest_uri, m.ToJson());
    return r;
  };
  // After a failed attempt (ev.seconds set): the file's outcome, or nullopt
  // when it is worth another attempt.
  auto after_failure = [&](FileEvent& ev, const Status& last, int attempt) -> std::optional<FileOutcome> {
    if (lost.load() && !stop.load()) {
      // Another task took the claim over: it makes this output now.
      ev.state = FileState::kAbandoned;
      ev.error = "claim lost to another task; leaving the file to it";
      l.OnFile(ev);
      return FileOutcome::kLost;
    }
    if (last.code() == StatusCode::kCancelled || cancel.load()) {
      ev.state = FileState::kAbandoned;
      ev.error = last.ToString();
      l.OnFile(ev);
      ++sum.abandoned;
      sum.interrupted = true;
      return FileOutcome::kAbandoned;
    }
    // A malformed input or an unsupported option fails the same way every
    // time: only I/O and network failures are worth another attempt.
    ev.state = attempt <= c.retries && WorthRetrying(last) ? FileState::kRetrying : FileState::kFailed;
    ev.error = last.ToString();
    l.OnFile(ev);
    if (ev.state == FileState::kFailed) {
      ++sum.failed;
      return FileOutcome::kFailed;
    }
    return std::nullopt;
  };

  // Makes one file's output (or skips or fails it); `ev` is filled for the
  // caller's records. From `first_attempt` > 1: the attempts after a failed
  // one (ev as it left). With `deferred` set, a prepared output's commit and
  // manifest go to another thread: the outcome is kPending and *deferred
  // holds the file until Collect.
  std::function<FileOutcome(const ObjectInfo&, FileEvent&, int, std::optional<Deferred>*)> process =
      [&](const ObjectInfo& f, FileEvent& ev, int first_attempt,
          std::optional<Deferred>* deferred) -> FileOutcome {
    const std::string out_rel = OutputRelativeFor(c, f.relative);
    if (first_attempt == 1) {
      ev.relative = f.relative;
      ev.input = f.uri;
      if (const std::string& first = owner[out_rel]; first != f.relative) {
        ev.state = FileState::kFailed;
        ev.error = f.relative + ": its output " + out_rel + " is also the output of " + first;
        l.OnFile(ev);
        ++sum.failed;
        return FileOutcome::kFailed;
      }
      auto out_uri = JoinUnder(c.output, out_rel);
      if (!out_uri.ok()) {
        ev.state = FileState::kFailed;
        ev.error = out_uri.status().ToString();
        l.OnFile(ev);
        ++sum.failed;
        return FileOutcome::kFailed;
      }
      ev.output = *out_uri;
    }
    const std::string manifest_uri = ManifestPathFor(ev.output);

    if (first_attempt == 1) {
      auto existing = Inspect(out, ev.output, c.verify);
      std::string why;
      Decision d = Decision::kProcess;
      if (existing.ok()) d = Decide(*existing, f, c.model_sha256, c.options, c.overwrite, &why);
      if (d == Decision::kSkip) {
        ev.state = FileState::kSkipped;
        ev.error = why;
        ev.stats.rows = existing->manifest->rows;
        ev.stats.class_counts = existing->manifest->class_counts;
        ev.stats.output_sha256 = existing->manifest->output_sha256;
        ev.stats.output_bytes = existing->manifest->output_bytes;
        l.OnFile(ev);
        ++sum.skipped;
        return FileOutcome::kSkipped;
      }
      if (d == Decision::kConflict) {
        ev.state = FileState::kFailed;
        ev.error = ev.output + ": " + why;
        l.OnFile(ev);
        ++sum.failed;
        return FileOutcome::kFailed;
      }
    }

    Status last;
    for (int attempt = first_attempt; attempt <= c.retries + 1; ++attempt) {
      if (attempt > 1) {
        double wait = std::min(30.0, c.backoff_seconds * std::pow(2.0, attempt - 2));
        sleep(wait, stop);
        if (stop.load()) break;
        if (lost.load()) return FileOutcome::kLost;
      }
      ev.attempt = attempt;
      ev.state = FileState::kRunning;
      if (attempt > 1) ev.error.clear();  // the first may carry a takeover note
      l.OnFile(ev);
      ev.error.clear();
      auto t0 = Clock::now();
      // A stale manifest must never vouch for the new output: drop it first.
      Status s = out.Delete(manifest_uri);
      Result<PreparedFile> r = s.ok() ? executor.Prepare(f.uri, ev.output, &cancel) : Result<PreparedFile>(s);
      if (r.ok()) {
        Manifest m = manifest_for(f, r->stats, attempt);
        if (deferred != nullptr && r->output != nullptr) {
          ev.stats = std::move(r->stats);
          Deferred& d = deferred->emplace();
          d.f = f;
          d.ev = ev;
          d.attempt = attempt;
          d.t0 = t0;
          d.done = std::async(std::launch::async, commit_file, std::move(r->output), f.uri, manifest_uri,
                              std::move(m));
          return FileOutcome::kPending;
        }
        CommitResult cr = commit_file(std::move(r->output), f.uri, manifest_uri, std::move(m));
        if (cr.status.ok()) {
          ev.state = FileState::kDone;
          ev.stats = std::move(r->stats);
          ev.stats.write_seconds += cr.seconds;
          ev.stats.total_seconds += cr.seconds;
          ev.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
          l.OnFile(ev);
          ++sum.done;
          sum.rows += ev.stats.rows;
          return FileOutcome::kDone;
        }
        last = cr.status;
      } else {
        last = r.status();
      }
      ev.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (auto outcome = after_failure(ev, last, attempt)) return *outcome;
    }
    // Stopped while waiting to retry.
    ev.state = FileState::kAbandoned;
    ev.error = "stopped before retrying: " + last.ToString();
    l.OnFile(ev);
    ++sum.abandoned;
    sum.interrupted = true;
    return FileOutcome::kAbandoned;
  };

  // Waits for a deferred file's commit and records it: done, or a failed
  // attempt, retried here (inline) when worth it. Returns its outcome.
  auto collect = [&](std::optional<Deferred>& pending) -> FileOutcome {
    if (!pending) return FileOutcome::kDone;
    Deferred d = std::move(*pending);
    pending.reset();
    const CommitResult cr = d.done.get();
    d.ev.seconds = std::chrono::duration<double>(Clock::now() - d.t0).count();
    if (cr.status.ok()) {
      d.ev.state = FileState::kDone;
      d.ev.stats.write_seconds += cr.seconds;
      d.ev.stats.total_seconds += cr.seconds;
      l.OnFile(d.ev);
      ++sum.done;
      sum.rows += d.ev.stats.rows;
      return FileOutcome::kDone;
    }
    d.ev.stats = FileStats();
    if (auto outcome = after_failure(d.ev, cr.status, d.attempt)) return *outcome;
    return process(d.f, d.ev, d.attempt + 1, nullptr);
  };

  auto draining = [&c] { return c.drain != nullptr && c.drain->load(); };
  if (!dynamic) {
    std::optional<Deferred> pending;  // the previous file, while its commit runs
    for (const auto& f : shard) {
      if (stop.load() || draining()) {
        sum.interrupted = true;
        break;
      }
      FileEvent ev;
      std::optional<Deferred> next;
      const FileOutcome outcome = process(f, ev, 1, defer_commits ? &next : nullptr);
      const FileOutcome previous = collect(pending);
      pending = std::move(next);
      if (outcome == FileOutcome::kAbandoned || previous == FileOutcome::kAbandoned) break;
    }
    collect(pending);
    if ((stop.load() || draining()) && sum.done + sum.skipped + sum.failed < sum.shard_files) {
      sum.interrupted = true;
    }
    return sum;
  }

  // Dynamic: passes over the sorted list, claiming every file nobody holds,
  // until every file is finished (done or failed by some task). When all
  // open files are held by others, wait and look again: one of them may die
  // and leave its files to this task.
  const double beat = std::max(0.01, c.lease_seconds / 6);
  const double poll_max = c.poll_seconds > 0 ? c.poll_seconds : std::min(1.0, beat);
  const double poll_min = std::min(0.05, poll_max);
  double poll = poll_min;
  std::vector<bool> finished(files.size(), false);
  size_t open = files.size();
  int errors_in_a_row = 0;
  Status last_error;
  while (open > 0) {
    bool claimed_any = false;
    for (size_t i = 0; i < files.size() && open > 0; ++i) {
      if (finished[i]) continue;
      if (stop.load() || draining()) {
        sum.interrupted = true;
        return sum;
      }
      auto attempt = book->TryClaim(files[i].relative);
      if (!attempt.ok()) {
        // A flaky store: the file stays open for a later pass; a store that
        // keeps failing stops the task.
        last_error = attempt.status();
        if (++errors_in_a_row >= 20) return last_error;
        continue;
      }
      errors_in_a_row = 0;
      if (attempt->outcome == ClaimOutcome::kFinished) {
        finished[i] = true;
        --open;
        continue;
      }
      if (attempt->outcome == ClaimOutcome::kHeld) continue;
      claimed_any = true;
      ++sum.shard_files;
      // Temporaries of this file's output left by killed writers. Any other
      // writer of it has lost its claim: removing its temporary only makes
      // its late commit fail.
      if (!IsS3Uri(c.output)) {
        const std::string rel = OutputRelativeFor(c, files[i].relative);
        sum.temporaries_removed += RemoveStaleTemporariesOf(c.output, rel);
        sum.temporaries_removed += RemoveStaleTemporariesOf(c.output, ManifestPathFor(rel));
      }
      FileEvent ev;
      if (attempt->takeover) {
        ++sum.takeovers;
        const ClaimRecord& was = *attempt->record;
        ev.error = "took over the claim of task " + std::to_string(was.task) + " (" + was.owner.Describe() +
                   (was.state == ClaimState::kClaimed ? ")" : std::string(", ") + StateName(was.state) + ")");
      }
      lost.store(false);
      FileOutcome outcome;
      {
        ClaimHeartbeat heartbeat(*book, files[i].relative, beat, lost, cancel);
        outcome = process(files[i], ev, 1, nullptr);
      }
      Status recorded;
      switch (outcome) {
        case FileOutcome::kDone:
        case FileOutcome::kPending:  // (never: with claims every commit is inline)
        case FileOutcome::kSkipped: recorded = book->Finish(files[i].relative, true); break;
        case FileOutcome::kFailed: recorded = book->Finish(files[i].relative, false, ev.error); break;
        case FileOutcome::kAbandoned: (void)book->Abandon(files[i].relative); return sum;
        case FileOutcome::kLost:
          ++sum.lost;
          --sum.shard_files;
          if (!stop.load()) cancel.store(false);
          continue;  // still open: its new owner may die too
      }
      // The output and manifest are written: a claim that cannot be marked
      // done only costs another task a manifest check.
      (void)recorded;
      finished[i] = true;
      --open;
    }
    if (claimed_any) poll = poll_min;
    if (open > 0 && !claimed_any) {
      sleep(poll, stop);
      poll = std::min(poll_max, 2 * poll);
      if (stop.load() || draining()) {
        sum.interrupted = true;
        return sum;
      }
    }
  }
  return sum;
}

}  // namespace fb
