#include "infer/compiled_forest.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "model/forest_builder.h"

namespace fb {
namespace {

// Node indexes of `tree` in depth-first preorder, left child first: leaves
// then appear left to right, and each node's left child follows it.
// `order` and `stack` are the caller's buffers, reused from tree to tree.
void Preorder(const Tree& tree, std::vector<int32_t>& order, std::vector<int32_t>& stack) {
  order.clear();
  stack.assign(1, 0);
  order.reserve(tree.nodes.size());
  while (!stack.empty()) {
    int32_t i = stack.back();
    stack.pop_back();
    order.push_back(i);
    const Node& n = tree.nodes[i];
    if (!n.is_leaf()) {
      stack.push_back(n.right);
      stack.push_back(n.left);
    }
  }
}

// Buffers CompileBitvector and CompileDeep reuse from tree to tree (one
// allocation per compile, not several per tree).
struct Scratch {
  std::vector<int32_t> order, stack;
  std::vector<uint32_t> a, b;
};

void CompileBitvector(const Forest& f, const Tree& tree, CompiledArrays* cf, Scratch* sc) {
  Preorder(tree, sc->order, sc->stack);
  const std::vector<int32_t>& order = sc->order;
  const size_t n = tree.nodes.size();
  sc->a.resize(n);
  sc->b.resize(n);
  uint32_t* leaf_lo = sc->a.data();
  uint32_t* leaf_hi = sc->b.data();
  uint32_t leaves = 0;
  for (int32_t i : order)
    if (tree.nodes[i].is_leaf()) leaf_lo[i] = leaves++, leaf_hi[i] = leaves;
  for (size_t k = order.size(); k-- > 0;) {  // children before parents
    const Node& nd = tree.nodes[order[k]];
    if (!nd.is_leaf()) leaf_lo[order[k]] = leaf_lo[nd.left], leaf_hi[order[k]] = leaf_hi[nd.right];
  }
  BitvectorTree bt{static_cast<uint32_t>(cf->bv_nodes.size()), 0, static_cast<uint32_t>(cf->bv_values.size()),
                   tree.output};
  const size_t w = f.leaf_width;
  for (int32_t i : order) {
    const Node& nd = tree.nodes[i];
    if (nd.is_leaf()) {
      for (size_t k = 0; k < w; ++k) cf->bv_values.push_back(tree.values[static_cast<size_t>(i) * w + k]);
      continue;
    }
    uint32_t lo = leaf_lo[nd.left], hi = leaf_hi[nd.left];
    uint32_t mask = static_cast<uint32_t>(((uint64_t{1} << (hi - lo)) - 1) << lo);
    cf->bv_nodes.push_back(BitvectorNode{static_cast<uint32_t>(nd.feature * kTileRows), nd.threshold, mask,
                                         nd.default_left ? 1u : 0u});
    ++bt.n_nodes;
  }
  cf->bv_trees.push_back(bt);
}

void CompileDeep(const Forest& f, const Tree& tree, CompiledArrays* cf, Scratch* sc) {
  Preorder(tree, sc->order, sc->stack);
  const std::vector<int32_t>& order = sc->order;
  sc->a.resize(tree.nodes.size());
  uint32_t* pos = sc->a.data();
  for (size_t k = 0; k < order.size(); ++k) pos[order[k]] = static_cast<uint32_t>(k);
  DeepTree dt{static_cast<uint32_t>(cf->deep_nodes.size()), static_cast<uint32_t>(cf->deep_values.size()),
              tree.output};
  const size_t w = f.leaf_width;
  uint32_t leaves = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const Node& nd = tree.nodes[order[k]];
    DeepNode dn;
    if (nd.is_leaf()) {
      uint32_t nan_bits = 0x7FC00000u | leaves++;
      std::memcpy(&dn.threshold, &nan_bits, 4);
      dn.bits = 0;
      for (size_t j = 0; j < w; ++j)
        cf->deep_values.push_back(tree.values[static_cast<size_t>(order[k]) * w + j]);
    } else {
      dn.threshold = nd.threshold;
      dn.bits = (nd.default_left ? 1u : 0u) | static_cast<uint32_t>(nd.feature) << 1 |
                (pos[nd.right] - static_cast<uint32_t>(k)) << 12;
    }
    cf->deep_nodes.push_back(dn);
  }
  cf->deep_trees.push_back(dt);
}

// A node test as kComplete groups share it, packed so that keys order as
// the group's slots do: NaN-right tests (default_left false) first, then by
// feature, then by the threshold's bits. (Features are validated
// non-negative: they fit in bits 32-62.)
uint64_t TestKey(const Node& nd) {
  uint32_t bits;
  std::memcpy(&bits, &nd.threshold, 4);
  return uint64_t{nd.default_left} << 63 | uint64_t{static_cast<uint32_t>(nd.feature)} << 32 | bits;
}

// The distinct tests of one group of kComplete trees (fewer than
// kGroupSlots) and, once AssignSlots ran, their slots: an open-addressing
// table, emptied per group by a new generation rather than by clearing it.
// (It replaced a std::map whose lookups were most of the compile: 3.5 of a
// 500-tree XGBoost model's 22 ms load; BENCHMARKS.md session 16.)
class GroupTests {
 public:
  void Clear() {
    ++generation_;
    keys_.clear();
  }
  size_t size() const { return keys_.size(); }
  bool Contains(uint64_t key) const { return used_[Find(key)] == generation_; }
  void Insert(uint64_t key) {
    const size_t i = Find(key);
    if (used_[i] == generation_) return;
    used_[i] = generation_;
    table_[i] = key;
    keys_.push_back(key);
  }
  // Numbers the tests 1, 2, ... in key order; returns them in that order.
  const std::vector<uint64_t>& AssignSlots() {
    std::sort(keys_.begin(), keys_.end());
    for (size_t k = 0; k < keys_.size(); ++k) slot_[Find(keys_[k])] = static_cast<uint16_t>(k + 1);
    return keys_;
  }
  uint32_t SlotOf(uint64_t key) const { return slot_[Find(key)]; }  // a test of the group

