#include "cli/command.h"

namespace fb::cli {

// One line per subcommand file (cmd_*.cc).
CommandSpec PredictCommand();
CommandSpec ModelCommand();
CommandSpec TrainCommand();
CommandSpec TuneCommand();

std::vector<CommandSpec> AllCommands() {
  return {
      PredictCommand(),
      ModelCommand(),
      TrainCommand(),
      TuneCommand(),
  };
}

}  // namespace fb::cli
