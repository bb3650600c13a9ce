// ProcessIdentity: which process, in a form that survives PID reuse and
// reboots: host name, boot id (/proc/sys/kernel/random/boot_id), PID, and the
// process's start time in clock ticks after boot (/proc/<pid>/stat, field 22),
// and the PID namespace (containers on one kernel share the boot id).
// A recorded PID alone may name an unrelated process later; a PID with its
// start time and boot id names one process only.
//
// Used by leases (runner/lease.h) and by job records, `cancel` and `status`.
//
// Thread safety: pure functions of /proc; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace fb {

struct ProcessIdentity {
  std::string host;
  std::string boot_id;
  std::string pid_namespace;  // "pid:[4026531836]": PIDs mean something only within one
  int64_t pid = 0;
  uint64_t start_ticks = 0;

  // {"host":..., "boot_id":..., "pid":..., "start_ticks":...}
  std::string ToJson() const;
  static Result<ProcessIdentity> FromJson(const std::string& json);
  // "pid 123 on host-a" for messages.
  std::string Describe() const;
};

// This process.
const ProcessIdentity& CurrentProcess();
// Another process of this machine; NotFound when there is none (or it is a zombie).
Result<ProcessIdentity> IdentityOfPid(int64_t pid);

// The start time of `pid` (clock ticks after boot), or nullopt when no live
// process has that PID (a zombie counts as gone).
std::optional<uint64_t> ProcessStartTicks(int64_t pid);

enum class Liveness : uint8_t {
  kAlive,    // this host and boot, and that PID still has that start time
  kDead,     // this host: gone, reused, or from an earlier boot
  kUnknown,  // another host or PID namespace: only a heartbeat can tell
};
Liveness CheckLiveness(const ProcessIdentity& who);

// Sends `sig` to `who` (to its process group when `group`), only while that
// PID is still the same process: race-free through a pidfd where the kernel
// has them. NotFound when the process is gone or reused; Unsupported for a
// process of another host.
Status SignalProcess(const ProcessIdentity& who, int sig, bool group = false);

}  // namespace fb
