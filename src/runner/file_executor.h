// FileExecutor: the per-file work a worker runs, behind one interface so the
// runner's scheduling, skipping, retries and records are the same for the
// built-in predictor and for any program given with --exec, and testable with
// a fault-injecting executor.
//
// Contract of Run: make `output` from `input` atomically: on success the whole
// output is at `output`; on failure or cancellation nothing new is there (only
// possibly a temporary whose name IsTemporaryName recognises). `cancel`, when
// it becomes true, asks the executor to give up early with kCancelled.
//
// Thread safety: one Run at a time per executor.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/file_predictor.h"

namespace fb {

class FileExecutor {
 public:
  virtual ~FileExecutor() = default;
  virtual Result<FileStats> Run(const std::string& input, const std::string& output,
                                const std::atomic<bool>* cancel) = 0;
  // Run, less the commit of the output when the executor can leave it to
  // the caller (the built-in predictor: pipeline/file_predictor.h's
  // Prepare): then `output` of the result is set, and nothing is at
  // `output` until the caller commits it. The default runs Run, whose
  // output is committed already (`output` null).
  virtual Result<PreparedFile> Prepare(const std::string& input, const std::string& output,
                                       const std::atomic<bool>* cancel) {
    FB_ASSIGN_OR_RETURN(FileStats stats, Run(input, output, cancel));
    return PreparedFile{std::move(stats), nullptr};
  }
};

// The built-in predictor.
std::unique_ptr<FileExecutor> MakePredictorExecutor(std::unique_ptr<FilePredictor> predictor);

// Splits a command template into arguments: whitespace separates, '...' and
// "..." quote, backslash escapes the next character (outside '...').
Result<std::vector<std::string>> SplitCommand(const std::string& command);

// --exec: runs `command` once per file. Without `shell`, the command is split
// into arguments (SplitCommand) and {input} and {output} are replaced in each
// argument in one pass (a path never becomes more than one argument, and a
// path starting with '-' is passed as "./-..."). With `shell`, /bin/sh -c runs
// ShellScriptFor(command) with the paths in the environment variables
// FB_INPUT and FB_OUTPUT (also set without a shell), so no byte of a path is
// ever parsed by a shell. {output} is a temporary path in the output's folder;
// the executor renames it into place after the command exits 0 and wrote it.
// The command runs in its own process group; when it exits or is cancelled,
// whatever is left in that group is killed. Its stdout and stderr are the
// worker's. Rows are the output's lines. Local output folders only.
Result<std::unique_ptr<FileExecutor>> MakeCommandExecutor(const std::string& command, bool shell);

// The shell script run for a --shell command: each placeholder becomes
// "${FB_INPUT}" / "${FB_OUTPUT}" (without the quotes inside "..."). A
// placeholder inside '...', `...` or a here-document is refused, because
// whatever reads that text would parse the path's bytes.
Result<std::string> ShellScriptFor(const std::string& command);

}  // namespace fb
