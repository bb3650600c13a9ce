// Manifest: the small record written beside each output that makes a rerun
// skip it, and the rule that decides skip / redo / refuse.
//
// Scheme: for the output OUT/a/b.csv the manifest is OUT/a/.b.csv.fbmanifest.json
// (a dot file, so listings and globs pass over it). Writes go in this order:
//   1. the old manifest (if any) is deleted,
//   2. the output is written atomically (temporary name + rename),
//   3. the manifest is written atomically.
// A kill between 2 and 3 leaves an output without a manifest, which counts as
// not done and is redone; a manifest never vouches for an output it did not
// describe.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"
#include "common/status.h"
#include "storage/storage.h"

namespace fb {

struct Manifest {
  int version = 1;
  std::string input;  // relative path of the input (== relative path of the output)
  uint64_t input_bytes = 0;
  int64_t input_mtime_ns = 0;  // 0 when the storage does not know
  std::string model_sha256;    // sha256 of the model file's bytes ("" for --exec without a model)
  std::string options;         // fingerprint of everything that shapes the output
  uint64_t rows = 0;
  std::vector<uint64_t> class_counts;
  std::string output_sha256;
  uint64_t output_bytes = 0;
  double read_seconds = 0, predict_seconds = 0, write_seconds = 0, total_seconds = 0;
  int attempts = 1;
  std::string job;
  int64_t task = -1;        // the array task that made it (-1: not recorded)
  std::string host;         // where it was made ("" : not recorded)
  std::string finished_at;  // UTC, ISO 8601

  std::string ToJson() const;
  static Result<Manifest> Parse(std::string_view json, const std::string& name);
};

// "dir/.name.fbmanifest.json" for "dir/name" (also for s3:// URIs).
std::string ManifestPathFor(const std::string& output);
bool IsManifestName(std::string_view file_name);

enum class Decision : uint8_t {
  kProcess,   // no valid output yet (or it is stale): make it
  kSkip,      // a complete output from this model and options exists
  kConflict,  // a complete output from another model or options exists
};

struct Existing {
  std::optional<Manifest> manifest;          // nullopt: none, or unreadable
  std::optional<ObjectInfo> output;          // nullopt: no output
  std::optional<std::string> output_sha256;  // set only when verifying
};

// Decides what to do with one input. `why` receives a short reason for the log.
// With `overwrite`, a conflict becomes kProcess.
Decision Decide(const Existing& existing, const ObjectInfo& input, const std::string& model_sha256,
                const std::string& options, bool overwrite, std::string* why);

// Reads the manifest and stats the output (and hashes it when `verify`).
Result<Existing> Inspect(Storage& storage, const std::string& output, bool verify);

// Hex SHA-256 of an object, streamed.
Result<std::string> Sha256OfObject(Storage& storage, const std::string& uri);

// Current time, UTC, ISO 8601 with seconds ("2026-11-28T20:15:03Z").
std::string UtcNow();

}  // namespace fb
