// How many CPUs this process may really use.
//
// std::thread::hardware_concurrency() counts the machine's CPUs. Under
// `taskset`, a Slurm allocation or a container with a CPU quota the process
// gets fewer, and running one thread per machine CPU then only adds contention.
// AvailableCpus() is the smallest of: the CPUs in the affinity mask
// (sched_getaffinity) and the cgroup CPU quota rounded up (cgroup v2
// `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), at least 1.
//
// The parsers are separate, pure functions so tests can feed them the text of
// cgroup files.
//
// Thread safety: AvailableCpus() reads /proc and /sys; cheap enough to call
// once per command; no shared state.
#pragma once

#include <optional>
#include <string_view>

namespace fb {

// CPUs from a cgroup v2 `cpu.max` line ("max 100000" or "150000 100000"):
// ceil(quota / period), or nullopt when there is no quota or the text is not
// understood.
std::optional<int> CpusFromCgroupV2Max(std::string_view cpu_max);

// CPUs from cgroup v1 quota and period texts ("-1" means no quota).
std::optional<int> CpusFromCgroupV1(std::string_view quota_us, std::string_view period_us);

// The cgroup v2 path of this process from the text of /proc/self/cgroup
// (the "0::/path" line), or nullopt.
std::optional<std::string_view> CgroupV2Path(std::string_view proc_self_cgroup);

// The CPUs this process may use: affinity mask and cgroup quota, >= 1.
int AvailableCpus();

}  // namespace fb
