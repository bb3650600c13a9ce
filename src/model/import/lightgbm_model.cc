// LightGBM text models into a Forest (read against LightGBM's source at
// commit bae0b7ba: src/boosting/gbdt_model_text.cpp, src/io/tree.cpp,
// include/LightGBM/tree.h, src/objective/*.hpp).
//
// Layout: the line "tree", header lines key=value (version, num_class,
// num_tree_per_iteration, label_index, max_feature_idx, objective,
// average_output, feature_names, monotone_constraints, feature_infos,
// tree_sizes), then per tree "Tree=<i>" and key=value lines up to a blank
// line, then "end of trees" and sections LightGBM does not predict with
// (feature_importances, parameters, parser, pandas_categorical).
//
// LightGBM's rules, and how they map onto the Forest's (model/forest.h):
//   - Prediction is double: each value |v| <= kZeroThreshold (1e-35f) is
//     read as 0 (parser and C API); a numeric node goes left when v <=
//     threshold (double); missing type None: NaN is 0; Zero: 0 and NaN take
//     the default side; NaN: NaN takes the default side. The Forest compares
//     float32, so every feature gets LightGBM's float64 input map
//     (common/float64_features.h): the readers turn each parsed double into
//     a signed rank among the feature's thresholds (0 for the zero band
//     alone) and the nodes compare ranks, which keeps every decision for
//     every double. Missing type None sends NaN where 0 goes; Zero sends 0
//     where NaN goes: when every node on a feature does (no missing-type-NaN
//     node sends them apart), the map reads the zero band as NaN
//     (zero_is_missing); otherwise a Zero node carries the zero_missing flag
//     unless 0 goes to the default side anyway.
//   - A categorical node goes LEFT when static_cast<int>(v) is in its bitset,
//     right for NaN, negative ints and ints past the bitset. The map turns v
//     into that int (or -1 when it is negative or 2^24 and more). The Forest
//     sends listed categories RIGHT, so children swap; NaN goes to the
//     Forest's left (default_left). A feature split both ways (LightGBM
//     never writes one: a feature's bin mapper is numeric or categorical) is
//     refused.
//   - Leaf values are stored after shrinkage; trees add in order, in double,
//     from 0; average_output (random forest) divides by the iteration count
//     (Aggregate::kSumMean); the objective's ConvertOutput is the link.
#include "model/import/lightgbm_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "model/forest_builder.h"

