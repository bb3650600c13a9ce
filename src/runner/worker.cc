#include "runner/worker.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/atomic_file.h"
#include "runner/manifest.h"

namespace fb {
namespace {

// Whether another attempt at the same file could succeed: I/O and network
// failures may pass; a malformed input, an unsupported model or a bad option
// fails the same way every time.
bool WorthRetrying(const Status& s) { return s.code() == StatusCode::kIoError; }

}  // namespace

const char* FileStateName(FileState s) {
  switch (s) {
    case FileState::kRunning: return "running";
    case FileState::kDone: return "done";
    case FileState::kSkipped: return "skipped";
    case FileState::kFailed: return "failed";
    case FileState::kAbandoned: return "abandoned";
    case FileState::kRetrying: return "retrying";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

void DefaultSleep(double seconds, const std::atomic<bool>& stop) {
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!stop.load() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// Sets `cancel` once `stop` has been true for `grace` seconds.
class GraceWatchdog {
 public:
  GraceWatchdog(const std::atomic<bool>& stop, double grace, std::atomic<bool>& cancel)
      : thread_([this, &stop, grace, &cancel] {
          std::optional<Clock::time_point> since;
          while (!done_.load()) {
            if (stop.load()) {
              if (!since) since = Clock::now();
              if (Clock::now() - *since >= std::chrono::duration<double>(grace)) cancel.store(true);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }) {}
  ~GraceWatchdog() {
    done_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
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

std::string OutputRelativeFor(const WorkerConfig& c, const std::string& relative) {
  if (c.output_format) return OutputNameFor(relative, *c.output_format);
  return std::string(StripCompressionSuffix(relative));
}

Result<WorkerSummary> RunWorker(const WorkerConfig& c, Storage& in, Storage& out, FileExecutor& executor,
                                const std::atomic<bool>& stop, WorkerListener* listener,
                                const SleepFn& sleep_fn) {
  WorkerListener none;
  WorkerListener& l = listener ? *listener : none;
  const SleepFn sleep = sleep_fn ? sleep_fn : SleepFn(DefaultSleep);
  FB_RETURN_IF_ERROR(CheckInputOutput(c.input, c.output, /*allow_output_inside_input=*/true));
  FB_ASSIGN_OR_RETURN(auto files, ListInputs(in, c.input, c.output, c.filter));
  WorkerSummary sum;
  sum.total_files = files.size();
  std::vector<ObjectInfo> shard;
  for (size_t i : ShardFor(files, c.index, c.count, c.shard_by)) shard.push_back(files[i]);
  sum.shard_files = shard.size();
  l.OnShard(shard, files.size());

  // Temporaries left by killed earlier attempts at this task's outputs.
  if (!IsS3Uri(c.output)) {
    std::vector<std::string> targets;
    for (const auto& f : shard) {
      const std::string rel = OutputRelativeFor(c, f.relative);
      targets.push_back(rel);
      targets.push_back(ManifestPathFor(rel));
    }
    sum.temporaries_removed = RemoveStaleTemporaries(c.output, targets);
  }

  // Two inputs may name one output (a.csv and a.csv.gz both give a.csv): the
  // first in listing order owns it, in every task alike; the other fails.
  std::unordered_map<std::string, std::string> owner;
  for (const auto& f : files) owner.emplace(OutputRelativeFor(c, f.relative), f.relative);

  std::atomic<bool> cancel{false};
  GraceWatchdog watchdog(stop, c.grace_seconds, cancel);

  auto draining = [&c] { return c.drain != nullptr && c.drain->load(); };
  for (const auto& f : shard) {
    if (stop.load() || draining()) {
      sum.interrupted = true;
      break;
    }
    FileEvent ev;
    ev.relative = f.relative;
    ev.input = f.uri;
    const std::string out_rel = OutputRelativeFor(c, f.relative);
    if (const std::string& first = owner[out_rel]; first != f.relative) {
      ev.state = FileState::kFailed;
      ev.error = f.relative + ": its output " + out_rel + " is also the output of " + first;
      l.OnFile(ev);
      ++sum.failed;
      continue;
    }
    auto out_uri = JoinUnder(c.output, out_rel);
    if (!out_uri.ok()) {
      ev.state = FileState::kFailed;
      ev.error = out_uri.status().ToString();
      l.OnFile(ev);
      ++sum.failed;
      continue;
    }
    ev.output = *out_uri;
    const std::string manifest_uri = ManifestPathFor(ev.output);

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
      continue;
    }
    if (d == Decision::kConflict) {
      ev.state = FileState::kFailed;
      ev.error = ev.output + ": " + why;
      l.OnFile(ev);
      ++sum.failed;
      continue;
    }

    Status last;
    bool finished = false;
    for (int attempt = 1; attempt <= c.retries + 1 && !finished; ++attempt) {
      if (attempt > 1) {
        double wait = std::min(30.0, c.backoff_seconds * std::pow(2.0, attempt - 2));
        sleep(wait, stop);
        if (stop.load()) break;
      }
      ev.attempt = attempt;
      ev.state = FileState::kRunning;
      ev.error.clear();
      l.OnFile(ev);
      auto t0 = Clock::now();
      // A stale manifest must never vouch for the new output: drop it first.
      Status s = out.Delete(manifest_uri);
      Result<FileStats> r = s.ok() ? executor.Run(f.uri, ev.output, &cancel) : Result<FileStats>(s);
      if (r.ok()) {
        Manifest m;
        m.input = f.relative;
        m.input_bytes = f.size;
        m.input_mtime_ns = f.mtime_ns;
        m.model_sha256 = c.model_sha256;
        m.options = c.options;
        m.rows = r->rows;
        m.class_counts = r->class_counts;
        m.output_sha256 = r->output_sha256;
        m.output_bytes = r->output_bytes;
        m.read_seconds = r->read_seconds;
        m.predict_seconds = r->predict_seconds;
        m.write_seconds = r->write_seconds;
        m.total_seconds = r->total_seconds;
        m.attempts = attempt;
        m.job = c.job;
        m.finished_at = UtcNow();
        s = out.WriteAll(manifest_uri, m.ToJson());
        if (s.ok()) {
          ev.state = FileState::kDone;
          ev.stats = std::move(r).value();
          ev.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
          l.OnFile(ev);
          ++sum.done;
          sum.rows += ev.stats.rows;
          finished = true;
          break;
        }
        last = s;
      } else {
        last = r.status();
      }
      ev.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (last.code() == StatusCode::kCancelled || cancel.load()) {
        ev.state = FileState::kAbandoned;
        ev.error = last.ToString();
        l.OnFile(ev);
        ++sum.abandoned;
        sum.interrupted = true;
        finished = true;
        break;
      }
      // A malformed input or an unsupported option fails the same way every
      // time: only I/O and network failures are worth another attempt.
      ev.state = attempt <= c.retries && WorthRetrying(last) ? FileState::kRetrying : FileState::kFailed;
      ev.error = last.ToString();
      if (ev.state == FileState::kFailed) {
        ++sum.failed;
        finished = true;
      }
      l.OnFile(ev);
    }
    if (!finished) {  // stopped while waiting to retry
      ev.state = FileState::kAbandoned;
      ev.error = "stopped before retrying: " + last.ToString();
      l.OnFile(ev);
      ++sum.abandoned;
      sum.interrupted = true;
    }
    if (sum.interrupted) break;
  }
  if ((stop.load() || draining()) && sum.done + sum.skipped + sum.failed < sum.shard_files) {
    sum.interrupted = true;
  }
  return sum;
}

}  // namespace fb
