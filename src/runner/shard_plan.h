// ShardPlan: which input files each task of an array job processes.
//
// Every task lists the input the same way (recursively, sorted by relative
// path in byte order) and computes the same plan, so tasks need no
// coordination. Two rules:
//   kCount (default): the seed's rule exactly: ceil(files / tasks) contiguous
//     files per task in sorted order; tasks past the end get nothing (with 3
//     files and 5 tasks, tasks 0-2 take one file each and 3-4 none).
//   kBytes: balances total bytes: files taken largest first (ties by path)
//     and each given to the task with the fewest bytes so far (ties to the
//     lowest index); each task then processes its files in sorted order.
//     Deterministic for a given listing.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/storage.h"

namespace fb {

enum class ShardBy : uint8_t { kCount, kBytes };

Result<ShardBy> ParseShardBy(std::string_view s);
const char* ShardByName(ShardBy s);

// Indices into `files` that task `index` of `count` processes, ascending.
// Precondition: 0 <= index < count.
std::vector<size_t> ShardFor(const std::vector<ObjectInfo>& files, int64_t index, int64_t count, ShardBy by);

// All tasks' shards (element i is ShardFor(files, i, count, by)).
std::vector<std::vector<size_t>> PlanShards(const std::vector<ObjectInfo>& files, int64_t count, ShardBy by);

// Which listed files are data, as Spark, Hadoop and pandas readers decide:
// not hidden (no path component starting with '.' or '_': _SUCCESS,
// _committed_*, _delta_log/, _temporary/, .part-0.crc), not a checksum
// (*.crc); then, when `include` is not empty, matching one of its globs, and
// matching none of `exclude`. A glob without '/' matches the file name, one
// with '/' the path relative to the input folder; '*' and '?' stop at '/'
// unless the pattern has "**", where '*' matches across folders.
struct InputFilter {
  std::vector<std::string> include, exclude;
  bool Accepts(std::string_view relative) const;
};

// Lists the input files under `input`: Storage::List (temporaries already
// skipped) minus forestbatch manifests, minus what `filter` rejects, and
// minus everything under `output` when the output folder lies inside the
// input folder (so a rerun never takes its own outputs as inputs).
// Where a local path or S3 URI really is, for comparing locations: local
// paths are made absolute and their existing part resolved (symlinks, ".",
// "..", repeated and trailing slashes), so "d", "./d/" and a link to d agree;
// S3 URIs lose repeated and trailing slashes. Never empty.
std::string ResolvedLocation(const std::string& uri);

// Refuses an input/output pair that would destroy or re-read inputs: the
// same folder (after ResolvedLocation), or the input inside the output
// folder (outputs could replace inputs), or, unless
// `allow_output_inside_input` (ListInputs then skips the output folder), the
// output inside the input. One rule for predict, run, worker and resume.
Status CheckInputOutput(const std::string& input, const std::string& output, bool allow_output_inside_input);

Result<std::vector<ObjectInfo>> ListInputs(Storage& storage, const std::string& input,
                                           const std::string& output, const InputFilter& filter = {});

}  // namespace fb
