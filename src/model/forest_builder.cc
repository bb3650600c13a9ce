#include "model/forest_builder.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "model/forest_validation.h"

namespace fb {

const char* ModelKindName(ModelKind kind) {
  return kind == ModelKind::kClassifier ? "classifier" : "regressor";
}

const char* LinkName(Link link) {
  switch (link) {
    case Link::kIdentity: return "identity";
    case Link::kSigmoid: return "sigmoid";
    case Link::kSoftmax: return "softmax";
    case Link::kExp: return "exp";
    case Link::kStep: return "step";
    case Link::kSoftmaxLse: return "softmax-logsumexp";
    case Link::kSigmoid2x: return "sigmoid-2x";
    case Link::kSoftmaxNumpy: return "softmax-numpy";
    case Link::kIsolation: return "isolation-score";
    case Link::kScaledSigmoid: return "scaled-sigmoid";
    case Link::kSoftplus: return "softplus";
    case Link::kSignedSquare: return "signed-square";
  }
  return "?";
}

float Float32AtOrBelow(double v) {
  if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
  if (v >= static_cast<double>(std::numeric_limits<float>::max())) {
    // Every finite float32 is <= v; +inf is <= v only if v is +inf.
    return std::isinf(v) ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::max();
  }
  float f = static_cast<float>(v);  // round to nearest
  if (static_cast<double>(f) > v) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

namespace {

// A leaf's values, and an internal node's checks other than its children:
// the same conditions as the walk below, as yes or no.
bool LeafOk(const Forest& forest, const Tree& tree, size_t i) {
  for (int k = 0; k < forest.leaf_width; ++k) {
    double v = tree.values[i * static_cast<size_t>(forest.leaf_width) + k];
    if (std::isnan(v)) return false;
    if (forest.float32_sums && static_cast<double>(static_cast<float>(v)) != v) return false;
  }
  return true;
}

bool InternalOk(const Forest& forest, const Node& nd) {
  if (nd.feature < 0 || nd.feature >= forest.n_features) return false;
  if (nd.categorical ? nd.zero_missing : nd.cat_truncate) return false;
  if (!forest.float64_features.empty() &&
      forest.float64_features[static_cast<size_t>(nd.feature)].categorical != nd.categorical)
    return false;
  if (nd.categorical) {
    if (static_cast<uint64_t>(nd.cat_begin) + nd.cat_count > forest.categories.size()) return false;
    for (uint32_t j = 1; j < nd.cat_count; ++j)
      if (forest.categories[nd.cat_begin + j - 1] >= forest.categories[nd.cat_begin + j]) return false;
    return true;
  }
  return !std::isnan(nd.threshold);
}

// One linear pass over the nodes, in index order, with no stack: true when
// every node passes its own checks, every child index is greater than its
// parent's, and no node has two parents. Then the nodes are one tree rooted
// at node 0: each non-root node has exactly one parent (an internal node
// has two children, so a full binary tree of n nodes has n - 1 child links;
// fewer than n - 1 distinct children would leave an orphan, which this pass
// also catches by counting), and following parents strictly decreases the
// index, so it ends at the one node without a parent, the root: no cycles,
// nothing unreachable. The importers write nodes in this order (parents
// first), so valid trees take only this pass; anything else falls back to
// the depth-first walk, which names the first problem exactly as before.
bool ValidTreeInOneScan(const Forest& forest, const Tree& tree) {
  const size_t n = tree.nodes.size();
  std::vector<uint8_t> has_parent(n, 0);
  size_t children = 0;
  for (size_t i = 0; i < n; ++i) {
    const Node& nd = tree.nodes[i];
    if (nd.is_leaf()) {
      if (!LeafOk(forest, tree, i)) return false;
      continue;
    }
    const auto l = static_cast<size_t>(static_cast<uint32_t>(nd.left));
    const auto r = static_cast<size_t>(static_cast<uint32_t>(nd.right));
    if (nd.left < 0 || nd.right < 0 || l <= i || r <= i || l >= n || r >= n || l == r) return false;
    if (has_parent[l] | has_parent[r]) return false;
    has_parent[l] = has_parent[r] = 1;
    children += 2;
    if (!InternalOk(forest, nd)) return false;
  }
  return children == n - 1;
}

}  // namespace

// The depth-first walk that finds and names the first problem of a tree
// (the one-scan check above only says yes or no).
Status ValidateTreeByWalk(const Forest& forest, const Tree& tree, size_t t) {
  const size_t n = tree.nodes.size();
  auto fail = [&](size_t node, const std::string& what) {
    return InvalidData(fmt::format("tree {} node {}: {}", t, node, what));
  };
  if (n == 0) return InvalidData(fmt::format("tree {} has no nodes", t));
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return InvalidData(fmt::format("tree {} has too many nodes ({})", t, n));
  }
  if (tree.values.size() != n * static_cast<size_t>(forest.leaf_width)) {
    return InvalidData(fmt::format("tree {}: {} leaf values for {} nodes of width {}", t, tree.values.size(),
                                   n, forest.leaf_width));
  }
  if (forest.leaf_width == 1 && (tree.output < 0 || tree.output >= forest.n_outputs)) {
    return InvalidData(
        fmt::format("tree {}: output {} out of range [0, {})", t, tree.output, forest.n_outputs));
  }
  // Every node must be reached exactly once from the root: no cycles, no
  // sharing, no orphans. Iterative to survive deep (hostile) trees.
  std::vector<uint8_t> seen(n, 0);
  std::vector<int32_t> stack{0};
  size_t reached = 0;
  while (!stack.empty()) {
    int32_t i = stack.back();
    stack.pop_back();
    if (seen[i]) return fail(i, "reached twice (cycle or shared child)");
    seen[i] = 1;
    ++reached;
    const Node& nd = tree.nodes[i];
    if (nd.is_leaf()) {
      for (int k = 0; k < forest.leaf_width; ++k) {
        double v = tree.values[static_cast<size_t>(i) * forest.leaf_width + k];
        if (std::isnan(v)) return fail(i, "leaf value is NaN");
        if (forest.float32_sums && static_cast<double>(static_cast<float>(v)) != v)
          return fail(i, fmt::format("leaf value {} is not a float32 value (the model sums in float32)", v));
      }
      continue;
    }
    if (nd.left < 0 || static_cast<size_t>(nd.left) >= n || nd.right < 0 ||
        static_cast<size_t>(nd.right) >= n) {
      return fail(
          i, fmt::format("child index out of range (left {}, right {}, {} nodes)", nd.left, nd.right, n));
    }
    if (nd.feature < 0 || nd.feature >= forest.n_features) {
      return fail(i, fmt::format("feature {} out of range [0, {})", nd.feature, forest.n_features));
    }
    if (nd.categorical ? nd.zero_missing : nd.cat_truncate) {
      return fail(i, nd.categorical ? "zero-as-missing on a categorical split"
                                    : "category truncation on a numeric split");
    }
    if (!forest.float64_features.empty() &&
        forest.float64_features[static_cast<size_t>(nd.feature)].categorical != nd.categorical) {
      return fail(i, fmt::format("{} split on feature {}, which its float64 input map reads as {}",
                                 nd.categorical ? "categorical" : "numeric", nd.feature,
                                 nd.categorical ? "numeric" : "categorical"));
    }
    if (nd.categorical) {
      if (static_cast<uint64_t>(nd.cat_begin) + nd.cat_count > forest.categories.size()) {
        return fail(i, "category list out of range");
      }
      for (uint32_t j = 1; j < nd.cat_count; ++j) {
        if (forest.categories[nd.cat_begin + j - 1] >= forest.categories[nd.cat_begin + j])
          return fail(i, "category list not sorted ascending");
      }
    } else if (std::isnan(nd.threshold)) {
      return fail(i, "threshold is NaN");
    }
    stack.push_back(nd.right);
    stack.push_back(nd.left);
  }
  if (reached != n)
    return InvalidData(fmt::format("tree {}: {} of {} nodes unreachable from the root", t, n - reached, n));
  return Status::Ok();
}

Status ValidateTree(const Forest& forest, const Tree& tree, size_t t) {
  const size_t n = tree.nodes.size();
  if (n == 0 || n > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      tree.values.size() != n * static_cast<size_t>(forest.leaf_width) ||
      (forest.leaf_width == 1 && (tree.output < 0 || tree.output >= forest.n_outputs)) ||
      !ValidTreeInOneScan(forest, tree))
    return ValidateTreeByWalk(forest, tree, t);
  return Status::Ok();
}

Status ValidateFloat64Features(const Forest& f) {
  if (f.float64_features.empty()) return Status::Ok();
  if (f.float64_features.size() != static_cast<size_t>(f.n_features))
    return InvalidData(
        fmt::format("float64 input map has {} features for {}", f.float64_features.size(), f.n_features));
  if (!f.encoding.empty()) return InvalidData("a model cannot have both an input encoding and a float64 map");
  for (size_t j = 0; j < f.float64_features.size(); ++j) {
    const Float64Feature& m = f.float64_features[j];
    if (m.categorical ? !m.cuts.empty() : !m.known.empty())
      return InvalidData(fmt::format("float64 input map of feature {} mixes cuts and categories", j));
    if (m.lightgbm != f.float64_features[0].lightgbm)
      return InvalidData("float64 input map mixes scikit-learn's and LightGBM's rules");
    // LightGBM's signed ranks reach cuts.size() + 1, still exact as floats.
    if (m.cuts.size() >= (size_t{1} << 24) - 1)
      return InvalidData(fmt::format("float64 input map of feature {} has too many cuts", j));
    if (m.zero_is_missing && (!m.lightgbm || m.categorical))
      return InvalidData(
          fmt::format("float64 input map of feature {}: zero as missing outside LightGBM's "
                      "numeric rules",
                      j));
    if (m.lightgbm && !m.known.empty())
      return InvalidData(fmt::format("LightGBM input map of feature {} lists known categories", j));
    for (size_t k = 0; k < m.cuts.size(); ++k) {
      if (std::isnan(m.cuts[k]) || (k > 0 && !(m.cuts[k - 1] < m.cuts[k])))
        return InvalidData(fmt::format("float64 cuts of feature {} are not ascending and distinct", j));
    }
    if (m.below_zero != (m.lightgbm && !m.categorical ? CutsBelowZero(m.cuts) : 0))
      return InvalidData(fmt::format("float64 input map of feature {}: wrong count of cuts below zero", j));
    for (size_t k = 0; k < m.known.size(); ++k) {
      if (m.known[k] < 0 || m.known[k] > 255 || (k > 0 && m.known[k - 1] >= m.known[k]))
        return InvalidData(
            fmt::format("known categories of feature {} are not ascending, distinct, in [0, 256)", j));
    }
  }
  return Status::Ok();
}

Status ValidateEncoding(const Forest& f) {
  if (f.preprocessing) {
    if (!f.encoding.empty()) return InvalidData("a model has both an input encoding and preprocessing");
    return f.preprocessing->Validate(f.n_features);
  }
  if (f.encoding.empty()) return Status::Ok();
  // Every feature is filled by exactly one raw column; names are unique.
  std::vector<uint8_t> covered(f.n_features, 0);
  std::set<std::string> names;
  for (const InputColumn& c : f.encoding.columns) {
    if (c.name.empty()) return InvalidData("input encoding has a column without a name");
    if (!names.insert(c.name).second)
      return InvalidData("input encoding names column '" + c.name + "' twice");
    int64_t begin = c.first_feature, end = begin + c.width();
    if (begin < 0 || end > f.n_features) {
      return InvalidData(fmt::format("input column '{}' fills features [{}, {}) outside [0, {})", c.name,
                                     begin, end, f.n_features));
    }
    std::set<std::string> cats(c.categories.begin(), c.categories.end());
    if (cats.size() != c.categories.size())
      return InvalidData("input column '" + c.name + "' lists a category twice");
    for (int64_t i = begin; i < end; ++i) {
      if (covered[i]) return InvalidData(fmt::format("feature {} is filled by two input columns", i));
      covered[i] = 1;
    }
  }
  for (int32_t i = 0; i < f.n_features; ++i) {
    if (!covered[i]) return InvalidData(fmt::format("feature {} is filled by no input column", i));
  }
  return Status::Ok();
}

Result<Forest> BuildForest(Forest f) {
  if (f.n_features <= 0) return InvalidData(fmt::format("model has {} features", f.n_features));
  if (!f.feature_names.empty() && f.feature_names.size() != static_cast<size_t>(f.n_features)) {
    return InvalidData(
        fmt::format("model has {} feature names for {} features", f.feature_names.size(), f.n_features));
  }
  if (f.n_outputs <= 0) return InvalidData("model has no outputs");
  if (f.leaf_width != 1 && f.leaf_width != f.n_outputs) {
    return InvalidData(
        fmt::format("leaf width {} is neither 1 nor the output count {}", f.leaf_width, f.n_outputs));
  }
  if (f.trees.empty()) return InvalidData("model has no trees");
  if (f.aggregate != Aggregate::kMean && f.base_margin.size() != static_cast<size_t>(f.n_outputs)) {
    return InvalidData(
        fmt::format("base margin has {} values for {} outputs", f.base_margin.size(), f.n_outputs));
  }
  if (f.base_margin.empty()) f.base_margin.assign(f.n_outputs, 0.0);
  if (f.float32_sums) {
    if (f.aggregate != Aggregate::kSum) return InvalidData("float32 sums need a boosted (summed) model");
    if (f.link != Link::kIdentity && f.link != Link::kSigmoid && f.link != Link::kSoftmax &&
        f.link != Link::kExp && f.link != Link::kStep)
      return InvalidData(fmt::format("link {} has no float32 form", LinkName(f.link)));
    for (double m : f.base_margin)
      if (static_cast<double>(static_cast<float>(m)) != m)
        return InvalidData(
            fmt::format("base margin {} is not a float32 value (the model sums in float32)", m));
  }
  if (f.kind == ModelKind::kClassifier) {
    size_t k = f.class_labels.size();
    bool binary_single = f.n_outputs == 1 && k == 2;
    if (!binary_single && k != static_cast<size_t>(f.n_outputs)) {
      return InvalidData(fmt::format("classifier has {} class labels for {} outputs", k, f.n_outputs));
    }
    if (k < 1) return InvalidData("classifier has no classes");
  } else if (!f.class_labels.empty()) {
    return InvalidData("regressor has class labels");
  }
  if ((f.link == Link::kSoftmax || f.link == Link::kSoftmaxLse || f.link == Link::kSoftmaxNumpy) &&
      f.n_outputs < 2)
    return InvalidData("softmax link needs at least two outputs");
  if (f.link == Link::kIsolation) {
    if (f.kind != ModelKind::kClassifier || f.n_outputs != 1 || f.class_labels.size() != 2 ||
        f.link_params.size() != 2 || !std::isfinite(f.link_params[0]) || !std::isfinite(f.link_params[1]) ||
        f.value_names.size() != 2)
      return InvalidData(
          "isolation-score link needs one output, two labels, two parameters and two value names");
  } else if (f.link == Link::kScaledSigmoid) {
    if (f.link_params.size() != 1 || !std::isfinite(f.link_params[0]) || !(f.link_params[0] > 0) ||
        !f.value_names.empty())
      return InvalidData("scaled-sigmoid link needs one positive finite parameter and no value names");
  } else if (!f.link_params.empty() || !f.value_names.empty()) {
    return InvalidData(fmt::format("link {} takes no parameters or value names", LinkName(f.link)));
  }
  if (f.trees_per_iteration < 0 ||
      (f.trees_per_iteration > 0 && f.trees.size() % static_cast<size_t>(f.trees_per_iteration) != 0)) {
    return InvalidData(
        fmt::format("{} trees are not whole rounds of {} trees", f.trees.size(), f.trees_per_iteration));
  }
  if (f.best_iteration < -1 ||
      (f.best_iteration >= 0 && (f.trees_per_iteration == 0 || static_cast<size_t>(f.best_iteration) >=
                                                                   f.trees.size() / f.trees_per_iteration))) {
    return InvalidData(fmt::format("best iteration {} out of range", f.best_iteration));
  }
  if (f.predict_uses_best_iteration && f.best_iteration < 0)
    return InvalidData("model says to predict with its best iteration but records none");
  // Category lists: integers in [0, 2^24) (XGBoost's valid range, see
  // forest.h), sorted ascending within each node's list.
  for (int32_t c : f.categories) {
    if (c < 0 || c >= kMaxCategory) return InvalidData(fmt::format("category {} out of range [0, 2^24)", c));
  }
  FB_RETURN_IF_ERROR(ValidateEncoding(f));
  FB_RETURN_IF_ERROR(ValidateFloat64Features(f));
  if (!f.training.feature_importances.empty() &&
      f.training.feature_importances.size() != static_cast<size_t>(f.n_features)) {
    return InvalidData(fmt::format("model has {} feature importances for {} features",
                                   f.training.feature_importances.size(), f.n_features));
  }
  if (f.undecoded) {
    // Trees without their nodes (forest.h, UndecodedTrees): what can be
    // checked without them; DecodeTrees checks the rest.
    const UndecodedTrees& u = *f.undecoded;
    if (u.node_counts.size() != f.trees.size() || !u.decoder)
      return Internal("undecoded trees without a node count per tree or a decoder");
    for (size_t t = 0; t < f.trees.size(); ++t) {
      const Tree& tree = f.trees[t];
      if (!tree.nodes.empty() || !tree.values.empty())
        return Internal(fmt::format("undecoded tree {} has nodes", t));
      if (u.node_counts[t] == 0) return InvalidData(fmt::format("tree {} has no nodes", t));
      if (u.node_counts[t] > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()))
        return InvalidData(fmt::format("tree {} has too many nodes ({})", t, u.node_counts[t]));
      if (f.leaf_width == 1 && (tree.output < 0 || tree.output >= f.n_outputs)) {
        return InvalidData(
            fmt::format("tree {}: output {} out of range [0, {})", t, tree.output, f.n_outputs));
      }
    }
    return f;
  }
  for (size_t t = 0; t < f.trees.size(); ++t) FB_RETURN_IF_ERROR(ValidateTree(f, f.trees[t], t));
  return f;
}

