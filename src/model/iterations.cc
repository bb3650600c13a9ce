#include "model/iterations.h"

#include <fmt/format.h>

#include <charconv>

#include "model/forest_builder.h"

namespace fb {
namespace {

Result<int32_t> ParseRound(std::string_view s, std::string_view whole) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) {
    return InvalidArgument(
        fmt::format("bad iteration range \"{}\": expected BEGIN:END with non-negative "
                    "integers, \"best\" or \"all\"",
                    whole));
  }
  return v;
}

}  // namespace

Result<IterationRange> ParseIterationRange(std::string_view text) {
  if (text == "best") return IterationRange{-1, 0};
  if (text == "all") return IterationRange{0, 0};
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return ParseRound("", text).status();
  FB_ASSIGN_OR_RETURN(int32_t begin, ParseRound(text.substr(0, colon), text));
  FB_ASSIGN_OR_RETURN(int32_t end, ParseRound(text.substr(colon + 1), text));
  return IterationRange{begin, end};
}

Result<Forest> SliceIterations(Forest f, IterationRange range) {
  if (range.begin == 0 && range.end == 0) return f;
  if (f.trees_per_iteration <= 0) {
    return InvalidArgument("this model has no boosting rounds, so --iteration-range does not apply to it");
  }
  const int64_t rounds = static_cast<int64_t>(f.trees.size()) / f.trees_per_iteration;
  const int64_t end = range.end == 0 ? rounds : range.end;
  if (range.begin < 0 || end > rounds || range.begin >= end) {
    return InvalidArgument(
        fmt::format("iteration range {}:{} is outside the model's {} rounds (BEGIN < END <= {})", range.begin,
                    range.end, rounds, rounds));
  }
  const size_t tpi = static_cast<size_t>(f.trees_per_iteration);
  // The slice drops the stored layout, so its predictor compiles from the nodes.
  if (!f.trees_decoded()) {
    FB_ASSIGN_OR_RETURN(f, DecodeTrees(std::move(f)));
  }
  std::vector<Tree> kept(std::make_move_iterator(f.trees.begin() + range.begin * tpi),
                         std::make_move_iterator(f.trees.begin() + end * tpi));
  f.trees = std::move(kept);
  f.stored_layout.reset();  // it described the trees before the slice
  // Drop categories no remaining node uses? They are harmless; keep them.
  if (f.best_iteration >= range.begin && f.best_iteration < end) {
    f.best_iteration -= range.begin;
  } else {
    f.best_iteration = -1;
  }
  f.predict_uses_best_iteration = false;
  return BuildForest(std::move(f));
}

Result<Forest> SelectIterations(Forest f, const IterationRange* explicit_range) {
  if (explicit_range != nullptr) {
    if (explicit_range->begin == -1) {
      if (f.best_iteration < 0)
        return InvalidArgument("--iteration-range best: the model records no best iteration");
      return SliceIterations(std::move(f), IterationRange{0, f.best_iteration + 1});
    }
    return SliceIterations(std::move(f), *explicit_range);
  }
  if (f.predict_uses_best_iteration && f.best_iteration >= 0)
    return SliceIterations(std::move(f), IterationRange{0, f.best_iteration + 1});
  return f;
}

Result<Forest> SelectIterationsFlag(Forest f, std::string_view flag) {
  if (flag.empty()) return SelectIterations(std::move(f), nullptr);
  FB_ASSIGN_OR_RETURN(IterationRange r, ParseIterationRange(flag));
  return SelectIterations(std::move(f), &r);
}

}  // namespace fb
