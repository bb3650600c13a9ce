// fb_rusage OUT COMMAND [ARG...]: runs COMMAND (no shell) with this program's
// stdin, stdout and stderr, waits for it and writes to OUT one line: its
// exit status (as the shell gives it), wall seconds, user and system CPU
// seconds, and peak resident size in KiB, of COMMAND alone; exits 0 unless it
// cannot run COMMAND.
//
// Why not wait4 from Python: Linux keeps a process's largest resident size
// across exec, and a child that Python starts (fork or vfork) begins with the
// Python process's, so small runs showed Python's size (about 14 MiB) rather
// than their own. This program is small, so its child's figure is the
// child's. Used by bench/linear_rows.py.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fb_rusage OUT COMMAND [ARG...]\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "fb_rusage: fork: %s\n", std::strerror(errno));
    return 2;
  }
  if (pid == 0) {
    ::execv(argv[2], argv + 2);
    std::fprintf(stderr, "fb_rusage: cannot run %s: %s\n", argv[2], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "fb_rusage: wait4: %s\n", std::strerror(errno));
      return 2;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::fprintf(stderr, "fb_rusage: cannot write %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  std::fprintf(out, "%d %.6f %.6f %.6f %ld\n", code, wall, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
               ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
  return std::fclose(out) == 0 ? 0 : 2;
}
