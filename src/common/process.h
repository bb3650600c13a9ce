// Process management: the one place forestbatch starts child processes,
// watches them and signals them. The supervisor of a local job
// (runner/local_job.cc: its workers), `--exec` (runner/command_executor.cc:
// one command per file) and `run --estimate` (scaleout/estimate.cc: the sample
// worker), the engine tools (scaleout/engine_process.cc: sbatch, aws,
// kubectl) and the dashboard's cancel and resume actions (serve/dashboard.cc)
// go through a ProcessRunner; tests hand the supervisor a fake one to
// check its restart/stop/cancel policy without real processes (as Ninja does
// with its CommandRunner).
//
// Every process starts in a new process group of its own (the group's id is
// the process's; ProcessSpec::own_group), so a signal to it reaches everything
// it started. When a process ends, whatever it left running in its group is killed (SIGKILL)
// before the process is reaped: nothing it started outlives it, and its group
// id cannot be reused by an unrelated process before that. No argument is
// ever parsed by a shell.
//
// Thread safety: a ProcessRunner is used by one thread; separate runners (one
// per --exec call) may be used by separate threads at once. Start is safe in
// a multi-threaded process (the child calls only async-signal-safe functions
// before exec).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fb {

using ProcessId = int64_t;

struct ProcessSpec {
  // argv[0] is the program's path; with `search_path`, a name looked up on $PATH.
  std::vector<std::string> argv;
  bool search_path = false;
  // The file to run when it is not argv[0]: argv[0] is then only the name the
  // process shows (`ps`), as the supervisor runs /proc/self/exe (this very
  // binary, even if the file was replaced since) named "forestbatch".
  std::string program;
  // The whole environment, "NAME=VALUE" each; nullopt: this process's.
  std::optional<std::vector<std::string>> env;
  std::string workdir;      // the folder it starts in ("": ours; where it is gone, ours)
  std::string log_path;     // stdout and stderr appended here ("": ours)
  std::string log_banner;   // written to the log before the process starts
  bool stdin_null = false;  // stdin from /dev/null instead of ours
  // Descriptors the child gets as its stdin, stdout, stderr (-1: as above);
  // the caller keeps and closes its copies (pipes for a tool's output).
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // A new process group (the default, see above); false: it stays in ours,
  // so a terminal's Ctrl-C reaches it as it reaches us, and signals go to it
  // alone (a short helper run we wait for, such as run --estimate's sample).
  bool own_group = true;
  // SIGKILLed when the starting thread's process dies (PR_SET_PDEATHSIG); a
  // child whose parent is already gone when it starts exits kExitInterrupted.
  bool die_with_parent = true;
  // Not our child once started (a double fork into a new session, as a
  // daemon): it outlives us and is never polled, waited for or signalled;
  // Start returns 0 once it is on its way. `die_with_parent` does not apply.
  bool detached = false;
  // Said on the log (or stderr) when the program cannot be run; the child
  // then exits kExitCannotExec.
  std::string exec_failure_message;
};

struct ProcessExit {
  ProcessId id = 0;
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
  double user_seconds = 0, sys_seconds = 0;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Starts a process in a new process group.
  virtual Result<ProcessId> Start(const ProcessSpec& spec) = 0;
  // One started process that has ended (reaped, its group's leftovers
  // killed), or nullopt when none has. Does not block.
  virtual std::optional<ProcessExit> Poll() = 0;
  // Blocks until `id` ends; then as Poll.
  virtual Result<ProcessExit> Wait(ProcessId id) = 0;
  // Waits up to `seconds`, returning as soon as a started process ends (Poll
  // then has it), so a watcher that polls learns of an exit at once instead
  // of at its next tick. The default only sleeps.
  virtual void WaitForAnExit(double seconds);
  // Sends `signal` to the process group of `id`, while it has not been
  // reaped (after that the id may belong to another process: nothing is sent).
  virtual void SignalGroup(ProcessId id, int signal) = 0;
};

// Real processes (fork/exec). Each runner watches only what it started.
std::unique_ptr<ProcessRunner> MakeProcessRunner();

// This process's environment with each "NAME=VALUE" of `set` in place of any
// variable of that name (for ProcessSpec::env): what a child is handed
// explicitly, without changing our own environment.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& set);

}  // namespace fb