namespace fb {
namespace {

// Bounds on header counts (each is also bounded by what the file holds).
constexpr int64_t kMaxClasses = 1 << 20;
constexpr int64_t kMaxFeatures = 1 << 22;
// All categorical splits' categories together (4 bytes each): a bitset word
// of a few bytes of text can list 32 of them.
constexpr size_t kMaxCategories = size_t{1} << 24;

Status Bad(uint64_t line, const std::string& m) { return InvalidData("LightGBM model: " + m).At("", line); }
Status Refuse(uint64_t line, const std::string& m) {
  return Unsupported("LightGBM model: " + m).At("", line);
}

struct Line {
  std::string_view text;
  uint64_t number = 0;  // 1-based
  size_t offset = 0;    // byte offset of the line's start
};

// Lines split at '\n', a trailing '\r' removed.
class Lines {
 public:
  explicit Lines(std::string_view b) : b_(b) {}
  bool Next(Line* l) {
    if (pos_ >= b_.size()) return false;
    size_t end = b_.find('\n', pos_);
    if (end == std::string_view::npos) end = b_.size();
    l->offset = pos_;
    l->text = b_.substr(pos_, end - pos_);
    if (!l->text.empty() && l->text.back() == '\r') l->text.remove_suffix(1);
    l->number = ++line_;
    pos_ = end + 1;
    return true;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
  uint64_t line_ = 0;
};

Result<int64_t> ParseInt(std::string_view s, const Line& l, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return Bad(l.number, fmt::format("{} '{}' is not an integer", what, s.substr(0, 40)));
  return v;
}

Result<double> ParseDouble(std::string_view s, const Line& l, std::string_view what) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return Bad(l.number, fmt::format("{} '{}' is not a number", what, s.substr(0, 40)));
  return v;
}

// Space-separated tokens (runs of spaces are one separator).
std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// A key's value and the line it came from.
struct Field {
  std::string_view value;
  Line line;
};
using Fields = std::map<std::string, Field, std::less<>>;

// An array field of exactly n values (n < 0: any count).
template <typename T>
Result<std::vector<T>> Array(const Fields& f, std::string_view key, int64_t n, std::string_view where) {
  auto it = f.find(key);
  if (it == f.end()) return Bad(0, fmt::format("{} has no {} line", where, key));
  const Line& l = it->second.line;
  std::vector<T> out;
  for (std::string_view tok : Tokens(it->second.value)) {
    if (n >= 0 && static_cast<int64_t>(out.size()) >= n) break;
    if constexpr (std::is_floating_point_v<T>) {
      FB_ASSIGN_OR_RETURN(double d, ParseDouble(tok, l, key));
      out.push_back(static_cast<T>(d));
    } else {
      FB_ASSIGN_OR_RETURN(int64_t v, ParseInt(tok, l, key));
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<int64_t>(std::numeric_limits<T>::max()))
        return Bad(l.number, fmt::format("{} value {} out of range", key, v));
      out.push_back(static_cast<T>(v));
    }
  }
  const size_t count = Tokens(it->second.value).size();
  if (n >= 0 && count != static_cast<size_t>(n))
    return Bad(l.number, fmt::format("{} has {} values, expected {}", key, count, n));
  return out;
}

// How one objective turns raw scores into outputs.
struct ObjectiveInfo {
  ModelKind kind = ModelKind::kRegressor;
  Link link = Link::kIdentity;
  double sigmoid = 1.0;     // binary, multiclassova
  int64_t num_class = -1;   // multiclass, multiclassova
  bool classifier = false;  // labels 0 .. K-1 (binary: 0, 1)
};

// ParseObjectiveAlias (config.h): applied to the whole objective string.
std::string ObjectiveAlias(std::string_view s) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"regression_l2", "regression"},
      {"mean_squared_error", "regression"},
      {"mse", "regression"},
      {"l2", "regression"},
      {"l2_root", "regression"},
      {"root_mean_squared_error", "regression"},
      {"rmse", "regression"},
      {"mean_absolute_error", "regression_l1"},
      {"l1", "regression_l1"},
      {"mae", "regression_l1"},
      {"softmax", "multiclass"},
      {"multiclass_ova", "multiclassova"},
      {"ova", "multiclassova"},
      {"ovr", "multiclassova"},
      {"xentropy", "cross_entropy"},
      {"xentlambda", "cross_entropy_lambda"},
      {"mean_absolute_percentage_error", "mape"},
      {"xendcg", "rank_xendcg"},
      {"xe_ndcg", "rank_xendcg"},
      {"xe_ndcg_mart", "rank_xendcg"},
      {"xendcg_mart", "rank_xendcg"},
      {"none", "custom"},
      {"null", "custom"},
      {"na", "custom"},
  };
  for (const auto& [alias, name] : kAliases)
    if (s == alias) return name;
  return std::string(s);
}

