#include "scaleout/estimate.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/process.h"
#include "runner/job_report.h"
#include "runner/manifest.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

std::string Bytes(uint64_t b) {
  const double d = static_cast<double>(b);
  if (d >= 1e9) return fmt::format("{:.1f} GB", d / 1e9);
  if (d >= 1e6) return fmt::format("{:.1f} MB", d / 1e6);
  if (d >= 1e3) return fmt::format("{:.1f} kB", d / 1e3);
  return fmt::format("{} bytes", b);
}

std::string Amount(double a) {
  if (a == 0) return "0";
  if (std::fabs(a) >= 1) return fmt::format("{:.2f}", a);
  const int decimals = std::min(12, 2 - static_cast<int>(std::floor(std::log10(std::fabs(a)))));
  return fmt::format("{:.{}f}", a, decimals);
}

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "this machine's CPU";
}

std::string Tail(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > n ? "..." + s.substr(s.size() - n) : s;
}

}  // namespace

Result<EstimateJob> ParseEstimateJob(const std::vector<std::string>& args,
                                     const std::vector<std::pair<std::string, std::string>>& env) {
  EstimateJob job;
  // Options a sample run sets itself: dropped with their values.
  const std::vector<std::string> replaced = {
      "--input",        "-i",        "--output", "-o",    "--index",
      "--count",        "--threads", "--state",  "--job", "--spot-notice",
      "--spot-endpoint"};
  std::string shard_by = "count";
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    const size_t eq = name.find('=');
    const bool inline_value = name.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const bool known = name == "--input" || name == "-i" || name == "--output" || name == "-o" ||
                       name == "--shard-by" || name == "--include" || name == "--exclude";
    const bool drop = std::find(replaced.begin(), replaced.end(), name) != replaced.end();
    size_t used = 1;
    if ((known || drop) && !inline_value) {
      if (i + 1 >= args.size()) return InvalidArgument(fmt::format("worker option {} needs a value", name));
      value = args[i + 1];
      used = 2;
    }
    if (name == "--input" || name == "-i") {
      job.input = value;
    } else if (name == "--output" || name == "-o") {
      job.output = value;
    } else if (name == "--shard-by") {
      shard_by = value;
    } else if (name == "--include") {
      job.filter.include.push_back(value);
    } else if (name == "--exclude") {
      job.filter.exclude.push_back(value);
    }
    if (!drop) job.sample_args.insert(job.sample_args.end(), args.begin() + i, args.begin() + i + used);
    i += used - 1;
  }
  for (const auto& [k, v] : env) {
    if (k == "INPUT_DIR" && job.input.empty()) job.input = v;
    if (k == "OUTPUT_DIR" && job.output.empty()) job.output = v;
  }
  if (job.input.empty())
    return InvalidArgument("--estimate needs the workers' --input (or --env INPUT_DIR=...)");
  FB_ASSIGN_OR_RETURN(job.shard_by, ParseShardBy(shard_by));
  return job;
}

const ObjectInfo& MedianSample(const std::vector<ObjectInfo>& files) {
  std::vector<size_t> order(files.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return files[a].size < files[b].size; });
  return files[order[(order.size() - 1) / 2]];
}

Result<SampleTiming> TimeSample(const std::string& self_exe, const EstimateJob& job, const ObjectInfo& sample,
                                int threads) {
  std::string tmpl = (fs::temp_directory_path() / "forestbatch-estimate-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return IoError(std::string("cannot make a temporary folder: ") + std::strerror(errno));
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  const std::string out_dir = (dir / "out").string();
  const std::string log = (dir / "worker.log").string();
  std::vector<std::string> a = {self_exe, "worker"};
  a.insert(a.end(), job.sample_args.begin(), job.sample_args.end());
  a.insert(a.end(), {"--input", sample.uri, "--output", out_dir, "--index", "0", "--count", "1", "--threads",
                     std::to_string(threads), "--spot-notice", "off"});
  ProcessSpec ps;
  ps.argv = a;
  ps.log_path = log;     // in a new temporary folder: a new file
  ps.own_group = false;  // a Ctrl-C during the estimate stops it too
  ps.exec_failure_message = "forestbatch: cannot run " + self_exe;
  auto processes = MakeProcessRunner();
  const auto t0 = std::chrono::steady_clock::now();
  FB_ASSIGN_OR_RETURN(const ProcessId pid, processes->Start(ps));
  FB_ASSIGN_OR_RETURN(const ProcessExit ended, processes->Wait(pid));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ended.exit_code != 0) {
    return IoError(fmt::format("the sample run on {} failed ({} {}): {}", sample.uri,
                               ended.signal == 0 ? "exit" : "signal",
                               ended.signal == 0 ? ended.exit_code : ended.signal, Tail(log, 2000)));
  }
  SampleTiming t;
  t.input = sample.uri;
  t.bytes = sample.size;
  t.threads = threads;
  t.wall_seconds = wall;
  t.cpu_seconds = ended.user_seconds + ended.sys_seconds;
  bool found = false;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || !IsManifestName(it->path().filename().string())) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    FB_ASSIGN_OR_RETURN(Manifest m, Manifest::Parse(ss.str(), it->path().string()));
    t.file_seconds = m.total_seconds;
    t.rows = m.rows;
    found = true;
  }
  if (!found)
    return IoError(fmt::format("the sample run on {} made no output: {}", sample.uri, Tail(log, 2000)));
  return t;
}

