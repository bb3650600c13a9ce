// csv_bench FILE [THREADS] [FEATURES]: measures how fast CsvReader parses a
// file (read + chunk + parse, no prediction). Prints rows, the best of 3 wall
// times, and the best of 3 CPU times spent in Parse alone (all parser threads).
// Not a test.
#include <fmt/format.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common/prefault.h"
#include "io/csv_reader.h"
#include "io/decompress.h"

namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fb;
  UseBatchHeap();  // as forestbatch's main(): its parser is measured here
  if (argc < 2) {
    fmt::print(stderr, "usage: csv_bench FILE [THREADS] [FEATURES]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  CsvSchema schema;
  schema.n_features = argc > 3 ? std::atoi(argv[3]) : 59;
  double best = 1e9, best_parse = 1e9;
  uint64_t rows = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    auto raw = LocalStorage()->OpenRead(path);
    if (!raw.ok()) return fmt::print(stderr, "{}\n", raw.status().ToString()), 1;
    auto reader = CsvReader::Open(OpenDecompressed(std::move(*raw), path), path, CsvOptions{}, schema);
    if (!reader.ok()) return fmt::print(stderr, "{}\n", reader.status().ToString()), 1;
    CsvReader& r = **reader;
    // Reader thread hands chunks to `threads` parser threads round-robin.
    const size_t window = 2 * threads + 2;
    std::vector<CsvChunk> chunks(window);
    std::vector<CsvBlock> blocks(window);
    std::vector<int> state(window, 0);  // 0 free, 1 to parse, 2 parsed
    std::mutex mu;
    std::condition_variable cv;
    bool end = false;
    uint64_t next_parse = 0, submitted = 0;
    double parse_cpu = 0;  // CPU seconds inside Parse, all parser threads
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (;;) {
          size_t i;
          {
            std::unique_lock<std::mutex> l(mu);
            cv.wait(l, [&] { return end || next_parse < submitted; });
            if (next_parse >= submitted) return;
            i = next_parse++ % window;
          }
          const double c0 = ThreadCpuSeconds();
          r.Parse(chunks[i], &blocks[i]);
          const double c = ThreadCpuSeconds() - c0;
          std::lock_guard<std::mutex> l(mu);
          parse_cpu += c;
          state[i] = 2;
          cv.notify_all();
        }
      });
    }
    uint64_t accounted = 0;
    auto account = [&](size_t i) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return state[i] == 2; });
      }
      Status st = r.Account(blocks[i]);
      if (!st.ok()) fmt::print(stderr, "{}\n", st.ToString()), std::exit(1);
      state[i] = 0;
      ++accounted;
    };
    for (;;) {
      size_t i = submitted % window;
      if (submitted - accounted == window) account(accounted % window);
      auto got = r.NextChunk(&chunks[i]);
      if (!got.ok()) return fmt::print(stderr, "{}\n", got.status().ToString()), 1;
      if (!*got) break;
      {
        std::lock_guard<std::mutex> l(mu);
        state[i] = 1;
        ++submitted;
      }
      cv.notify_all();
    }
    while (accounted < submitted) account(accounted % window);
    {
      std::lock_guard<std::mutex> l(mu);
      end = true;
    }
    cv.notify_all();
    for (auto& t : pool) t.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    best_parse = std::min(best_parse, parse_cpu);
    rows = r.rows_accounted();
  }
  fmt::print("{}: {} rows, {} threads: best of 3 {:.1f} ms; Parse alone {:.1f} ms of CPU (best of 3)\n", path,
             rows, threads, best * 1e3, best_parse * 1e3);
  return 0;
}
