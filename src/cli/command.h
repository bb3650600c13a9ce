// The subcommand table: each subcommand lives in its own cmd_*.cc file and
// contributes one CommandSpec. main.cc builds the CLI11 app from the table.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/exit_codes.h"
#include "common/status.h"

namespace fb::cli {

// Process exit codes: common/exit_codes.h (fb::kExitOk ... fb::kExitInterrupted).

int ExitCodeFor(const Status& status);

// Prints "forestbatch: error: <status>" to stderr and returns its exit code.
int ReportError(const Status& status);

// The "Exit codes:" section every command's --help ends with.
std::string ExitCodesHelp();

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
