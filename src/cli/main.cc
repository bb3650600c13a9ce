// forestbatch: batch inference for tree ensembles. Thin front end: parses the
// command line with the subcommand table (command.h) and maps errors to exit
// codes; the work happens in the libraries.

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "common/prefault.h"
#include "common/text_escape.h"

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

std::string ExitCodesHelp() {
  std::string s = "Exit codes:";
  for (const auto& c : kExitCodes) {
    const std::string n = std::to_string(c.code);
    s += "\n  " + std::string(3 - n.size(), ' ') + n + "  " + c.meaning;
  }
  return s;
}

namespace {

// Every option shows its default in --help (captured from the value it is
// bound to: numbers as numbers), unless its description already states the
// default in words ("default: one per core"), where a captured 0 or empty
// value would mislead; every command ends with the exit codes.
void FinishHelp(CLI::App* app) {
  for (CLI::Option* opt : app->get_options()) {
    // An empty list ("[]") has no default worth showing either.
    if (opt->get_description().find("default") != std::string::npos || opt->get_default_str() == "[]")
      opt->default_str("");
  }
  const std::string footer = app->get_footer();
  app->footer(footer.empty() ? ExitCodesHelp() : footer + "\n\n" + ExitCodesHelp());
  for (CLI::App* sub : app->get_subcommands({})) FinishHelp(sub);
}

}  // namespace

}  // namespace fb::cli

int main(int argc, char** argv) {
  using namespace fb::cli;
  // malloc's policy for batch work (memory kept for the next file, one heap
  // on transparent huge pages): prefault.h.
  fb::UseBatchHeap();
  CLI::App app{
      "forestbatch: fast, exactly-once batch inference for tree ensembles\n"
      "(scikit-learn forests, gradient boosting, HistGradientBoosting, IsolationForest and\n"
      "Pipelines; XGBoost, also pickled estimators; LightGBM; native .fbm models).\n"
      "Run 'forestbatch COMMAND --help' for a command's options."};
  app.set_version_flag("--version", "forestbatch " FB_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  // Inherited by every subcommand's options (see FinishHelp).
  app.option_defaults()->always_capture_default();
  std::function<int()> run;
  auto commands = AllCommands();
  // When the first word names a command, only that command is set up: setting
  // up all of them (their options, validators and help texts) was about half
  // of the CPU time of `forestbatch --version` and 4 M instructions of every
  // process. With no command, an unknown one or an option first (--help,
  // --version), all are set up, so the help and the errors list them all.
  const CommandSpec* named = nullptr;
  for (const auto& c : commands) {
    if (argc > 1 && c.name == argv[1]) named = &c;
  }
  for (auto& c : commands) {
    if (named != nullptr && &c != named) continue;
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    auto fn = c.setup(sub);
    sub->callback([&run, fn] { run = fn; });
    FinishHelp(sub);
  }
  app.footer(ExitCodesHelp());  // after the subcommands: they would inherit it
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The same prefix as every other error, so scripts and people find it;
    // the text may quote the command line, hence escaped.
    std::string command;
    for (const CLI::App* sub : app.get_subcommands()) command = " " + sub->get_name();
    std::fprintf(stderr, "forestbatch: error: %s\nRun 'forestbatch%s --help' for the options.\n",
                 fb::EscapeForMessage(e.what()).c_str(), command.c_str());
    return fb::kExitUsage;
  }
  if (!run) return fb::kExitUsage;
  return run();
}
