// fb_gen_rows ROWS [TEMPLATE.csv [SEED]]: writes ROWS seed-like CSV rows to
// stdout, for the linear-cost benchmark (bench/linear_rows.sh), without ever
// holding them: 100 M rows are about 12 GB, streamed into `forestbatch
// predict --input -`.
//
// Each row is made of two rows of TEMPLATE (default: the seed's test split,
// examples/seed/test-data1-small.csv: 59 small-integer features, no header)
// drawn by a fixed pseudo-random sequence (SEED, default 1): the first field
// of one, the other fields of the other. So rows have the seed's shape,
// lengths and values, are not the template repeated, and are the same on
// every run. Output goes out in 1 MiB writes; a closed pipe ends the program.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

// splitmix64: small, fast, and the same sequence everywhere.
uint64_t Next(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

bool WriteAll(const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: fb_gen_rows ROWS [TEMPLATE.csv [SEED]]\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long long rows = std::strtoull(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0') {
    std::fprintf(stderr, "fb_gen_rows: ROWS must be a whole number, got '%s'\n", argv[1]);
    return 2;
  }
  const std::string path = argc > 2 ? argv[2] : "examples/seed/test-data1-small.csv";
  uint64_t state = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fb_gen_rows: cannot read %s\n", path.c_str());
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // Each template row as (its first field, the rest from the first comma on).
  std::vector<std::string_view> heads, tails;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t comma = line.find(',');
    if (comma != std::string_view::npos) {
      heads.push_back(line.substr(0, comma));
      tails.push_back(line.substr(comma));
    }
    pos = nl + 1;
  }
  if (heads.empty()) {
    std::fprintf(stderr, "fb_gen_rows: %s has no CSV rows of two fields or more\n", path.c_str());
    return 2;
  }

  std::string buf;
  buf.reserve((1 << 20) + 4096);
  const uint64_t n = heads.size();
  for (unsigned long long r = 0; r < rows; ++r) {
    const uint64_t x = Next(&state);
    const std::string_view head = heads[(x & 0xffffffffu) % n], tail = tails[(x >> 32) % n];
    buf.append(head);
    buf.append(tail);
    buf.push_back('\n');
    if (buf.size() >= (1 << 20)) {
      if (!WriteAll(buf.data(), buf.size())) return 1;  // the reader went away
      buf.clear();
    }
  }
  return WriteAll(buf.data(), buf.size()) ? 0 : 1;
}
