// forestbatch: batch inference for tree ensembles. Thin front end: parses the
// command line with the subcommand table (command.h) and maps errors to exit
// codes; the work happens in the libraries.
#include <cstdio>
#include <memory>

#include "cli/command.h"

namespace fb::cli {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kInvalidData: return kExitDataError;
    case StatusCode::kUnsupported: return kExitUnsupported;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kIoError: return kExitIoError;
    case StatusCode::kAlreadyExists: return kExitAlreadyExists;
    case StatusCode::kCancelled: return kExitInterrupted;
    case StatusCode::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

int ReportError(const Status& s) {
  std::fprintf(stderr, "forestbatch: error: %s\n", s.ToString().c_str());
  return ExitCodeFor(s);
}

}  // namespace fb::cli

int main(int argc, char** argv) {
  using namespace fb::cli;
  CLI::App app{
      "forestbatch: fast, exactly-once batch inference for tree ensembles\n"
      "(scikit-learn random forests and extra trees, XGBoost, LightGBM, native .fbm models).\n"
      "Run 'forestbatch COMMAND --help' for a command's options."};
  app.set_version_flag("--version", "forestbatch " FB_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  std::function<int()> run;
  auto commands = AllCommands();
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    auto fn = c.setup(sub);
    sub->callback([&run, fn] { run = fn; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!run) return kExitUsage;
  return run();
}