 private:
  static constexpr size_t kCapacity = 1024;  // a power of two over 2 * (kGroupSlots + a tree's tests)
  static_assert(kCapacity >= 4 * kGroupSlots);
  // The test's place, or the empty place where it would go.
  size_t Find(uint64_t key) const {
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15u) >> 54);  // top 10 bits
    while (used_[i] == generation_ && table_[i] != key) i = (i + 1) & (kCapacity - 1);
    return i;
  }
  uint32_t generation_ = 0;
  std::vector<uint64_t> keys_;
  std::array<uint64_t, kCapacity> table_{};
  std::array<uint32_t, kCapacity> used_{};  // == generation_: taken in this group
  std::array<uint16_t, kCapacity> slot_{};
};

// Pads `tree` to a complete tree of `depth` levels (see CompleteTree).
void CompileCompleteTree(const Forest& f, const Tree& tree, int depth, const GroupTests& tests,
                         CompiledArrays* cf) {
  const size_t w = f.leaf_width;
  const size_t n_inner = (size_t{1} << depth) - 1;
  CompleteTree ct{static_cast<uint32_t>(cf->complete_slots.size()),
                  static_cast<uint32_t>(cf->complete_values.size()), tree.output, depth};
  cf->complete_slots.resize(cf->complete_slots.size() + n_inner, 0);
  cf->complete_ranks.resize(cf->complete_slots.size(), 0);
  cf->complete_values.resize(cf->complete_values.size() + (n_inner + 1) * w, 0.0);
  uint16_t* slots = cf->complete_slots.data() + ct.slot_begin;
  double* values = cf->complete_values.data() + ct.value_begin;
  // (complete position, tree node); a leaf above the last level fills its
  // whole padded subtree (slot 0 always goes left; both halves get the leaf).
  std::vector<std::pair<size_t, int32_t>> stack;
  stack.reserve(2 * kCompleteMaxDepth + 2);  // at most depth + 1 entries: never reallocated
  stack.push_back({0, 0});
  while (!stack.empty()) {
    auto [pos, id] = stack.back();
    stack.pop_back();
    const Node& nd = tree.nodes[id];
    if (pos >= n_inner) {
      const double* v = tree.values.data() + static_cast<size_t>(id) * w;
      std::copy(v, v + w, values + (pos - n_inner) * w);
      continue;
    }
    if (nd.is_leaf()) {
      stack.push_back({2 * pos + 1, id});
      stack.push_back({2 * pos + 2, id});
    } else {
      slots[pos] = static_cast<uint16_t>(tests.SlotOf(TestKey(nd)) * kCompleteTileRows);
      stack.push_back({2 * pos + 1, nd.left});
      stack.push_back({2 * pos + 2, nd.right});
    }
  }
  cf->complete_trees.push_back(ct);
}

