// fb_kernel_bench: times forestbatch's prediction kernel (PredictRaw of the
// predictor MakeBestPredictor or a forced SIMD target gives) on one model and
// one input, after checking its sums against the reference predictor.
//
//   fb_kernel_bench --model M --x X [--label NAME] [--threads 1,2]
//                   [--target scalar|avx2|avx512|reference] [--min-time S] [--labels 1]
// M: any model LoadModelFile reads, or a bench dump (.fbdump, from
// dump_forest.py). --list-targets prints the SIMD targets this CPU runs. X: a header-less numeric CSV, or raw
// float32 rows (.f32) with X's stem + ".shape" holding "ROWS FEATURES" (a model with a float64 input map,
// LightGBM or HistGradientBoosting, gets its rows mapped as the CSV reader maps them). Each thread count runs
// the rows split into one contiguous slice per thread, each slice predicted by PredictRaw calls of --chunk
// rows (as the pipeline does); the best of several runs is reported. Prints one tab-separated line per thread
// count:
//   engine model threads rows trees seconds ns_per_row_tree_per_thread(wall)
//   ns_per_row_tree(cpu) ns_per_row_tree(fastest call) rows_per_s peak_rss_mb
// then per-call latency for 1-row and 100-row calls. Exit 1 if the sums are not
// bit-identical to the reference's. --labels 1 times PredictLabels instead (what
// an output of labels only calls: a two-class forest's label margins where the
// predictor has them), after checking its labels against the reference's.
//
//   fb_kernel_bench --load M [--label NAME]
// times one LoadModelFile in this fresh process (as `forestbatch predict` loads its model, with
// ModelLoad::kTreesOnDemand; the file from the page cache), then MakeModelPredictor on the loaded forest (the
// compile `predict` does before its first row, or a .fbm's stored layout read), and prints
//   forestbatch-load model 1 file_bytes trees seconds - cpu_seconds - mb_per_s peak_rss_mb
//   ready_seconds ready_cpu_seconds
// (ready: load and compile together, wall and CPU).
// (bench/run.sh keeps the best of several processes).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/prefault.h"
#include "forest_dump.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Input {
  std::vector<float> x;
  size_t rows = 0;
  size_t features = 0;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A model that compares float64 inputs (forest.float64_features: LightGBM,
// HistGradientBoosting) gets each value as the table readers give it: parsed
// as a double and mapped (common/float64_features.h).
float FeatureValue(const fb::Forest& f, size_t col, double v) {
  return col < f.float64_features.size() ? fb::Float64FeatureValue(f.float64_features[col], v)
                                         : static_cast<float>(v);
}

bool LoadInput(const std::string& path, const fb::Forest& f, Input* in) {
  const bool mapped = !f.float64_features.empty();
  if (EndsWith(path, ".f32")) {
    std::istringstream shape(ReadAll(path.substr(0, path.size() - 4) + ".shape"));
    shape >> in->rows >> in->features;
    std::string bytes = ReadAll(path);
    if (in->rows == 0 || bytes.size() != in->rows * in->features * 4) return false;
    in->x.resize(in->rows * in->features);
    std::memcpy(in->x.data(), bytes.data(), bytes.size());
    if (mapped)
      for (size_t i = 0; i < in->x.size(); ++i) in->x[i] = FeatureValue(f, i % in->features, in->x[i]);
    return true;
  }
  std::string text = ReadAll(path);
  const char* p = text.data();
  const char* end = p + text.size();
  size_t cols = 0;
  while (p < end) {
    const char* q;
    if (mapped) {
      double d;
      auto r = std::from_chars(p, end, d);
      if (r.ec != std::errc()) return false;
      in->x.push_back(FeatureValue(f, cols, d));
      q = r.ptr;
    } else {
      float v;
      auto r = std::from_chars(p, end, v);
      if (r.ec != std::errc()) return false;
      in->x.push_back(v);
      q = r.ptr;
    }
    ++cols;
    p = q;
    if (p < end && *p == ',') {
      ++p;
    } else {
      while (p < end && (*p == '\r' || *p == '\n')) ++p;
      if (in->features == 0) in->features = cols;
      if (cols != in->features) return false;
      cols = 0;
      ++in->rows;
    }
  }
  return in->rows > 0;
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Returns wall seconds; *cpu gets the CPU seconds all threads spent (the
// machine may be shared: CPU time is what the kernel itself cost).
// *best_call gets the fastest PredictRaw call's wall seconds per row: on a
// shared machine, the kernel's speed when nothing preempted it.
// labels (not null): PredictLabels of `labels` (a forest) instead of PredictRaw,
// each row's label into (*out)[r].
double TimeThreads(const fb::Predictor& p, const Input& in, int threads, size_t chunk,
                   std::vector<double>* out, size_t n_outputs, double* cpu, double* best_call,
                   const fb::Forest* labels = nullptr) {
  std::vector<double> cpu_of(threads), best_of(threads, 1e30);
  auto work = [&](int i) {
    double c0 = ThreadCpuSeconds();
    size_t begin = in.rows * i / threads, end = in.rows * (i + 1) / threads;
    fb::LabelScratch scratch;
    fb::Predictions pred;
    for (size_t r = begin; r < end; r += chunk) {
      size_t m = std::min(chunk, end - r);
      auto t0 = Clock::now();
      if (labels) {
        fb::PredictLabels(p, *labels, in.x.data() + r * in.features, m, &scratch, &pred);
        for (size_t j = 0; j < m; ++j) (*out)[r + j] = pred.label[j];
      } else {
        p.PredictRaw(in.x.data() + r * in.features, m, out->data() + r * n_outputs);
      }
      if (m == chunk) best_of[i] = std::min(best_of[i], Seconds(t0, Clock::now()) / m);
    }
    cpu_of[i] = ThreadCpuSeconds() - c0;
  };
  auto t0 = Clock::now();
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(work, i);
    for (auto& t : pool) t.join();
  }
  double wall = Seconds(t0, Clock::now());
  *cpu = 0;
  for (double c : cpu_of) *cpu += c;
  *best_call = std::min(*best_call, *std::max_element(best_of.begin(), best_of.end()));
  return wall;
}

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// --load: one LoadModelFile, wall and CPU time (the process's first load: no memory freed by an
// earlier load to reuse).
int TimeLoad(const std::string& model, const std::string& label) {
  std::error_code ec;
  const double bytes = static_cast<double>(std::filesystem::file_size(model, ec));
  const double c0 = CpuSeconds();
  auto t0 = Clock::now();
  // As `forestbatch predict` loads it: a .fbm with a stored layout keeps its trees' nodes undecoded.
  auto forest = fb::LoadModelFile(model, fb::ModelLoad::kTreesOnDemand);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - c0;
  if (!forest.ok()) {
    std::fprintf(stderr, "%s\n", forest.status().ToString().c_str());
    return 1;
  }
  const size_t trees = forest->trees.size();
  auto predictor = fb::MakeModelPredictor(std::make_shared<const fb::Forest>(std::move(forest).value()));
  if (!predictor.ok()) {
    std::fprintf(stderr, "%s\n", predictor.status().ToString().c_str());
    return 1;
  }
  const double ready = std::chrono::duration<double>(Clock::now() - t0).count();
  const double ready_cpu = CpuSeconds() - c0;
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("forestbatch-load\t%s\t1\t%.0f\t%zu\t%.4f\t-\t%.4f\t-\t%.0f\t%.0f\t%.4f\t%.4f\n", label.c_str(),
              bytes, trees, s, cpu, bytes / s / 1e6, ru.ru_maxrss / 1024.0, ready, ready_cpu);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  fb::UseBatchHeap();  // as forestbatch's main(): its loads are measured here
  std::string model, xpath, label, target_name, threads_list = "1,2";
  if (argc == 2 && std::string(argv[1]) == "--list-targets") {
    for (fb::SimdTarget t : fb::SupportedSimdTargets()) std::printf("%s ", fb::SimdTargetName(t));
    std::printf("\n");
    return 0;
  }
  double min_time = 1.0;
  size_t chunk = 4096;
  bool load_only = false, labels = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model")
      model = v;
    else if (k == "--x")
      xpath = v;
    else if (k == "--label")
      label = v;
    else if (k == "--threads")
      threads_list = v;
    else if (k == "--target")
      target_name = v;
    else if (k == "--min-time")
      min_time = std::stod(v);
    else if (k == "--chunk")
      chunk = std::stoul(v);
    else if (k == "--load")
      model = v, load_only = true;
    else if (k == "--labels")
      labels = v == "1";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (load_only) {
    if (label.empty()) label = model;
    return TimeLoad(model, label);
  }
  if (model.empty() || xpath.empty()) {
    std::fprintf(stderr,
                 "usage: fb_kernel_bench --model M --x X [--label NAME] [--threads 1,2] [--target T]\n");
    return 2;
  }
  if (label.empty()) label = model;
  auto forest = EndsWith(model, ".fbdump") ? fb::bench::LoadForestDump(model) : fb::LoadModelFile(model);
  if (!forest.ok()) {
    std::fprintf(stderr, "%s\n", forest.status().ToString().c_str());
    return 1;
  }
  auto f = std::make_shared<const fb::Forest>(std::move(forest).value());
  Input in;
  if (!LoadInput(xpath, *f, &in) || in.features != static_cast<size_t>(f->n_features)) {
    std::fprintf(stderr, "%s: unreadable, or not %d features\n", xpath.c_str(), f->n_features);
    return 1;
  }
  std::unique_ptr<fb::Predictor> p;
  if (target_name == "reference") {
    p = fb::MakeReferencePredictor(f);
  } else if (target_name.empty()) {
    p = fb::MakeBestPredictor(f);
  } else {
    fb::SimdTarget t;
    if (!fb::ParseSimdTarget(target_name, &t) || !fb::SimdTargetSupported(t)) {
      std::fprintf(stderr, "target %s: unknown or not supported here\n", target_name.c_str());
      return 1;
    }
    p = fb::MakeCompiledPredictor(f, t);
  }
  const size_t no = f->n_outputs;
  std::vector<double> out(in.rows * no), want(in.rows * no);
  if (labels && f->kind != fb::ModelKind::kClassifier) {
    std::fprintf(stderr, "--labels 1: %s is not a classifier\n", model.c_str());
    return 2;
  }
  const fb::Forest* timed_labels = labels ? f.get() : nullptr;

  // Correctness first: the whole input against the reference.
  fb::MakeReferencePredictor(f)->PredictRaw(in.x.data(), in.rows, want.data());
  if (labels) {  // the labels Finalize gives from the reference's sums
    fb::Predictions pw;
    fb::Finalize(*f, want.data(), in.rows, fb::OutputKind::kPrediction, &pw);
    for (size_t r = 0; r < in.rows; ++r) want[r] = pw.label[r];
    want.resize(in.rows);
    out.resize(in.rows);
  }
  double cpu, best_call = 1e30;
  TimeThreads(*p, in, 1, chunk, &out, no, &cpu, &best_call, timed_labels);
  if (std::memcmp(out.data(), want.data(), out.size() * sizeof(double)) != 0) {
    std::fprintf(stderr, "%s: %s %s differ from the reference\n", label.c_str(), p->name().c_str(),
                 labels ? "labels" : "sums");
    return 1;
  }

  std::stringstream ts(threads_list);
  std::string tok;
  while (std::getline(ts, tok, ',')) {
    int threads = std::stoi(tok);
    double best = 1e30, best_cpu = 1e30, total = 0;
    best_call = 1e30;
    for (int rep = 0; rep < 3 || total < min_time; ++rep) {
      double s = TimeThreads(*p, in, threads, chunk, &out, no, &cpu, &best_call, timed_labels);
      best = std::min(best, s);
      best_cpu = std::min(best_cpu, cpu);
      total += s;
    }
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double row_trees = static_cast<double>(in.rows) * f->trees.size();
    std::printf("forestbatch-%s%s\t%s\t%d\t%zu\t%zu\t%.4f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\n",
                labels ? "labels-" : "", p->name().c_str(), label.c_str(), threads, in.rows, f->trees.size(),
                best, best * 1e9 * threads / row_trees, best_cpu * 1e9 / row_trees,
                best_call * 1e9 / f->trees.size(), in.rows / best, ru.ru_maxrss / 1024.0);
  }
  if (labels) return 0;
  // Small calls: no thread start-up, no per-call set-up beyond a few buffers.
  for (size_t n : {size_t{1}, size_t{100}}) {
    const size_t calls = std::max<size_t>(1, std::min<size_t>(in.rows / n, 2000));
    auto t0 = Clock::now();
    for (size_t c = 0; c < calls; ++c) p->PredictRaw(in.x.data() + c * n * in.features, n, out.data());
    double us = Seconds(t0, Clock::now()) * 1e6 / calls;
    std::printf("# %s %s: %zu-row call %.2f us (%.2f ns per row-tree)\n", p->name().c_str(), label.c_str(), n,
                us, us * 1e3 / (n * f->trees.size()));
  }
  return 0;
}
