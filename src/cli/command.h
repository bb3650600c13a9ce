// The subcommand table: each subcommand lives in its own cmd_*.cc file and
// contributes one CommandSpec. main.cc builds the CLI11 app from the table.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fb::cli {

// Process exit codes; documented in README ("Exit codes"). Scripts and
// orchestrators rely on them: never renumber.
enum ExitCode : int {
  kExitOk = 0,             // everything succeeded
  kExitSomeFailed = 1,     // the command ran, but some files failed (see the job record)
  kExitUsage = 2,          // bad command line
  kExitDataError = 3,      // invalid input data or model file
  kExitUnsupported = 4,    // a model or option forestbatch does not support
  kExitNotFound = 5,       // a file, object or job was not found
  kExitIoError = 6,        // reading, writing or network failed
  kExitAlreadyExists = 7,  // refusing to overwrite
  kExitInternal = 70,      // a bug (EX_SOFTWARE)
  kExitInterrupted = 75,   // stopped by SIGTERM/SIGINT before finishing; safe to retry (EX_TEMPFAIL)
};

int ExitCodeFor(const Status& status);

// Prints "forestbatch: error: <status>" to stderr and returns its exit code.
int ReportError(const Status& status);

struct CommandSpec {
  std::string name;
  std::string summary;
  // Adds the subcommand's options to `sub` and returns what to run once the
  // command line is parsed; the returned function gives the exit code.
  std::function<std::function<int()>(CLI::App* sub)> setup;
};

// All subcommands, in the order `--help` lists them.
std::vector<CommandSpec> AllCommands();

}  // namespace fb::cli