std::optional<double> Estimate::Cost() const {
  if (!price_per_vcpu_hour) return std::nullopt;
  return vcpu_seconds / 3600.0 * *price_per_vcpu_hour;
}

std::optional<double> Estimate::PerThousandFiles() const {
  auto c = Cost();
  if (!c || files == 0) return std::nullopt;
  return *c * 1000.0 / static_cast<double>(files);
}

Estimate ProjectEstimate(const std::vector<ObjectInfo>& files, int64_t workers, double vcpus,
                         ShardBy shard_by, const SampleTiming& s, std::optional<double> price) {
  Estimate e;
  e.files = static_cast<int64_t>(files.size());
  e.workers = workers;
  e.vcpus_per_task = vcpus;
  e.price_per_vcpu_hour = price;
  for (const auto& f : files) e.bytes += f.size;
  // The file's time at the task's vCPUs: linear in vCPUs from the threads it ran with.
  const double file_seconds = s.file_seconds * static_cast<double>(s.threads) / vcpus;
  e.startup_seconds = std::max(0.0, s.wall_seconds - s.file_seconds) * std::max(1.0, 1.0 / vcpus);
  e.seconds_per_byte = file_seconds / static_cast<double>(std::max<uint64_t>(1, s.bytes));
  for (const auto& shard : PlanShards(files, workers, shard_by)) {
    uint64_t bytes = 0;
    for (size_t i : shard) bytes += files[i].size;
    const double task = e.startup_seconds + static_cast<double>(bytes) * e.seconds_per_byte;
    e.most_files_per_task = std::max<int64_t>(e.most_files_per_task, static_cast<int64_t>(shard.size()));
    e.duration_seconds = std::max(e.duration_seconds, task);
    e.vcpu_seconds += vcpus * task;
  }
  e.assumptions = {
      fmt::format("a task's vCPU is as fast as one core of this machine ({})", CpuName()),
      fmt::format(
          "a file's time is proportional to its bytes, as for the sample ({} in {:.3f} s with {} thread{})",
          Bytes(s.bytes), s.file_seconds, s.threads, s.threads == 1 ? "" : "s"),
      fmt::format("each task pays the sample's start-up once (process, model load, listing: {:.3f} s{})",
                  e.startup_seconds, vcpus < 1 ? " at its share of a vCPU" : ""),
      fmt::format("all {} tasks run at once: no queueing, instance start-up, Spot interruptions or retries",
                  workers),
      "inputs are read as fast as this machine read the sample (S3 or a shared file system may differ)",
      "each task's vCPUs are paid for from its start to its end: vCPUs x task time, summed over tasks",
  };
  if (std::fabs(vcpus - static_cast<double>(s.threads)) > 1e-9) {
    e.assumptions.push_back(
        fmt::format("prediction time scales linearly with vCPUs: measured with {} thread{} here, projected "
                    "to {} vCPU per task",
                    s.threads, s.threads == 1 ? "" : "s", vcpus));
  }
  e.assumptions.push_back(
      price ? fmt::format("a price of {} per vCPU-hour, as given (never fetched)", Amount(*price))
            : std::string("no price given: --price-per-vcpu-hour or FORESTBATCH_PRICE "
                          "for the cost"));
  return e;
}

