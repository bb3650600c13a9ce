#include "runner/shard_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <queue>

#include "runner/manifest.h"

namespace fb {

Result<ShardBy> ParseShardBy(std::string_view s) {
  if (s == "count") return ShardBy::kCount;
  if (s == "bytes") return ShardBy::kBytes;
  return InvalidArgument("--shard-by must be 'count' or 'bytes', not '" + std::string(s) + "'");
}

const char* ShardByName(ShardBy s) { return s == ShardBy::kBytes ? "bytes" : "count"; }

std::vector<std::vector<size_t>> PlanShards(const std::vector<ObjectInfo>& files, int64_t count, ShardBy by) {
  std::vector<std::vector<size_t>> out(static_cast<size_t>(std::max<int64_t>(count, 1)));
  const size_t n = files.size();
  const size_t tasks = out.size();
  if (by == ShardBy::kCount) {
    // The seed: BATCH_SIZE = (files + workers - 1) / workers, slice [i*B, i*B+B).
    const size_t batch = (n + tasks - 1) / tasks;
    for (size_t t = 0; t < tasks; ++t) {
      const size_t begin = std::min(n, t * batch);
      const size_t end = std::min(n, begin + batch);
      for (size_t i = begin; i < end; ++i) out[t].push_back(i);
    }
    return out;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return files[a].size > files[b].size; });
  using Load = std::pair<uint64_t, size_t>;  // (bytes so far, task); smallest first
  std::priority_queue<Load, std::vector<Load>, std::greater<Load>> loads;
  for (size_t t = 0; t < tasks; ++t) loads.push({0, t});
  for (size_t i : order) {
    auto [bytes, t] = loads.top();
    loads.pop();
    out[t].push_back(i);
    loads.push({bytes + files[i].size, t});
  }
  for (auto& shard : out) std::sort(shard.begin(), shard.end());
  return out;
}

std::vector<size_t> ShardFor(const std::vector<ObjectInfo>& files, int64_t index, int64_t count, ShardBy by) {
  auto all = PlanShards(files, count, by);
  if (index < 0 || static_cast<size_t>(index) >= all.size()) return {};
  return std::move(all[static_cast<size_t>(index)]);
}

namespace {
std::string WithSlash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty() || s.back() != '/') s.push_back('/');
  return s;
}
}  // namespace

namespace {

bool Glob(const std::string& pattern, std::string_view relative) {
  std::string_view subject = relative;
  if (pattern.find('/') == std::string::npos) {
    if (auto slash = subject.rfind('/'); slash != std::string_view::npos) subject.remove_prefix(slash + 1);
  }
  const int flags = pattern.find("**") != std::string::npos ? 0 : FNM_PATHNAME;
  return ::fnmatch(pattern.c_str(), std::string(subject).c_str(), flags) == 0;
}

}  // namespace

bool InputFilter::Accepts(std::string_view relative) const {
  size_t at = 0;
  for (;;) {
    const size_t slash = relative.find('/', at);
    std::string_view part =
        relative.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    // "." and ".." are not hidden names: JoinUnder reports such hostile keys.
    if (!part.empty() && (part[0] == '.' || part[0] == '_') && part != "." && part != "..") return false;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (relative.size() >= 4 && relative.substr(relative.size() - 4) == ".crc") return false;
  if (!include.empty() &&
      std::none_of(include.begin(), include.end(), [&](const std::string& g) { return Glob(g, relative); }))
    return false;
  return std::none_of(exclude.begin(), exclude.end(),
                      [&](const std::string& g) { return Glob(g, relative); });
}

std::string ResolvedLocation(const std::string& uri) {
  if (IsS3Uri(uri)) {
    std::string out = "s3://";
    for (size_t i = 5; i < uri.size(); ++i) {
      if (uri[i] == '/' && !out.empty() && out.back() == '/') continue;
      out.push_back(uri[i]);
    }
    while (out.size() > 5 && out.back() == '/') out.pop_back();
    return out;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(uri.empty() ? "." : uri, ec);
  fs::path r = fs::weakly_canonical(p, ec);
  if (ec) r = p.lexically_normal();
  std::string s = r.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

namespace {
// Is `inner` (resolved) `outer` or under it?
bool AtOrUnder(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  const std::string o = outer.back() == '/' ? outer : outer + "/";
  return inner.compare(0, o.size(), o) == 0;
}
}  // namespace

Status CheckInputOutput(const std::string& input, const std::string& output, bool allow_output_inside_input) {
  if (input == "-" || output == "-") return Status::Ok();
  const std::string in = ResolvedLocation(input), out = ResolvedLocation(output);
  if (in == out) {
    return InvalidArgument("the output " + output + " is the input " + input +
                           ": every input would be replaced by its predictions; choose another output");
  }
  if (AtOrUnder(in, out)) {
    return InvalidArgument("the input " + input + " lies inside the output " + output +
                           ": outputs could replace inputs; choose an output outside the input");
  }
  if (!allow_output_inside_input && AtOrUnder(out, in)) {
    return InvalidArgument("the output " + output + " lies inside the input " + input +
                           "; choose an output outside the input");
  }
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> ListInputs(Storage& storage, const std::string& input,
                                           const std::string& output, const InputFilter& filter) {
  FB_ASSIGN_OR_RETURN(auto all, storage.List(input));
  // A file named on its own is read whatever its name.
  const bool single = all.size() == 1 && all[0].uri == input;
  const std::string in = WithSlash(ResolvedLocation(input));
  const std::string out = WithSlash(ResolvedLocation(output));
  // Output inside input: skip relative paths under the output's relative prefix.
  std::string skip_prefix;
  if (out.size() > in.size() && out.compare(0, in.size(), in) == 0) skip_prefix = out.substr(in.size());
  std::vector<ObjectInfo> files;
  files.reserve(all.size());
  for (auto& f : all) {
    std::string_view name = f.relative;
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    if (IsManifestName(name)) continue;
    if (!single && !filter.Accepts(f.relative)) continue;
    if (!skip_prefix.empty() && f.relative.compare(0, skip_prefix.size(), skip_prefix) == 0) continue;
    files.push_back(std::move(f));
  }
  return files;
}

}  // namespace fb