// ObjectiveFunction::CreateObjectiveFunction(string) and each objective's
// string constructor and ConvertOutput.
Result<ObjectiveInfo> ParseObjective(std::string_view text, const Line& l) {
  const std::string full = ObjectiveAlias(text);
  std::vector<std::string_view> parts = Tokens(full);
  if (parts.empty()) return Bad(l.number, "empty objective");
  const std::string_view type = parts[0];
  ObjectiveInfo o;
  bool sqrt = false;
  double sigmoid = -1;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p == "sqrt") sqrt = true;
    size_t colon = p.find(':');
    if (colon == std::string_view::npos || p.find(':', colon + 1) != std::string_view::npos) continue;
    std::string_view k = p.substr(0, colon), v = p.substr(colon + 1);
    if (k == "sigmoid") {
      FB_ASSIGN_OR_RETURN(sigmoid, ParseDouble(v, l, "objective sigmoid"));
    } else if (k == "num_class") {
      FB_ASSIGN_OR_RETURN(o.num_class, ParseInt(v, l, "objective num_class"));
    }
  }
  auto need_sigmoid = [&]() -> Status {
    if (!(sigmoid > 0.0) || !std::isfinite(sigmoid))
      return Bad(l.number, fmt::format("objective {} needs sigmoid:X with X > 0", type));
    o.sigmoid = sigmoid;
    o.link = sigmoid == 1.0 ? Link::kSigmoid : Link::kScaledSigmoid;
    return Status::Ok();
  };
  if (type == "binary") {
    FB_RETURN_IF_ERROR(need_sigmoid());
    o.kind = ModelKind::kClassifier;
    o.classifier = true;
  } else if (type == "multiclass" || type == "multiclassova") {
    if (o.num_class < 1) return Bad(l.number, fmt::format("objective {} needs num_class:K", type));
    if (type == "multiclassova") {
      FB_RETURN_IF_ERROR(need_sigmoid());
    } else {
      o.link = Link::kSoftmax;
    }
    o.kind = ModelKind::kClassifier;
    o.classifier = true;
  } else if (type == "regression" || type == "regression_l1" || type == "quantile" || type == "mape") {
    // RegressionL2loss reads "sqrt"; L1, quantile and MAPE inherit it.
    o.link = sqrt ? Link::kSignedSquare : Link::kIdentity;
  } else if (type == "huber" || type == "fair" || type == "lambdarank" || type == "rank_xendcg" ||
             type == "custom") {
    // Huber and fair turn sqrt off; ranking scores and custom objectives
    // are raw.
    o.link = Link::kIdentity;
  } else if (type == "poisson" || type == "gamma" || type == "tweedie") {
    o.link = Link::kExp;
  } else if (type == "cross_entropy") {
    o.link = Link::kSigmoid;
  } else if (type == "cross_entropy_lambda") {
    o.link = Link::kSoftplus;
  } else {
    return Refuse(l.number, fmt::format("unknown objective type '{}'", type.substr(0, 60)));
  }
  return o;
}

// The header keys LightGBM writes; others are refused.
constexpr std::string_view kHeaderKeys[] = {
    "version",    "num_class",      "num_tree_per_iteration", "label_index",          "max_feature_idx",
    "objective",  "average_output", "feature_names",          "monotone_constraints", "feature_infos",
    "tree_sizes",
};
constexpr std::string_view kTreeKeys[] = {
    "num_leaves",      "num_cat",        "split_feature",  "split_gain",    "threshold",  "decision_type",
    "left_child",      "right_child",    "leaf_value",     "leaf_weight",   "leaf_count", "internal_value",
    "internal_weight", "internal_count", "cat_boundaries", "cat_threshold", "is_linear",  "leaf_const",
    "num_features",    "leaf_features",  "leaf_coeff",     "shrinkage",
};

template <size_t N>
bool Known(const std::string_view (&keys)[N], std::string_view k) {
  for (std::string_view s : keys)
    if (s == k) return true;
  return false;
}

// One "key=value" (or "key") line into `fields`; `multi` keys may hold '='
// in their values.
Status AddField(const Line& l, Fields* fields, std::string_view where) {
  size_t eq = l.text.find('=');
  std::string_view key = l.text.substr(0, eq);
  std::string_view value = eq == std::string_view::npos ? std::string_view() : l.text.substr(eq + 1);
  if (value.find('=') != std::string_view::npos && key != "feature_names" && key != "monotone_constraints")
    return Bad(l.number, fmt::format("wrong line in {}: '{}'", where, l.text.substr(0, 80)));
  if (fields->count(key))
    return Bad(l.number, fmt::format("{} line appears twice in {}", key.substr(0, 60), where));
  fields->emplace(std::string(key), Field{value, l});
  return Status::Ok();
}