// Makes `run` ranked (see CompleteRun) when that costs less per tile. Cost
// model in cycles per tile, fitted on AVX2 (Zen 3) to the seed model,
// a 500 x depth-6 XGBoost model on the seed's integer features, and one on
// 20 continuous features: ranking a column about 1,800 (its gathers), a
// ranked node slot about 1 more than a predicate-table slot, a float test
// about 10.
void RankIfCheaper(CompleteRun* run, CompiledArrays* cf) {
  const size_t ncol = run->features.size();
  std::vector<std::vector<float>> thresholds(ncol);
  size_t tests = 0, slots = 0;
  for (uint32_t g = run->group_begin; g < run->group_end; ++g)
    for (uint32_t t = cf->complete_groups[g].tree_begin; t < cf->complete_groups[g].tree_end; ++t)
      slots += (size_t{1} << cf->complete_trees[t].depth) - 1;
  for (uint32_t g = run->group_begin; g < run->group_end; ++g) {
    const PredicateGroup& grp = cf->complete_groups[g];
    tests += grp.pred_count;
    for (uint32_t p = grp.pred_begin; p < grp.pred_begin + grp.pred_count; ++p)
      thresholds[cf->complete_preds[p].column].push_back(cf->complete_preds[p].threshold);
  }
  size_t ranked_columns = 0;
  if (ncol > kMaxRankedColumns) return;
  for (std::vector<float>& t : thresholds) {
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());  // by value: -0 and +0 are one threshold
    if (t.size() > kMaxRankedThresholds) return;
    ranked_columns += !t.empty();
  }
  if (1800 * ranked_columns + slots >= 10 * tests) return;
  run->ranked = true;
  run->rank_thresholds.assign(ncol * kRankTableSize, std::numeric_limits<float>::infinity());
  for (size_t c = 0; c < ncol; ++c)
    std::copy(thresholds[c].begin(), thresholds[c].end(), run->rank_thresholds.begin() + c * kRankTableSize);
  for (uint32_t g = run->group_begin; g < run->group_end; ++g) {
    const PredicateGroup& grp = cf->complete_groups[g];
    for (uint32_t p = grp.pred_begin; p < grp.pred_begin + grp.pred_count; ++p) {
      CompletePredicate& cp = cf->complete_preds[p];
      const std::vector<float>& t = thresholds[cp.column];
      cp.rank = static_cast<uint32_t>(std::lower_bound(t.begin(), t.end(), cp.threshold) - t.begin());
    }
    // The trees read ranks directly: slots become key offsets and ranks.
    for (uint32_t t = grp.tree_begin; t < grp.tree_end; ++t) {
      const CompleteTree& ct = cf->complete_trees[t];
      for (uint32_t k = 0; k < (1u << ct.depth) - 1; ++k) {
        uint16_t& slot = cf->complete_slots[ct.slot_begin + k];
        uint8_t& rank = cf->complete_ranks[ct.slot_begin + k];
        const uint32_t s = slot / kCompleteTileRows;
        if (s == 0) {
          slot = 0, rank = 255;
          continue;
        }
        const CompletePredicate& cp = cf->complete_preds[grp.pred_begin + s - 1];
        slot = static_cast<uint16_t>(cp.column * 2 * kCompleteTileRows +
                                     (s <= grp.nan_right ? kCompleteTileRows : 0));
        rank = static_cast<uint8_t>(cp.rank);
      }
    }
  }
}

