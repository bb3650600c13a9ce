#include "scaleout/engine_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/process.h"

namespace fb {
namespace {

bool IsExecutableFile(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void Close(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string FindOnPath(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return IsExecutableFile(name) ? name : "";
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

Result<ProgramOutput> RunProgram(const std::vector<std::string>& argv, const std::string& stdin_data,
                                 const std::string& hint) {
  if (argv.empty()) return Internal("RunProgram: empty command");
  const char* path_env = std::getenv("PATH");
  std::string exe = FindOnPath(argv[0], path_env ? path_env : "");
  if (exe.empty()) {
    std::string msg = fmt::format("'{}' was not found on PATH", argv[0]);
    if (!hint.empty()) msg += ": " + hint;
    return NotFound(msg);
  }
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0) {
    return IoError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  ProcessSpec spec;
  spec.argv = argv;
  spec.argv[0] = exe;
  spec.stdin_fd = in.fd[0];
  spec.stdout_fd = out.fd[1];
  spec.stderr_fd = err.fd[1];
  // In our process group, as before: a Ctrl-C at the terminal reaches the
  // tool too; and it dies with us.
  spec.own_group = false;
  spec.exec_failure_message = "forestbatch: cannot run " + exe;
  auto processes = MakeProcessRunner();
  auto started = processes->Start(spec);
  if (!started.ok()) return IoError(fmt::format("cannot start {}: {}", exe, started.status().ToString()));
  in.Close(0);
  out.Close(1);
  err.Close(1);

  // A child that exits without reading its stdin must not kill us.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);

  // Non-blocking, so a large stdin never blocks us while the child waits
  // for us to drain its stdout.
  ::fcntl(in.fd[1], F_SETFL, ::fcntl(in.fd[1], F_GETFL) | O_NONBLOCK);
  ProgramOutput result;
  size_t written = 0;
  if (stdin_data.empty()) in.Close(1);
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int in_i = -1, out_i = -1, err_i = -1;
    if (in.fd[1] >= 0) fds[in_i = n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) fds[out_i = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[err_i = n++] = {err.fd[0], POLLIN, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in_i >= 0 && fds[in_i].revents) {
      ssize_t w = ::write(in.fd[1], stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) written = stdin_data.size();
      if (written >= stdin_data.size()) in.Close(1);
    }
    char buf[4096];
    for (auto [idx, pipe, sink] :
         {std::tuple{out_i, &out, &result.out}, std::tuple{err_i, &err, &result.err}}) {
      if (idx < 0 || !fds[idx].revents) continue;
      ssize_t r = ::read(pipe->fd[0], buf, sizeof buf);
      if (r > 0) {
        sink->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        pipe->Close(0);
      }
    }
  }
  in.Close(1);
  auto ended = processes->Wait(*started);
  ::sigaction(SIGPIPE, &old, nullptr);
  if (!ended.ok()) return ended.status();
  result.exit_code = ended->signal != 0 ? 128 + ended->signal : ended->exit_code;
  return result;
}

Result<ProgramOutput> RunEngineTool(const std::vector<std::string>& argv, const std::string& stdin_data,
                                    const std::string& hint) {
  FB_ASSIGN_OR_RETURN(auto r, RunProgram(argv, stdin_data, hint));
  if (r.exit_code != 0) {
    std::string said = Trimmed(r.err.empty() ? r.out : r.err);
    if (said.size() > 2000) said = said.substr(0, 2000) + "...";
    return IoError(fmt::format("{} failed (exit {}): {}", argv[0], r.exit_code,
                               said.empty() ? std::string("(it printed nothing)") : said));
  }
  return r;
}

}  // namespace fb