int64_t LineOf(const Fields& f, std::string_view key, int64_t fallback) {
  auto it = f.find(key);
  return it == f.end() ? fallback : static_cast<int64_t>(it->second.line.number);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : lines_(b) {}

  Result<Forest> Read() {
    Line l;
    if (!lines_.Next(&l) || l.text != "tree")
      return Bad(1, "the first line is not 'tree' (not a LightGBM text model)");
    FB_RETURN_IF_ERROR(ReadHeader());
    FB_RETURN_IF_ERROR(ReadTrees());
    FB_RETURN_IF_ERROR(MapInputs());
    return BuildForest(std::move(f_));
  }

 private:
  Status ReadHeader() {
    Line l;
    while (lines_.Next(&l)) {
      if (l.text.empty()) continue;
      if (l.text.starts_with("Tree=") || l.text == "end of trees") {
        first_tree_ = l;
        have_first_ = true;
        break;
      }
      FB_RETURN_IF_ERROR(AddField(l, &header_, "the header"));
      std::string_view key = l.text.substr(0, l.text.find('='));
      if (!Known(kHeaderKeys, key))
        return Refuse(l.number, fmt::format("unknown header line '{}'", key.substr(0, 60)));
    }
    if (!have_first_) return Bad(l.number, "no trees and no 'end of trees' line (truncated file?)");
    f_.info.source_format = "lightgbm-text";
    f_.info.estimator = "LightGBM gbdt";
    if (auto it = header_.find("version"); it != header_.end()) {
      const std::string_view v = it->second.value;
      if (v != "v2" && v != "v3" && v != "v4")
        return Refuse(it->second.line.number, fmt::format("model format version '{}' is not supported "
                                                          "(forestbatch reads v2 to v4)",
                                                          v.substr(0, 20)));
      f_.info.source_format = "lightgbm-text " + std::string(v);  // the format's version, not LightGBM's
    }
    FB_ASSIGN_OR_RETURN(int64_t num_class, HeaderInt("num_class", 1, kMaxClasses));
    int64_t per_iteration = num_class;
    if (header_.count("num_tree_per_iteration")) {
      FB_ASSIGN_OR_RETURN(per_iteration, HeaderInt("num_tree_per_iteration", 1, kMaxClasses));
    }
    FB_ASSIGN_OR_RETURN(int64_t label_index,
                        HeaderInt("label_index", -1, std::numeric_limits<int32_t>::max()));
    (void)label_index;  // LightGBM requires it; prediction does not use it
    FB_ASSIGN_OR_RETURN(int64_t max_feature, HeaderInt("max_feature_idx", 0, kMaxFeatures - 1));
    f_.n_features = static_cast<int32_t>(max_feature + 1);
    // feature_names and feature_infos: one per feature (LightGBM checks both).
    for (const char* key : {"feature_names", "feature_infos", "monotone_constraints"}) {
      auto it = header_.find(key);
      if (it == header_.end()) {
        if (std::string_view(key) == "monotone_constraints") continue;
        return Bad(0, fmt::format("the header has no {} line", key));
      }
      // LightGBM splits on single spaces.
      size_t n = 1;
      for (char c : it->second.value) n += c == ' ';
      if (n != static_cast<size_t>(f_.n_features))
        return Bad(it->second.line.number,
                   fmt::format("{} has {} entries for max_feature_idx={}", key, n, max_feature));
    }
    {
      std::string_view names = header_.at("feature_names").value;
      size_t i = 0;
      while (true) {
        size_t sp = names.find(' ', i);
        f_.feature_names.emplace_back(names.substr(i, sp == std::string_view::npos ? sp : sp - i));
        if (f_.feature_names.back().empty())
          return Bad(header_.at("feature_names").line.number,
                     fmt::format("feature {} has an empty name", f_.feature_names.size() - 1));
        if (sp == std::string_view::npos) break;
        i = sp + 1;
      }
    }
    ObjectiveInfo obj;  // no objective line: raw scores (LightGBM applies no conversion)
    if (auto it = header_.find("objective"); it != header_.end()) {
      FB_ASSIGN_OR_RETURN(obj, ParseObjective(it->second.value, it->second.line));
      f_.info.objective = std::string(it->second.value);
    }
    const int64_t obj_line = LineOf(header_, "objective", 0);
    if (obj.num_class >= 0 && (obj.num_class != num_class || per_iteration != num_class))
      return Bad(obj_line,
                 fmt::format("objective num_class:{} but num_class={} and num_tree_per_iteration={}",
                             obj.num_class, num_class, per_iteration));
    if (obj.classifier && obj.num_class < 0 && per_iteration != 1)
      return Bad(obj_line, fmt::format("binary objective with {} trees per iteration", per_iteration));
    // ConvertOutput of the other objectives converts output 0 only.
    if (!obj.classifier && obj.link != Link::kIdentity && per_iteration != 1)
      return Bad(obj_line,
                 fmt::format("objective {} with {} trees per iteration", f_.info.objective, per_iteration));
    f_.kind = obj.kind;
    f_.link = obj.link;
    if (obj.link == Link::kScaledSigmoid) f_.link_params = {obj.sigmoid};
    f_.n_outputs = static_cast<int32_t>(per_iteration);
    f_.leaf_width = 1;
    f_.trees_per_iteration = f_.n_outputs;
    f_.aggregate = Aggregate::kSum;
    if (auto it = header_.find("average_output"); it != header_.end()) {
      if (!it->second.value.empty()) return Bad(it->second.line.number, "average_output takes no value");
      f_.aggregate = Aggregate::kSumMean;
      f_.info.estimator = "LightGBM rf";
    }
    f_.base_margin.assign(f_.n_outputs, 0.0);
    if (obj.classifier) {
      const int32_t k = f_.n_outputs == 1 ? 2 : f_.n_outputs;
      for (int32_t c = 0; c < k; ++c) f_.class_labels.push_back(std::to_string(c));
      f_.labels_are_integers = true;
    }
    return Status::Ok();
  }

  Result<int64_t> HeaderInt(const char* key, int64_t lo, int64_t hi) {
    auto it = header_.find(key);
    if (it == header_.end()) return Bad(0, fmt::format("the header has no {} line", key));
    FB_ASSIGN_OR_RETURN(int64_t v, ParseInt(it->second.value, it->second.line, key));
    if (v < lo || v > hi) return Bad(it->second.line.number, fmt::format("{}={} out of range", key, v));
    return v;
  }

  Status ReadTrees() {
    std::vector<size_t> starts;
    Line l = first_tree_;
    bool have = true;
    size_t end_offset = 0;
    bool ended = false;
    while (have) {
      if (l.text.empty()) {
        have = lines_.Next(&l);
        continue;
      }
      if (l.text == "end of trees") {
        end_offset = l.offset;
        ended = true;
        break;
      }
      if (!l.text.starts_with("Tree="))
        return Bad(l.number, fmt::format("expected 'Tree={}' or 'end of trees', found '{}'", f_.trees.size(),
                                         l.text.substr(0, 60)));
      FB_ASSIGN_OR_RETURN(int64_t index, ParseInt(l.text.substr(5), l, "tree index"));
      if (index != static_cast<int64_t>(f_.trees.size()))
        return Bad(l.number, fmt::format("tree {} where tree {} was expected", index, f_.trees.size()));
      starts.push_back(l.offset);
      const Line tree_line = l;
      Fields fields;
      have = false;
      while (lines_.Next(&l)) {
        if (l.text.empty()) {
          have = true;
          break;
        }
        FB_RETURN_IF_ERROR(AddField(l, &fields, fmt::format("tree {}", index)));
        std::string_view key = l.text.substr(0, l.text.find('='));
        if (!Known(kTreeKeys, key))
          return Refuse(l.number, fmt::format("unknown line '{}' in tree {}", key.substr(0, 60), index));
      }
      FB_RETURN_IF_ERROR(ReadTree(fields, tree_line));
    }
    if (!ended) return Bad(l.number, "no 'end of trees' line (truncated file?)");
    if (f_.trees.size() % static_cast<size_t>(f_.n_outputs) != 0)
      return Bad(l.number,
                 fmt::format("{} trees are not whole iterations of {} trees", f_.trees.size(), f_.n_outputs));
    // LightGBM finds tree i at the first tree's offset plus the sizes before
    // it: they must agree with where the trees are.
    if (auto it = header_.find("tree_sizes"); it != header_.end()) {
      const Line& sl = it->second.line;
      std::vector<std::string_view> toks = Tokens(it->second.value);
      if (toks.size() != f_.trees.size())
        return Bad(sl.number,
                   fmt::format("tree_sizes lists {} trees, the file has {}", toks.size(), f_.trees.size()));
      uint64_t at = starts.empty() ? end_offset : starts[0];
      for (size_t t = 0; t <= toks.size(); ++t) {
        const size_t actual = t < starts.size() ? starts[t] : end_offset;
        if (at != actual)
          return Bad(sl.number, fmt::format("tree_sizes puts {} at byte {}, the file has it at byte {}",
                                            t < starts.size() ? fmt::format("tree {}", t) : "'end of trees'",
                                            at, actual));
        if (t == toks.size()) break;
        FB_ASSIGN_OR_RETURN(int64_t size, ParseInt(toks[t], sl, "tree size"));
        if (size <= 0 || static_cast<uint64_t>(size) > (1ull << 48))
          return Bad(sl.number, fmt::format("tree size {} out of range", size));
        at += static_cast<uint64_t>(size);
      }
    }
    return Status::Ok();
  }

  // One tree block: LightGBM's nodes 0 .. L-2 (internal) keep their index,
  // leaf j becomes node L-1+j.
  Status ReadTree(const Fields& fields, const Line& tree_line) {
    const size_t t = f_.trees.size();
    const std::string where = fmt::format("tree {} (line {})", t, tree_line.number);
    auto int_field = [&](const char* key, int64_t lo, int64_t hi, int64_t dflt,
                         bool required) -> Result<int64_t> {
      auto it = fields.find(key);
      if (it == fields.end()) {
        if (required) return Bad(tree_line.number, fmt::format("{} has no {} line", where, key));
        return dflt;
      }
      FB_ASSIGN_OR_RETURN(int64_t v, ParseInt(it->second.value, it->second.line, key));
      if (v < lo || v > hi) return Bad(it->second.line.number, fmt::format("{}={} out of range", key, v));
      return v;
    };
    // num_leaves is bounded by the leaf_value line's length below.
    FB_ASSIGN_OR_RETURN(int64_t num_leaves,
                        int_field("num_leaves", 1, std::numeric_limits<int32_t>::max() / 2, 0, true));
    FB_ASSIGN_OR_RETURN(int64_t num_cat,
                        int_field("num_cat", 0, std::numeric_limits<int32_t>::max() - 1, 0, true));
    FB_ASSIGN_OR_RETURN(int64_t is_linear, int_field("is_linear", 0, 1, 0, false));
    if (is_linear != 0)
      return Refuse(LineOf(fields, "is_linear", 0),
                    fmt::format("{} is a linear tree (is_linear=1, linear_tree=true): not supported", where));
    if (fields.count("shrinkage")) {
      const Field& s = fields.at("shrinkage");
      FB_ASSIGN_OR_RETURN(double shrinkage, ParseDouble(s.value, s.line, "shrinkage"));
      (void)shrinkage;  // already applied to leaf_value
    }
    auto fail = [&](const char* key, const std::string& m) {
      return Bad(LineOf(fields, key, tree_line.number), fmt::format("{}: {}", where, m));
    };
    const auto need = [&](const char* key) -> Status {
      if (!fields.count(key)) return Bad(tree_line.number, fmt::format("{} has no {} line", where, key));
      return Status::Ok();
    };
    FB_RETURN_IF_ERROR(need("leaf_value"));
    // Array checks the count before anything of num_leaves' size is allocated.
    FB_ASSIGN_OR_RETURN(std::vector<double> leaf_value,
                        Array<double>(fields, "leaf_value", num_leaves, where));
    for (double v : leaf_value)
      if (std::isnan(v)) return fail("leaf_value", "a leaf value is NaN");
    Tree tree;
    tree.output = static_cast<int32_t>(t % static_cast<size_t>(f_.n_outputs));
    if (num_leaves == 1) {
      tree.nodes.resize(1);
      tree.values = {leaf_value[0]};
      f_.trees.push_back(std::move(tree));
      return Status::Ok();
    }
    const int64_t n_inner = num_leaves - 1;
    for (const char* key : {"split_feature", "threshold", "left_child", "right_child"})
      FB_RETURN_IF_ERROR(need(key));
    FB_ASSIGN_OR_RETURN(std::vector<int32_t> split_feature,
                        Array<int32_t>(fields, "split_feature", n_inner, where));
    FB_ASSIGN_OR_RETURN(std::vector<double> threshold, Array<double>(fields, "threshold", n_inner, where));
    FB_ASSIGN_OR_RETURN(std::vector<int32_t> left, Array<int32_t>(fields, "left_child", n_inner, where));
    FB_ASSIGN_OR_RETURN(std::vector<int32_t> right, Array<int32_t>(fields, "right_child", n_inner, where));
    std::vector<int32_t> decision(static_cast<size_t>(n_inner), 0);
    if (fields.count("decision_type")) {
      FB_ASSIGN_OR_RETURN(decision, Array<int32_t>(fields, "decision_type", n_inner, where));
    }
    std::vector<int32_t> cat_boundaries;
    std::vector<uint32_t> cat_threshold;
    if (num_cat > 0) {
      FB_RETURN_IF_ERROR(need("cat_boundaries"));
      FB_RETURN_IF_ERROR(need("cat_threshold"));
      FB_ASSIGN_OR_RETURN(cat_boundaries, Array<int32_t>(fields, "cat_boundaries", num_cat + 1, where));
      FB_ASSIGN_OR_RETURN(cat_threshold, Array<uint32_t>(fields, "cat_threshold", -1, where));
      if (cat_boundaries[0] != 0) return fail("cat_boundaries", "cat_boundaries does not start at 0");
      for (int64_t c = 0; c < num_cat; ++c)
        if (cat_boundaries[c + 1] < cat_boundaries[c])
          return fail("cat_boundaries", "cat_boundaries is not ascending");
      if (static_cast<size_t>(cat_boundaries[num_cat]) != cat_threshold.size())
        return fail("cat_threshold", fmt::format("cat_threshold has {} words, cat_boundaries ends at {}",
                                                 cat_threshold.size(), cat_boundaries[num_cat]));
    }
    tree.nodes.resize(static_cast<size_t>(2 * num_leaves - 1));
    tree.values.assign(tree.nodes.size(), 0.0);
    for (int64_t j = 0; j < num_leaves; ++j) tree.values[n_inner + j] = leaf_value[j];
    auto child = [&](int32_t c, const char* key) -> Result<int32_t> {
      if (c >= 0) {
        if (c >= n_inner) return fail(key, fmt::format("child {} out of range [0, {})", c, n_inner));
        return c;
      }
      const int64_t leaf = ~static_cast<int64_t>(c);
      if (leaf >= num_leaves)
        return fail(key, fmt::format("leaf ~{} out of range [0, {})", leaf, num_leaves));
      return static_cast<int32_t>(n_inner + leaf);
    };
    for (int64_t i = 0; i < n_inner; ++i) {
      Node& nd = tree.nodes[i];
      const std::string node = fmt::format("node {}", i);
      if (split_feature[i] < 0 || split_feature[i] >= f_.n_features)
        return fail("split_feature", fmt::format("{}: feature {} out of range [0, {})", node,
                                                 split_feature[i], f_.n_features));
      nd.feature = split_feature[i];
      const int32_t dt = decision[i];
      if (dt < 0 || dt > 15 || ((dt >> 2) & 3) == 3)
        return fail("decision_type",
                    fmt::format("{}: decision_type {} is not one LightGBM writes", node, dt));
      FB_ASSIGN_OR_RETURN(int32_t l, child(left[i], "left_child"));
      FB_ASSIGN_OR_RETURN(int32_t r, child(right[i], "right_child"));
      const double thr = threshold[i];
      if (std::isnan(thr)) return fail("threshold", fmt::format("{}: threshold is NaN", node));
      if (dt & 1) {
        // Categorical: LightGBM uses CategoricalDecision only when num_cat > 0.
        if (num_cat == 0)
          return fail("decision_type", fmt::format("{}: categorical split in a tree with num_cat=0", node));
        if (thr != std::floor(thr) || thr < 0 || thr >= static_cast<double>(num_cat))
          return fail("threshold",
                      fmt::format("{}: category set index {} out of range [0, {})", node, thr, num_cat));
        const int32_t c = static_cast<int32_t>(thr);
        nd.categorical = true;
        nd.cat_truncate = true;
        nd.default_left = true;  // NaN: LightGBM's right, the Forest's left
        nd.left = r;             // not in the set
        nd.right = l;            // in the set
        nd.cat_begin = static_cast<uint32_t>(f_.categories.size());
        for (int32_t w = cat_boundaries[c]; w < cat_boundaries[c + 1]; ++w) {
          const uint32_t bits = cat_threshold[w];
          for (int b = 0; b < 32; ++b) {
            if (!((bits >> b) & 1u)) continue;
            const int64_t category = 32 * static_cast<int64_t>(w - cat_boundaries[c]) + b;
            if (category >= kMaxCategory)
              return Refuse(LineOf(fields, "cat_threshold", tree_line.number),
                            fmt::format("{}: {}: category {} is 2^24 or more (float32 inputs cannot "
                                        "tell such categories apart)",
                                        where, node, category));
            if (f_.categories.size() >= kMaxCategories)
              return Refuse(LineOf(fields, "cat_threshold", tree_line.number),
                            fmt::format("{}: more than {} categories in the model's categorical splits",
                                        where, kMaxCategories));
            f_.categories.push_back(static_cast<int32_t>(category));
          }
        }
        nd.cat_count = static_cast<uint32_t>(f_.categories.size() - nd.cat_begin);
        continue;
      }
      nd.left = l;
      nd.right = r;
      // The threshold becomes a rank once every tree is read (MapInputs).
      const int missing = (dt >> 2) & 3;  // 0 None, 1 Zero, 2 NaN
      const bool zero_goes_left = 0.0 <= thr;
      const bool default_left = (dt & 2) != 0;
      // NaN and 0 take different sides only on a missing-type-NaN node whose
      // default is not 0's side.
      thresholds_.push_back({t, static_cast<size_t>(i), thr, missing == 2 && default_left != zero_goes_left});
      if (missing == 0) {
        nd.default_left = zero_goes_left;  // NaN is read as 0
      } else if (missing == 2) {
        nd.default_left = default_left;
      } else {
        nd.default_left = default_left;
        nd.zero_missing = default_left != zero_goes_left;
      }
    }
    f_.trees.push_back(std::move(tree));
    return Status::Ok();
  }

  // Every feature's float64 input map (LightGBM's rules), and the numeric
  // nodes' thresholds as ranks in it.
  Status MapInputs() {
    const auto nf = static_cast<size_t>(f_.n_features);
    f_.float64_features.assign(nf, Float64Feature{});
    std::vector<uint8_t> numeric(nf, 0);
    for (Float64Feature& m : f_.float64_features) m.lightgbm = true;
    for (const PendingThreshold& p : thresholds_) {
      const auto j = static_cast<size_t>(f_.trees[p.tree].nodes[p.node].feature);
      f_.float64_features[j].cuts.push_back(p.threshold);
      numeric[j] = 1;
    }
    for (const Tree& tree : f_.trees)
      for (size_t i = 0; i < tree.nodes.size(); ++i) {
        const Node& nd = tree.nodes[i];
        if (nd.is_leaf() || !nd.categorical) continue;
        const auto j = static_cast<size_t>(nd.feature);
        if (numeric[j])
          return Refuse(0,
                        fmt::format("feature {} has both numeric and categorical splits (tree {}, node {}), "
                                    "which LightGBM never writes",
                                    j, &tree - f_.trees.data(), i));
        f_.float64_features[j].categorical = true;
      }
    for (Float64Feature& m : f_.float64_features) {
      std::sort(m.cuts.begin(), m.cuts.end());
      m.cuts.erase(std::unique(m.cuts.begin(), m.cuts.end()), m.cuts.end());
      m.below_zero = CutsBelowZero(m.cuts);
    }
    // Zero as missing: when every node on a feature sends 0 where it sends
    // NaN, the map reads the zero band as NaN and the nodes need no
    // zero_missing test, so their trees stay on the fast kernels.
    std::vector<uint8_t> zero_missing(nf, 0), zero_apart(nf, 0);
    for (const PendingThreshold& p : thresholds_) {
      const Node& nd = f_.trees[p.tree].nodes[p.node];
      zero_missing[static_cast<size_t>(nd.feature)] |= nd.zero_missing;
      zero_apart[static_cast<size_t>(nd.feature)] |= p.zero_apart_from_nan;
    }
    for (size_t j = 0; j < nf; ++j)
      f_.float64_features[j].zero_is_missing = zero_missing[j] && !zero_apart[j];
    for (const PendingThreshold& p : thresholds_) {
      Node& nd = f_.trees[p.tree].nodes[p.node];
      const Float64Feature& m = f_.float64_features[static_cast<size_t>(nd.feature)];
      nd.threshold = LightgbmThreshold(m, p.threshold);
      if (m.zero_is_missing) nd.zero_missing = false;
    }
    return Status::Ok();
  }

  struct PendingThreshold {
    size_t tree = 0, node = 0;
    double threshold = 0;
    bool zero_apart_from_nan = false;  // 0 and NaN go different ways
  };
  std::vector<PendingThreshold> thresholds_;
  Lines lines_;
  Fields header_;
  Line first_tree_;
  bool have_first_ = false;
  Forest f_;
};

}  // namespace

bool LooksLikeLightgbmText(std::string_view h) {
  if (!(h.starts_with("tree\n") || h.starts_with("tree\r\n"))) return false;
  h.remove_prefix(h[4] == '\r' ? 6 : 5);
  for (std::string_view k : kHeaderKeys)
    if (h.starts_with(k) && h.size() > k.size() && (h[k.size()] == '=' || h[k.size()] == '\n')) return true;
  return false;
}

Result<Forest> LoadLightgbmText(std::string_view bytes) { return Reader(bytes).Read(); }

}  // namespace fb
