#include "runner/process_identity.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fb {
namespace {

std::string ReadSmall(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

std::string HostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

const std::string& BootId() {
  static const std::string id = ReadSmall("/proc/sys/kernel/random/boot_id");
  return id;
}

const std::string& PidNamespace() {
  static const std::string ns = [] {
    char buf[128] = {0};
    ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }();
  return ns;
}

}  // namespace

std::optional<uint64_t> ProcessStartTicks(int64_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  // The command name (field 2) may hold spaces and ')': fields after the
  // last ')' are fixed. Field 3 is the state, field 22 the start time.
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(close + 1));
  std::string field;
  std::string state;
  rest >> state;
  if (state == "Z" || state == "X" || state == "x") return std::nullopt;
  for (int i = 4; i < 22; ++i) rest >> field;
  uint64_t ticks = 0;
  if (!(rest >> ticks)) return std::nullopt;
  return ticks;
}

const ProcessIdentity& CurrentProcess() {
  // Recomputed after fork (the PID changes); cached otherwise.
  static thread_local ProcessIdentity self;
  if (self.pid != ::getpid()) {
    ProcessIdentity p;
    p.host = HostName();
    p.boot_id = BootId();
    p.pid_namespace = PidNamespace();
    p.pid = ::getpid();
    p.start_ticks = ProcessStartTicks(p.pid).value_or(0);
    self = p;
  }
  return self;
}

Result<ProcessIdentity> IdentityOfPid(int64_t pid) {
  auto ticks = ProcessStartTicks(pid);
  if (!ticks) return NotFound("no process " + std::to_string(pid));
  ProcessIdentity p;
  p.host = HostName();
  p.boot_id = BootId();
  p.pid_namespace = PidNamespace();
  p.pid = pid;
  p.start_ticks = *ticks;
  return p;
}

std::string ProcessIdentity::ToJson() const {
  return nlohmann::json{{"host", host},
                        {"boot_id", boot_id},
                        {"pid_namespace", pid_namespace},
                        {"pid", pid},
                        {"start_ticks", start_ticks}}
      .dump();
}

Result<ProcessIdentity> ProcessIdentity::FromJson(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    ProcessIdentity p;
    p.host = j.at("host").get<std::string>();
    p.boot_id = j.at("boot_id").get<std::string>();
    p.pid_namespace = j.value("pid_namespace", "");
    p.pid = j.at("pid").get<int64_t>();
    p.start_ticks = j.at("start_ticks").get<uint64_t>();
    return p;
  } catch (const std::exception& e) {
    return InvalidData(std::string("bad process identity: ") + e.what());
  }
}

std::string ProcessIdentity::Describe() const { return "pid " + std::to_string(pid) + " on " + host; }

Liveness CheckLiveness(const ProcessIdentity& who) {
  const ProcessIdentity& self = CurrentProcess();
  if (who.host != self.host) return Liveness::kUnknown;
  // The same host name with another boot id: the machine rebooted since.
  if (who.boot_id != self.boot_id) return Liveness::kDead;
  // Another container on this kernel: its PIDs are not ours to look up.
  if (who.pid_namespace != self.pid_namespace) return Liveness::kUnknown;
  auto ticks = ProcessStartTicks(who.pid);
  return ticks && *ticks == who.start_ticks ? Liveness::kAlive : Liveness::kDead;
}

Status SignalProcess(const ProcessIdentity& who, int sig, bool group) {
  switch (CheckLiveness(who)) {
    case Liveness::kUnknown: return Unsupported("process " + who.Describe() + " is on another machine");
    case Liveness::kDead: return NotFound("process " + who.Describe() + " has ended");
    case Liveness::kAlive: break;
  }
#ifdef SYS_pidfd_open
  // Hold the process by a pidfd, check it is still the same one, then
  // signal through the pidfd: a PID reused in between cannot be hit.
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(who.pid), 0));
  if (fd >= 0) {
    auto ticks = ProcessStartTicks(who.pid);
    Status s = Status::Ok();
    if (!ticks || *ticks != who.start_ticks) {
      s = NotFound("process " + who.Describe() + " has ended");
    } else if (group) {
      // No pidfd call signals a group: kill(2) right after the check (the
      // window is two system calls long).
      if (::kill(-static_cast<pid_t>(who.pid), sig) != 0 && ::kill(static_cast<pid_t>(who.pid), sig) != 0)
        s = IoError("cannot signal " + who.Describe() + ": " + std::strerror(errno));
    } else if (::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) != 0) {
      s = IoError("cannot signal " + who.Describe() + ": " + std::strerror(errno));
    }
    ::close(fd);
    return s;
  }
#endif
  auto ticks = ProcessStartTicks(who.pid);
  if (!ticks || *ticks != who.start_ticks) return NotFound("process " + who.Describe() + " has ended");
  const pid_t target = group ? -static_cast<pid_t>(who.pid) : static_cast<pid_t>(who.pid);
  if (::kill(target, sig) != 0)
    return IoError("cannot signal " + who.Describe() + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace fb