Result<Forest> DecodeTrees(Forest f) {
  if (f.trees_decoded()) return f;
  const std::shared_ptr<const UndecodedTrees> u = std::move(f.undecoded);
  f.undecoded.reset();
  for (Tree& t : f.trees) t.nodes.clear(), t.values.clear();
  std::string error = u->decoder->Decode(&f);
  if (error.empty()) {
    for (size_t t = 0; t < f.trees.size(); ++t)
      if (f.trees[t].nodes.size() != u->node_counts[t]) {
        error = fmt::format("tree {}: {} nodes decoded, {} expected", t, f.trees[t].nodes.size(),
                            u->node_counts[t]);
        break;
      }
  }
  Result<Forest> r = error.empty() ? BuildForest(std::move(f)) : Result<Forest>(InvalidData(error));
  if (!r.ok() && !u->origin.empty()) return std::move(r).take_status().WithPath(u->origin);
  return r;
}

std::shared_ptr<const Forest> DecodedForestOrAbort(std::shared_ptr<const Forest> forest) {
  Result<std::shared_ptr<const Forest>> r = DecodedForest(std::move(forest));
  if (!r.ok()) {
    std::fprintf(stderr, "forestbatch: internal error: trees needed but not decodable: %s\n",
                 r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

Result<std::shared_ptr<const Forest>> DecodedForest(std::shared_ptr<const Forest> forest) {
  if (forest == nullptr || forest->trees_decoded()) return forest;
  FB_ASSIGN_OR_RETURN(Forest decoded, DecodeTrees(*forest));
  return std::shared_ptr<const Forest>(std::make_shared<const Forest>(std::move(decoded)));
}

TreeShape ShapeOf(const Tree& tree) {
  TreeShape s;
  // Depth first, one node's children at a time: at most depth + 1 entries
  // (room for 64 at once: no reallocation for the trees boosting grows).
  std::vector<std::pair<int32_t, int32_t>> stack;
  stack.reserve(64);
  stack.push_back({0, 0});
  while (!stack.empty()) {
    auto [i, d] = stack.back();
    stack.pop_back();
    const Node& nd = tree.nodes[i];
    if (nd.is_leaf()) {
      ++s.n_leaves;
      s.depth = std::max(s.depth, d);
    } else {
      stack.push_back({nd.left, d + 1});
      stack.push_back({nd.right, d + 1});
    }
  }
  return s;
}

}  // namespace fb