// Compiles forest trees [begin, end), all kComplete, into one CompleteRun:
// greedy groups of consecutive trees with at most kGroupSlots - 1 distinct
// predicates each.
void CompileCompleteRun(const Forest& f, uint32_t begin, uint32_t end, CompiledArrays* cf,
                        std::vector<CompleteRun>* runs) {
  CompleteRun run;
  run.group_begin = static_cast<uint32_t>(cf->complete_groups.size());
  std::vector<int32_t> column(static_cast<size_t>(f.n_features), -1);
  for (uint32_t t = begin; t < end; ++t)
    for (const Node& nd : f.trees[t].nodes)
      if (!nd.is_leaf()) column[nd.feature] = 0;
  std::vector<uint32_t> used;
  for (size_t k = 0; k < column.size(); ++k)
    if (column[k] == 0) used.push_back(static_cast<uint32_t>(k));
  // Copying a few unread features costs less than gathering the read ones.
  if (!used.empty() && used.back() - used.front() + 1 <= 2 * used.size() + 16) {
    run.dense = true;
    for (uint32_t k = used.front(); k <= used.back(); ++k) run.features.push_back(k);
  } else {
    run.features = used;
  }
  for (size_t c = 0; c < run.features.size(); ++c) column[run.features[c]] = static_cast<int32_t>(c);

  GroupTests tests;
  std::vector<uint64_t> fresh;  // the next tree's tests not in the group yet
  uint32_t t = begin;
  while (t < end) {
    tests.Clear();
    uint32_t group_end = t;
    for (; group_end < end; ++group_end) {
      fresh.clear();
      for (const Node& nd : f.trees[group_end].nodes) {
        if (nd.is_leaf()) continue;
        const uint64_t k = TestKey(nd);
        if (!tests.Contains(k) && std::find(fresh.begin(), fresh.end(), k) == fresh.end()) fresh.push_back(k);
      }
      if (tests.size() + fresh.size() >= kGroupSlots && group_end > t) break;
      for (uint64_t k : fresh) tests.Insert(k);
    }
    // A single tree has at most 2^kCompleteMaxDepth - 1 < kGroupSlots nodes.
    const std::vector<uint64_t>& keys = tests.AssignSlots();
    PredicateGroup g{static_cast<uint32_t>(cf->complete_preds.size()), static_cast<uint32_t>(keys.size()), 0,
                     static_cast<uint32_t>(cf->complete_trees.size()), 0};
    for (const uint64_t key : keys) {
      if ((key >> 63) == 0) ++g.nan_right;
      const auto feature = static_cast<uint32_t>(key >> 32) & 0x7FFFFFFFu;
      const auto bits = static_cast<uint32_t>(key);
      float thr;
      std::memcpy(&thr, &bits, 4);
      cf->complete_preds.push_back(CompletePredicate{static_cast<uint32_t>(column[feature]), thr, 0});
    }
    for (; t < group_end; ++t) CompileCompleteTree(f, f.trees[t], ShapeOf(f.trees[t]).depth, tests, cf);
    g.tree_end = static_cast<uint32_t>(cf->complete_trees.size());
    cf->complete_groups.push_back(g);
  }
  run.group_end = static_cast<uint32_t>(cf->complete_groups.size());
  RankIfCheaper(&run, cf);
  runs->push_back(std::move(run));
}

}  // namespace

TreeLayout ChooseLayout(const Forest& f, const Tree& tree) {
  // The fast layouts test x <= threshold with a NaN rule only: categorical
  // and zero-as-missing splits are walked on the Forest's own nodes.
  for (const Node& n : tree.nodes)
    if (!n.is_leaf() && (n.categorical || n.zero_missing)) return TreeLayout::kGeneric;
  // Every internal node has two children (BuildForest), so a tree of n
  // nodes has (n + 1) / 2 leaves, and one of more than 2^(d+1) - 1 nodes is
  // deeper than d: the walk for the depth is needed for small trees only.
  const size_t n_leaves = (tree.nodes.size() + 1) / 2;
  if (tree.nodes.size() <= (size_t{2} << kCompleteMaxDepth) - 1 && ShapeOf(tree).depth <= kCompleteMaxDepth)
    return TreeLayout::kComplete;
  if (n_leaves <= 32) return TreeLayout::kBitvector;
  if (static_cast<uint32_t>(f.n_features) <= kDeepMaxFeatures && tree.nodes.size() < kDeepMaxNodes &&
      n_leaves < kDeepMaxLeaves)
    return TreeLayout::kDeep;
  return TreeLayout::kGeneric;
}

