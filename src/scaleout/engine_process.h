// Running an engine's command-line tool (sbatch, squeue, aws, kubectl) and
// collecting what it said.
//
// The program is looked up on PATH first so that "not installed" is a clear
// NotFound naming the tool, not a failed exec. Arguments are passed as a
// vector, never through a shell, and started through common/process.h (in our
// process group, dying with us). Thread safety: free functions; each call
// owns its child process.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace fb {

struct ProgramOutput {
  int exit_code = 0;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// The full path of `name` on `path_env` (colon separated), or "" if none is
// an executable file. A name with a '/' is returned as is when executable.
std::string FindOnPath(const std::string& name, const std::string& path_env);

// Runs argv (argv[0] looked up on $PATH), writes `stdin_data` to its stdin,
// and returns its exit code and output. NotFound when the program is not on
// PATH (`hint` is appended, e.g. how to install it); IoError when it cannot
// be started.
Result<ProgramOutput> RunProgram(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                                 const std::string& hint = "");

// Runs argv and turns a nonzero exit into an error that quotes the tool's
// stderr: IoError("<tool> failed (exit N): <stderr>").
Result<ProgramOutput> RunEngineTool(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                                    const std::string& hint = "");

}  // namespace fb
