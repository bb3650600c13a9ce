#include "cli/command.h"

namespace fb::cli {

// One line per subcommand file (cmd_*.cc).
CommandSpec PredictCommand();
CommandSpec ModelCommand();
CommandSpec SubmitCommand();

std::vector<CommandSpec> AllCommands() {
  return {
      PredictCommand(),
      ModelCommand(),
      SubmitCommand(),
  };
}

}  // namespace fb::cli
