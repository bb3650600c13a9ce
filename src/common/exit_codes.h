// Process exit codes of every forestbatch command, worker processes included.
// Documented in README ("Exit codes"); scripts, the local supervisor
// (runner/local_job.cc) and the scale-out engines' retry rules (AWS Batch
// retryStrategy, Kubernetes podFailurePolicy) rely on them: never renumber.
// Here, not in cli/, so that every layer can name them.
#pragma once

namespace fb {

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

// Every code above, in order, with a short meaning (what `--help` lists).
struct ExitCodeInfo {
  ExitCode code;
  const char* meaning;
};
inline constexpr ExitCodeInfo kExitCodes[] = {
    {kExitOk, "ok"},
    {kExitSomeFailed, "some files failed (see status JOB)"},
    {kExitUsage, "bad command line"},
    {kExitDataError, "invalid input data or model"},
    {kExitUnsupported, "unsupported model or option"},
    {kExitNotFound, "not found"},
    {kExitIoError, "I/O error"},
    {kExitAlreadyExists, "refusing to overwrite"},
    {kExitInternal, "internal error"},
    {kExitInterrupted, "interrupted (SIGINT/SIGTERM, a Spot notice or cancel): safe to retry"},
};

// A worker that exits with one of these would fail the same way again (bad
// options, model or input; nothing to do; refusing to overwrite): the local
// supervisor does not restart it.
// The Kubernetes Indexed Job's podFailurePolicy fails an index on the same
// codes (scaleout/kubernetes_job.cc).
inline constexpr int kPermanentExitCodes[] = {kExitUsage, kExitDataError, kExitUnsupported, kExitNotFound,
                                              kExitAlreadyExists};
constexpr bool IsPermanentExit(int code) {
  for (int c : kPermanentExitCodes)
    if (c == code) return true;
  return false;
}

// What a child process exits with when it could not be started (exec
// failed): the shell's convention, not a forestbatch code.
inline constexpr int kExitCannotExec = 127;

}  // namespace fb