std::string EstimateReport(const Estimate& e, const SampleTiming& s) {
  std::string r = fmt::format("estimate: {} files ({}) on {} tasks x {} vCPU, at most {} files per task\n",
                              e.files, Bytes(e.bytes), e.workers, e.vcpus_per_task, e.most_files_per_task);
  r += fmt::format(
      "  sample: {} ({}, {} rows): {:.3f} s for the file, {:.3f} s for the whole worker, "
      "{:.3f} CPU-seconds, {} thread{}\n",
      s.input, Bytes(s.bytes), s.rows, s.file_seconds, s.wall_seconds, s.cpu_seconds, s.threads,
      s.threads == 1 ? "" : "s");
  r += fmt::format("  duration: {} (the slowest task)\n", FormatDuration(e.duration_seconds));
  r += fmt::format("  files per minute: {:.0f}\n",
                   e.duration_seconds > 0 ? static_cast<double>(e.files) / e.duration_seconds * 60 : 0.0);
  r += fmt::format("  vCPU-seconds: {:.1f} (reserved by the tasks while they run)\n", e.vcpu_seconds);
  if (auto c = e.Cost()) {
    r += fmt::format("  cost: {} at {} per vCPU-hour", Amount(*c), Amount(*e.price_per_vcpu_hour));
    if (auto k = e.PerThousandFiles()) r += fmt::format("; {} per 1,000 files", Amount(*k));
    r += "\n";
  }
  r += "assumptions:\n";
  for (const auto& a : e.assumptions) r += "  - " + a + "\n";
  return r;
}

EstimateRecord ToEstimateRecord(const Estimate& e, const SampleTiming& sample) {
  EstimateRecord r;
  r.made_at = UtcNow();
  r.files = e.files;
  r.workers = e.workers;
  r.vcpus_per_task = e.vcpus_per_task;
  r.duration_seconds = e.duration_seconds;
  r.vcpu_seconds = e.vcpu_seconds;
  r.price_per_vcpu_hour = e.price_per_vcpu_hour;
  r.sample = sample.input;
  r.assumptions = e.assumptions;
  return r;
}

Result<LocalRunEstimate> EstimateLocalRun(const std::string& self_exe, const JobSpec& spec,
                                          std::optional<double> price) {
  // The options a worker of this job gets (local_job.cc), less those a sample run sets.
  std::vector<std::string> args = {"--input",   spec.input,   "--output",
                                   spec.output, "--shard-by", ShardByName(spec.shard_by)};
  if (!spec.model.empty()) args.insert(args.end(), {"--model", spec.model});
  if (!spec.exec.empty()) args.insert(args.end(), {"--exec", spec.exec});
  if (spec.shell) args.push_back("--shell");
  for (const auto& g : spec.include) args.insert(args.end(), {"--include", g});
  for (const auto& g : spec.exclude) args.insert(args.end(), {"--exclude", g});
  args.insert(args.end(), spec.worker_args.begin(), spec.worker_args.end());
  FB_ASSIGN_OR_RETURN(EstimateJob job, ParseEstimateJob(args, {}));
  FB_ASSIGN_OR_RETURN(auto storage, StorageFor(job.input));
  FB_ASSIGN_OR_RETURN(auto files, ListInputs(*storage, job.input, job.output, job.filter));
  if (files.empty()) return NotFound("--estimate: no input files in " + job.input);
  const int threads = spec.ResolvedThreads();
  LocalRunEstimate out;
  FB_ASSIGN_OR_RETURN(out.sample, TimeSample(self_exe, job, MedianSample(files), threads));
  out.estimate = ProjectEstimate(files, spec.ResolvedWorkers(), static_cast<double>(threads), spec.shard_by,
                                 out.sample, price);
  if (spec.schedule == Schedule::kDynamic) {
    out.estimate.assumptions.push_back(
        "files are split among the workers as the static schedule would (dynamic claiming evens out the "
        "tasks, so the job may end sooner)");
  }
  return out;
}

Result<double> ParseVcpus(const std::string& text) {
  std::string t = text;
  double scale = 1;
  if (!t.empty() && t.back() == 'm') {
    t.pop_back();
    scale = 1e-3;
  }
  const bool plain =
      !t.empty() && t.size() < 16 &&
      std::all_of(t.begin(), t.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
      std::count(t.begin(), t.end(), '.') <= 1 && t != ".";
  const double v = plain ? std::strtod(t.c_str(), nullptr) * scale : 0;
  if (!plain || !std::isfinite(v) || v <= 0)
    return InvalidArgument(fmt::format("--cpus '{}': want a positive number of vCPUs (2, 1.5, 500m)", text));
  return v;
}

}  // namespace fb