CompiledForest CompileForest(std::shared_ptr<const Forest> forest) {
  forest = DecodedForestOrAbort(std::move(forest));  // the nodes are what it compiles
  CompiledForest cf;
  auto arrays = std::make_shared<CompiledArrays>();
  CompiledArrays& a = *arrays;
  const Forest& f = *forest;
  cf.n_features = f.n_features;
  cf.n_outputs = f.n_outputs;
  cf.leaf_width = f.leaf_width;
  cf.float32_sums = f.float32_sums;
  // Bitvector and deep arrays are sized first (one allocation each, no
  // copying as they grow): a deep tree of n nodes has n records and
  // (n + 1) / 2 leaves.
  size_t bv_trees = 0, bv_nodes = 0, deep_trees = 0, deep_nodes = 0, leaves = 0;
  for (size_t t = 0; t < f.trees.size(); ++t) {
    TreeLayout layout = ChooseLayout(f, f.trees[t]);
    if (cf.runs.empty() || cf.runs.back().layout != layout)
      cf.runs.push_back(TreeRun{layout, static_cast<uint32_t>(t), static_cast<uint32_t>(t), 0});
    cf.runs.back().tree_end = static_cast<uint32_t>(t + 1);
    const size_t n = f.trees[t].nodes.size();
    if (layout == TreeLayout::kBitvector) ++bv_trees, bv_nodes += n / 2, leaves += (n + 1) / 2;
    if (layout == TreeLayout::kDeep) ++deep_trees, deep_nodes += n;
  }
  const size_t w = static_cast<size_t>(f.leaf_width);
  a.bv_trees.reserve(bv_trees);
  a.bv_nodes.reserve(bv_nodes);
  a.bv_values.reserve(leaves * w);
  a.deep_trees.reserve(deep_trees);
  a.deep_nodes.reserve(deep_nodes);
  a.deep_values.reserve((deep_nodes + deep_trees) / 2 * w);
  Scratch scratch;
  for (TreeRun& run : cf.runs) {
    switch (run.layout) {
      case TreeLayout::kComplete:
        run.first = static_cast<uint32_t>(cf.complete_runs.size());
        CompileCompleteRun(f, run.tree_begin, run.tree_end, &a, &cf.complete_runs);
        break;
      case TreeLayout::kBitvector:
        run.first = static_cast<uint32_t>(a.bv_trees.size());
        for (uint32_t t = run.tree_begin; t < run.tree_end; ++t)
          CompileBitvector(f, f.trees[t], &a, &scratch);
        break;
      case TreeLayout::kDeep:
        run.first = static_cast<uint32_t>(a.deep_trees.size());
        for (uint32_t t = run.tree_begin; t < run.tree_end; ++t) CompileDeep(f, f.trees[t], &a, &scratch);
        break;
      case TreeLayout::kGeneric:
        run.first = static_cast<uint32_t>(a.generic_trees.size());
        for (uint32_t t = run.tree_begin; t < run.tree_end; ++t) a.generic_trees.push_back(t);
        break;
    }
  }
  cf.forest = std::move(forest);
  ViewArrays(std::move(arrays), &cf);
  return cf;
}

void ViewArrays(std::shared_ptr<const CompiledArrays> arrays, CompiledForest* cf) {
  const CompiledArrays& a = *arrays;
  cf->complete_groups = a.complete_groups;
  cf->complete_preds = a.complete_preds;
  cf->complete_trees = a.complete_trees;
  cf->complete_slots = a.complete_slots;
  cf->complete_ranks = a.complete_ranks;
  cf->complete_values = a.complete_values;
  cf->bv_trees = a.bv_trees;
  cf->bv_nodes = a.bv_nodes;
  cf->bv_values = a.bv_values;
  cf->deep_trees = a.deep_trees;
  cf->deep_nodes = a.deep_nodes;
  cf->deep_values = a.deep_values;
  cf->generic_trees = a.generic_trees;
  cf->storage = std::move(arrays);
}

}  // namespace fb
