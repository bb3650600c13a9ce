#include "cli/command.h"

namespace fb::cli {

// One line per subcommand file (cmd_*.cc).
CommandSpec PredictCommand();
CommandSpec ModelCommand();

std::vector<CommandSpec> AllCommands() {
  return {
      PredictCommand(),
      ModelCommand(),
  };
}

}  // namespace fb::cli
