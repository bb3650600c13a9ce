#include "common/cpu_limits.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fb {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<long long> ParseInteger(std::string_view s) {
  s = Trim(s);
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int> CpusFromQuota(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  const long long cpus = (quota + period - 1) / period;
  return static_cast<int>(std::clamp<long long>(cpus, 1, 1 << 16));
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace

std::optional<int> CpusFromCgroupV2Max(std::string_view cpu_max) {
  cpu_max = Trim(cpu_max);
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota = cpu_max.substr(0, space);
  if (quota == "max") return std::nullopt;
  auto q = ParseInteger(quota);
  auto p = ParseInteger(cpu_max.substr(space + 1));
  if (!q || !p) return std::nullopt;
  return CpusFromQuota(*q, *p);
}

std::optional<int> CpusFromCgroupV1(std::string_view quota_us, std::string_view period_us) {
  auto q = ParseInteger(quota_us);
  auto p = ParseInteger(period_us);
  if (!q || !p) return std::nullopt;
  return CpusFromQuota(*q, *p);
}

std::optional<std::string_view> CgroupV2Path(std::string_view text) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.substr(0, 3) == "0::") return line.substr(3);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

int AvailableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) cpus = CPU_COUNT(&set);
  std::optional<int> quota;
  if (auto self = ReadSmallFile("/proc/self/cgroup")) {
    if (auto path = CgroupV2Path(*self)) {
      // The quota that binds may sit on any ancestor: take the smallest.
      std::string dir(*path);
      while (true) {
        if (auto max = ReadSmallFile("/sys/fs/cgroup" + dir + "/cpu.max")) {
          if (auto c = CpusFromCgroupV2Max(*max)) quota = quota ? std::min(*quota, *c) : *c;
        }
        if (dir.empty() || dir == "/") break;
        dir.resize(dir.rfind('/'));
      }
    }
  }
  if (!quota) {
    auto q = ReadSmallFile("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us");
    auto p = ReadSmallFile("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us");
    if (!q || !p) {
      q = ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
      p = ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    }
    if (q && p) quota = CpusFromCgroupV1(*q, *p);
  }
  if (quota) cpus = std::min(cpus, *quota);
  return std::max(1, cpus);
}

}  // namespace fb
