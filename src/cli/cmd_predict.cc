#include "cli/command.h"

namespace fb::cli {
// Placeholder until the predict pipeline lands.
CommandSpec PredictCommand() {
  return {"predict", "predict one file or a folder of files",
          [](CLI::App*) { return std::function<int()>([] { return 4; }); }};
}
}  // namespace fb::cli
