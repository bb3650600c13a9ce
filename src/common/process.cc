#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string_view>
#include <thread>

#include "common/exit_codes.h"

extern char** environ;

namespace fb {
namespace {

std::string Errno() { return std::strerror(errno); }

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

class RealProcessRunner final : public ProcessRunner {
 public:
  ~RealProcessRunner() override {
    // Never leave a started process behind unwatched.
    for (auto [pid, own_group] : live_) {
      ::kill(own_group ? -pid : pid, SIGKILL);
      int ws = 0;
      while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
      }
    }
  }

  Result<ProcessId> Start(const ProcessSpec& spec) override {
    if (spec.argv.empty()) return Internal("ProcessRunner: empty command");
    // Everything the child needs is made before fork: after it, a
    // multi-threaded parent's child may only make async-signal-safe calls.
    int log = -1;
    if (!spec.log_path.empty()) {
      log = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log < 0) return IoError("cannot open log: " + Errno()).At(spec.log_path);
      if (!spec.log_banner.empty()) (void)!::write(log, spec.log_banner.data(), spec.log_banner.size());
    }
    int null_in = -1;
    if (spec.stdin_null) {
      null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_in < 0) {
        if (log >= 0) ::close(log);
        return IoError("cannot open /dev/null: " + Errno());
      }
    }
    std::vector<std::string> args = spec.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_copy;
    std::vector<char*> envp;
    char** env = environ;
    if (spec.env) {
      env_copy = *spec.env;
      for (auto& e : env_copy) envp.push_back(e.data());
      envp.push_back(nullptr);
      env = envp.data();
    }
    const std::string failure =
        spec.exec_failure_message.empty() ? std::string() : spec.exec_failure_message + "\n";
    const char* workdir = spec.workdir.empty() ? nullptr : spec.workdir.c_str();
    const char* program = spec.program.empty() ? argv[0] : spec.program.c_str();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const std::string err = Errno();
      if (log >= 0) ::close(log);
      if (null_in >= 0) ::close(null_in);
      return IoError("fork failed: " + err);
    }
    if (pid == 0) {
      if (spec.detached) {
        // A session of its own, and not our child: the middle process exits
        // at once (we reap it below), its child is adopted by init.
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild != 0) ::_exit(grandchild < 0 ? kExitCannotExec : kExitOk);
      } else if (spec.own_group) {
        ::setpgid(0, 0);
      }
      if (spec.die_with_parent && !spec.detached) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(kExitInterrupted);
      }
      if (workdir != nullptr) (void)!::chdir(workdir);
      if (null_in >= 0) ::dup2(null_in, 0);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      if (spec.stdin_fd >= 0) ::dup2(spec.stdin_fd, 0);
      if (spec.stdout_fd >= 0) ::dup2(spec.stdout_fd, 1);
      if (spec.stderr_fd >= 0) ::dup2(spec.stderr_fd, 2);
      if (spec.search_path) {
        ::execvpe(program, argv.data(), env);
      } else {
        ::execve(program, argv.data(), env);
      }
      if (!failure.empty()) (void)!::write(2, failure.data(), failure.size());
      ::_exit(kExitCannotExec);
    }
    if (log >= 0) ::close(log);
    if (null_in >= 0) ::close(null_in);
    if (spec.detached) {
      int ws = 0;
      while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        return IoError("cannot start " + spec.argv[0] + ": fork failed");
      return ProcessId{0};
    }
    // Also here, so that no signal to the group can precede it.
    if (spec.own_group) ::setpgid(pid, pid);
    live_[pid] = spec.own_group;
    return static_cast<ProcessId>(pid);
  }

  std::optional<ProcessExit> Poll() override {
    for (const auto& entry : live_) {
      const pid_t pid = entry.first;
      // Seen ended but not reaped: its group id stays ours meanwhile.
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        return Reap(pid);
      }
    }
    return std::nullopt;
  }

  // Polls a pidfd (Linux 5.3+) of each live process: readable once it has
  // ended, a zombie included, so an exit between Poll and here is not
  // missed. Without pidfds (an older kernel), sleeps.
  void WaitForAnExit(double seconds) override {
    std::vector<pollfd> fds;
    for (const auto& entry : live_) {
      const long fd = ::syscall(SYS_pidfd_open, entry.first, 0);
      if (fd < 0) {
        for (const pollfd& p : fds) ::close(p.fd);
        ProcessRunner::WaitForAnExit(seconds);
        return;
      }
      fds.push_back({static_cast<int>(fd), POLLIN, 0});
    }
    if (fds.empty()) {
      ProcessRunner::WaitForAnExit(seconds);
      return;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      const int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, left.count())));
      if (r >= 0 || errno != EINTR || left.count() <= 0) break;
    }
    for (const pollfd& p : fds) ::close(p.fd);
  }

  Result<ProcessExit> Wait(ProcessId id) override {
    const pid_t pid = static_cast<pid_t>(id);
    if (!live_.count(pid)) return Internal("ProcessRunner: not a live process of this runner");
    for (;;) {
      siginfo_t info{};
      const int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);
      if (r == 0) return Reap(pid);
      if (errno != EINTR) return IoError("waitid failed: " + Errno());
    }
  }

  void SignalGroup(ProcessId id, int signal) override {
    const pid_t pid = static_cast<pid_t>(id);
    auto it = live_.find(pid);
    if (it != live_.end()) ::kill(it->second ? -pid : pid, signal);
  }

 private:
  ProcessExit Reap(pid_t pid) {
    // Whatever it left running in its group (a background job, a subshell)
    // must not go on after it counts as finished.
    if (live_[pid]) ::kill(-pid, SIGKILL);
    int ws = 0;
    struct rusage ru {};
    while (::wait4(pid, &ws, 0, &ru) < 0 && errno == EINTR) {
    }
    live_.erase(pid);
    ProcessExit e;
    e.id = pid;
    e.exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    e.signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    e.user_seconds = Seconds(ru.ru_utime);
    e.sys_seconds = Seconds(ru.ru_stime);
    return e;
  }

  std::map<pid_t, bool> live_;  // started, not reaped: whether in its own group
};

}  // namespace

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& set) {
  auto name_of = [](std::string_view v) { return v.substr(0, v.find('=') + 1); };  // "NAME="
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view name = name_of(*e);
    if (std::none_of(set.begin(), set.end(), [&](const std::string& s) { return name_of(s) == name; }))
      env.emplace_back(*e);
  }
  env.insert(env.end(), set.begin(), set.end());
  return env;
}

void ProcessRunner::WaitForAnExit(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

std::unique_ptr<ProcessRunner> MakeProcessRunner() { return std::make_unique<RealProcessRunner>(); }

}  // namespace fb
