#include "cli/command.h"

namespace fb::cli {

// One line per subcommand file (cmd_*.cc).
CommandSpec PredictCommand();
CommandSpec ModelCommand();
CommandSpec RunCommandSpec();
CommandSpec WorkerCommand();
CommandSpec JobsCommand();
CommandSpec StatusCommand();
CommandSpec LogsCommand();
CommandSpec ResumeCommand();
CommandSpec CancelCommand();
CommandSpec SubmitCommand();
CommandSpec ServeCommand();
CommandSpec TrainCommand();
CommandSpec TuneCommand();

std::vector<CommandSpec> AllCommands() {
  return {
      PredictCommand(), ModelCommand(), RunCommandSpec(), WorkerCommand(), JobsCommand(),
      StatusCommand(),  LogsCommand(),  ResumeCommand(),  CancelCommand(), SubmitCommand(),
      ServeCommand(),   TrainCommand(), TuneCommand(),
  };
}

}  // namespace fb::cli
