#include "infer/compiled_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <type_traits>

#include "common/little_endian.h"
#include "model/forest_builder.h"

namespace fb {
namespace {

// Section ids (docs/formats/fbm.md, "The compiled layout").
enum LayoutId : uint32_t {
  kLayout = kFirstLayoutSection,  // fingerprint, the forest's shape, runs, complete runs
  kGroups,
  kPreds,
  kCompleteTrees,
  kSlots,
  kRanks,
  kCompleteValues,
  kBvTrees,
  kBvNodes,
  kBvValues,
  kDeepTrees,
  kDeepNodes,
  kDeepValues,
  kGenericTrees,
  kLastLayoutId = kGenericTrees,
};
static_assert(kLastLayoutId <= kLastLayoutSection);

const char* SectionName(uint32_t id) {
  static constexpr const char* kNames[] = {
      "layout",         "complete groups", "complete predicates", "complete trees",  "complete slots",
      "complete ranks", "complete values", "bitvector trees",     "bitvector nodes", "bitvector values",
      "deep trees",     "deep nodes",      "deep values",         "generic trees"};
  return id >= kLayout && id <= kLastLayoutId ? kNames[id - kLayout] : "unknown";
}

// The arrays are stored as their records' bytes: records without padding,
// so that the bytes are defined and the mapping can be read as the records.
static_assert(sizeof(CompletePredicate) == 12 && sizeof(CompleteTree) == 16 && sizeof(PredicateGroup) == 20 &&
              sizeof(BitvectorNode) == 16 && sizeof(BitvectorTree) == 16 && sizeof(DeepNode) == 8 &&
              sizeof(DeepTree) == 12);
static_assert(std::is_trivially_copyable_v<CompletePredicate> && std::is_trivially_copyable_v<CompleteTree> &&
              std::is_trivially_copyable_v<PredicateGroup> && std::is_trivially_copyable_v<BitvectorNode> &&
              std::is_trivially_copyable_v<BitvectorTree> && std::is_trivially_copyable_v<DeepNode> &&
              std::is_trivially_copyable_v<DeepTree>);

constexpr size_t kR = kCompleteTileRows;

template <typename T>
std::string Bytes(std::span<const T> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size_bytes());
}

uint64_t TotalNodes(const Forest& f) {
  uint64_t n = 0;
  for (size_t t = 0; t < f.trees.size(); ++t) n += f.node_count(t);  // decoded or not
  return n;
}

// Error for section `id` of the stored layout, naming the model file.
class Checker {
 public:
  explicit Checker(const StoredLayout& s) : s_(s) {}
  Status Bad(uint32_t id, const std::string& what) const {
    Status st = InvalidData(
        fmt::format("native model: compiled layout section {} ({}): {}", id, SectionName(id), what));
    if (!s_.origin.empty()) st.WithPath(s_.origin);
    return st;
  }

 private:
  const StoredLayout& s_;
};

// Bounds-checked little-endian reads over the layout section.
class Cursor {
 public:
  Cursor(std::string_view b, const Checker& c) : b_(b), c_(c) {}
  template <typename T>
  Status Get(T* v) {
    if (b_.size() - pos_ < sizeof(T)) return c_.Bad(kLayout, "truncated");
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  size_t left() const { return b_.size() - pos_; }
  Status ExpectEnd() const { return pos_ == b_.size() ? Status::Ok() : c_.Bad(kLayout, "trailing bytes"); }

 private:
  std::string_view b_;
  const Checker& c_;
  size_t pos_ = 0;
};

template <typename T>
Status View(std::string_view b, uint32_t id, const Checker& c, std::span<const T>* out) {
  if (b.size() % sizeof(T) != 0) return c.Bad(id, "partial record");
  if (reinterpret_cast<uintptr_t>(b.data()) % alignof(T) != 0) return c.Bad(id, "misaligned");
  *out = std::span<const T>(reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T));
  return Status::Ok();
}

bool InRange(uint64_t begin, uint64_t count, size_t size) { return begin <= size && count <= size - begin; }

// One kComplete run's groups, trees, predicates and slots.
Status CheckCompleteRun(const CompiledForest& cf, const TreeRun& run, const CompleteRun& cr, const Checker& c,
                        uint32_t* groups_next, uint32_t* trees_next, uint32_t* preds_next,
                        uint64_t* slots_next, uint64_t* values_next) {
  const size_t w = static_cast<size_t>(cf.leaf_width), ncol = cr.features.size();
  if (cr.group_begin != *groups_next || cr.group_end <= cr.group_begin ||
      cr.group_end > cf.complete_groups.size())
    return c.Bad(kLayout, fmt::format("trees {}..{}: group range out of order or bounds", run.tree_begin,
                                      run.tree_end));
  *groups_next = cr.group_end;
  uint64_t trees = 0;
  for (uint32_t g = cr.group_begin; g < cr.group_end; ++g) {
    const PredicateGroup& grp = cf.complete_groups[g];
    if (grp.tree_begin != *trees_next || grp.tree_end <= grp.tree_begin ||
        grp.tree_end > cf.complete_trees.size())
      return c.Bad(kGroups, fmt::format("group {}: tree range out of order or bounds", g));
    if (grp.pred_begin != *preds_next || grp.pred_count >= kGroupSlots ||
        !InRange(grp.pred_begin, grp.pred_count, cf.complete_preds.size()) || grp.nan_right > grp.pred_count)
      return c.Bad(kGroups, fmt::format("group {}: predicate range out of order or bounds", g));
    *trees_next = grp.tree_end;
    *preds_next = grp.pred_begin + grp.pred_count;
    trees += grp.tree_end - grp.tree_begin;
    for (uint32_t p = grp.pred_begin; p < grp.pred_begin + grp.pred_count; ++p)
      if (cf.complete_preds[p].column >= ncol)
        return c.Bad(kPreds, fmt::format("predicate {}: column outside its run's tile", p));
    for (uint32_t t = grp.tree_begin; t < grp.tree_end; ++t) {
      const CompleteTree& ct = cf.complete_trees[t];
      if (ct.depth < 0 || ct.depth > kCompleteMaxDepth || ct.output < 0 ||
          (w == 1 && ct.output >= cf.n_outputs))
        return c.Bad(kCompleteTrees, fmt::format("tree {}: bad depth or output", t));
      const uint64_t inner = (uint64_t{1} << ct.depth) - 1, leaves = (inner + 1) * w;
      if (ct.slot_begin != *slots_next || !InRange(ct.slot_begin, inner, cf.complete_slots.size()))
        return c.Bad(kCompleteTrees, fmt::format("tree {}: slot range out of order or bounds", t));
      if (ct.value_begin != *values_next || !InRange(ct.value_begin, leaves, cf.complete_values.size()))
        return c.Bad(kCompleteTrees, fmt::format("tree {}: value range out of order or bounds", t));
      *slots_next += inner;
      *values_next += leaves;
      // Slots are byte offsets of kR-row blocks: of the group's predicate
      // table (slot 0 .. pred_count), or of the run's rank keys (two blocks
      // per tile column).
      const uint64_t blocks = cr.ranked ? 2 * ncol : uint64_t{grp.pred_count} + 1;
      for (uint64_t k = 0; k < inner; ++k) {
        const uint16_t slot = cf.complete_slots[ct.slot_begin + k];
        if (slot % kR != 0 || slot / kR >= blocks)
          return c.Bad(kSlots, fmt::format("tree {} node {}: slot outside its table", t, k));
      }
    }
  }
  if (trees != uint64_t{run.tree_end} - run.tree_begin)
    return c.Bad(kGroups,
                 fmt::format("trees {}..{}: the groups hold {} trees", run.tree_begin, run.tree_end, trees));
  return Status::Ok();
}

// One bitvector tree: its leaf masks must split the leaves [0, L) as a binary
// tree does, in preorder (CompileBitvector), so that a row's lowest surviving
// leaf is its exit leaf, < L.
Status CheckBitvectorTree(const CompiledForest& cf, uint32_t t, const Checker& c, uint64_t* nodes_next,
                          uint64_t* values_next) {
  const BitvectorTree& bt = cf.bv_trees[t];
  const size_t w = static_cast<size_t>(cf.leaf_width);
  const uint64_t leaves = uint64_t{bt.n_nodes} + 1;
  if (bt.n_nodes > 31 || bt.node_begin != *nodes_next ||
      !InRange(bt.node_begin, bt.n_nodes, cf.bv_nodes.size()))
    return c.Bad(kBvTrees, fmt::format("tree {}: node range out of order or bounds", t));
  if (bt.value_begin != *values_next || !InRange(bt.value_begin, leaves * w, cf.bv_values.size()))
    return c.Bad(kBvTrees, fmt::format("tree {}: value range out of order or bounds", t));
  if (bt.output < 0 || (w == 1 && bt.output >= cf.n_outputs))
    return c.Bad(kBvTrees, fmt::format("tree {}: output out of range", t));
  *nodes_next += bt.n_nodes;
  *values_next += leaves * w;
  std::pair<uint32_t, uint32_t> stack[32];
  int top = 0;
  if (leaves > 1) stack[top++] = {0, static_cast<uint32_t>(leaves)};
  for (uint32_t i = 0; i < bt.n_nodes; ++i) {
    const BitvectorNode& nd = cf.bv_nodes[bt.node_begin + i];
    if (nd.column % kTileRows != 0 || nd.column / kTileRows >= static_cast<uint32_t>(cf.n_features))
      return c.Bad(kBvNodes, fmt::format("tree {} node {}: column out of range", t, i));
    if (top == 0) return c.Bad(kBvNodes, fmt::format("tree {} node {}: not part of the tree", t, i));
    const auto [lo, hi] = stack[--top];
    const uint32_t m = nd.left_leaves;
    const uint32_t mid = lo + static_cast<uint32_t>(std::popcount(m));
    // m must be the bits [lo, mid), lo < mid < hi.
    const uint64_t want = ((uint64_t{1} << (mid - lo)) - 1) << lo;
    if (m == 0 || mid >= hi || m != want)
      return c.Bad(kBvNodes, fmt::format("tree {} node {}: leaf mask does not split its leaves", t, i));
    if (hi - mid > 1) stack[top++] = {mid, hi};
    if (mid - lo > 1) stack[top++] = {lo, mid};
  }
  if (top != 0) return c.Bad(kBvNodes, fmt::format("tree {}: too few nodes for its leaves", t));
  return Status::Ok();
}

// CheckDeepTree's walk as one pass without a branch on each node's kind
// (which alternates unpredictably in a grown tree): the same checks, folded
// into one flag. True when every node of the tree starting at `begin`
// passes: *last is then its last record and *leaves its leaf count. False:
// CheckDeepTree's own walk finds the first failure and names it.
bool DeepTreeHolds(const CompiledForest& cf, uint64_t begin, std::vector<uint64_t>* stack, uint64_t* last,
                   uint32_t* leaves_out) {
  const DeepNode* nodes = cf.deep_nodes.data();
  const uint64_t limit = std::min<uint64_t>(cf.deep_nodes.size(), begin + kDeepMaxNodes);
  const uint32_t nf = static_cast<uint32_t>(cf.n_features);
  if (stack->size() < 64) stack->resize(64);
  uint64_t* st = stack->data();
  size_t sp = 0;
  uint32_t leaves = 0;
  bool ok = true;
  for (uint64_t p = begin; p < limit; ++p) {
    const DeepNode nd = nodes[p];
    uint32_t thr;
    std::memcpy(&thr, &nd.threshold, 4);
    const uint32_t offset = nd.bits >> 12;
    const bool leaf = offset == 0;
    const bool leaf_ok = (nd.bits == 0) & ((thr & 0x7F800000u) == 0x7F800000u) & ((thr & 0x007FFFFFu) != 0) &
                         ((thr & (kDeepMaxLeaves - 1)) == leaves) & (leaves + 1 < kDeepMaxLeaves);
    const bool internal_ok = (offset >= 2) & (((nd.bits >> 1) & (kDeepMaxFeatures - 1)) < nf);
    ok &= (leaf & leaf_ok) | (!leaf & internal_ok);
    if (leaf && sp == 0) {
      *last = p;
      *leaves_out = leaves + 1;
      return ok;
    }
    // A leaf: its parent's right child must come next (the top of the
    // stack), which it pops; an internal node pushes its right child.
    ok &= !leaf | (st[sp - (sp != 0)] == p + 1);
    st[sp] = p + offset;
    sp = sp + 1 - 2 * static_cast<size_t>(leaf);
    leaves += leaf;
    if (sp == stack->size()) {
      stack->resize(2 * sp);
      st = stack->data();
    }
  }
  return false;  // runs past its nodes
}

// One deep tree: preorder records (left child next, right child at +offset),
// leaves numbered in order; the walk can then only move forward inside the
// tree and stops on a leaf (a NaN threshold and no bits).
Status CheckDeepTree(const CompiledForest& cf, uint32_t t, const Checker& c, uint64_t* nodes_next,
                     uint64_t* values_next, std::vector<uint64_t>* stack) {
  const DeepTree& dt = cf.deep_trees[t];
  const size_t w = static_cast<size_t>(cf.leaf_width);
  if (dt.node_begin != *nodes_next || dt.node_begin >= cf.deep_nodes.size())
    return c.Bad(kDeepTrees, fmt::format("tree {}: node range out of order or bounds", t));
  if (dt.output < 0 || (w == 1 && dt.output >= cf.n_outputs))
    return c.Bad(kDeepTrees, fmt::format("tree {}: output out of range", t));
  uint64_t p = dt.node_begin;
  uint32_t leaves = 0;
  if (!DeepTreeHolds(cf, dt.node_begin, stack, &p, &leaves)) {
    // Something fails: the walk that says what.
    stack->clear();
    p = dt.node_begin;
    leaves = 0;
    for (;;) {
      if (p >= cf.deep_nodes.size() || p - dt.node_begin >= kDeepMaxNodes)
        return c.Bad(kDeepNodes, fmt::format("tree {}: runs past its nodes", t));
      const DeepNode& nd = cf.deep_nodes[p];
      uint32_t thr;
      std::memcpy(&thr, &nd.threshold, 4);
      const uint32_t offset = nd.bits >> 12;
      if (offset == 0) {  // a leaf
        if (nd.bits != 0 || (thr & 0x7F800000u) != 0x7F800000u || (thr & 0x007FFFFFu) == 0 ||
            (thr & (kDeepMaxLeaves - 1)) != leaves || leaves + 1 >= kDeepMaxLeaves)
          return c.Bad(kDeepNodes, fmt::format("tree {} node {}: bad leaf", t, p - dt.node_begin));
        ++leaves;
        if (stack->empty()) break;
        if (stack->back() != p + 1)
          return c.Bad(kDeepNodes,
                       fmt::format("tree {} node {}: right child out of place", t, p - dt.node_begin));
        stack->pop_back();
      } else {
        if (offset < 2 || ((nd.bits >> 1) & (kDeepMaxFeatures - 1)) >= static_cast<uint32_t>(cf.n_features))
          return c.Bad(kDeepNodes,
                       fmt::format("tree {} node {}: bad offset or feature", t, p - dt.node_begin));
        stack->push_back(p + offset);
      }
      ++p;
    }
  }
  *nodes_next = p + 1;
  if (dt.value_begin != *values_next || !InRange(dt.value_begin, uint64_t{leaves} * w, cf.deep_values.size()))
    return c.Bad(kDeepTrees, fmt::format("tree {}: value range out of order or bounds", t));
  *values_next += uint64_t{leaves} * w;
  return Status::Ok();
}

// Every run and array of a layout read from a file (see the file comment of
// compiled_io.h).
Status CheckLayout(const CompiledForest& cf, const Checker& c) {
  uint32_t complete_runs = 0, groups = 0, ctrees = 0, preds = 0, bv = 0, deep = 0, generic = 0;
  uint64_t slots = 0, cvalues = 0, bv_nodes = 0, bv_values = 0, deep_nodes = 0, deep_values = 0;
  std::vector<uint64_t> stack;
  for (const TreeRun& run : cf.runs) {
    const uint32_t count = run.tree_end - run.tree_begin;
    switch (run.layout) {
      case TreeLayout::kComplete:
        if (run.first != complete_runs || run.first >= cf.complete_runs.size())
          return c.Bad(kLayout,
                       fmt::format("run of trees {}..{}: bad complete run", run.tree_begin, run.tree_end));
        ++complete_runs;
        FB_RETURN_IF_ERROR(CheckCompleteRun(cf, run, cf.complete_runs[run.first], c, &groups, &ctrees, &preds,
                                            &slots, &cvalues));
        break;
      case TreeLayout::kBitvector:
        if (run.first != bv || !InRange(run.first, count, cf.bv_trees.size()))
          return c.Bad(kLayout,
                       fmt::format("run of trees {}..{}: bad bitvector trees", run.tree_begin, run.tree_end));
        for (uint32_t t = run.first; t < run.first + count; ++t)
          FB_RETURN_IF_ERROR(CheckBitvectorTree(cf, t, c, &bv_nodes, &bv_values));
        bv += count;
        break;
      case TreeLayout::kDeep:
        if (run.first != deep || !InRange(run.first, count, cf.deep_trees.size()))
          return c.Bad(kLayout,
                       fmt::format("run of trees {}..{}: bad deep trees", run.tree_begin, run.tree_end));
        for (uint32_t t = run.first; t < run.first + count; ++t)
          FB_RETURN_IF_ERROR(CheckDeepTree(cf, t, c, &deep_nodes, &deep_values, &stack));
        deep += count;
        break;
      case TreeLayout::kGeneric:
        if (run.first != generic || !InRange(run.first, count, cf.generic_trees.size()))
          return c.Bad(kLayout,
                       fmt::format("run of trees {}..{}: bad generic trees", run.tree_begin, run.tree_end));
        for (uint32_t k = 0; k < count; ++k)
          if (cf.generic_trees[run.first + k] != run.tree_begin + k)
            return c.Bad(kGenericTrees,
                         fmt::format("entry {}: not tree {}", run.first + k, run.tree_begin + k));
        generic += count;
        break;
    }
  }
  // Nothing left over: every array is exactly what the runs use.
  const std::pair<uint32_t, bool> used[] = {
      {kLayout, complete_runs == cf.complete_runs.size()},
      {kGroups, groups == cf.complete_groups.size()},
      {kPreds, preds == cf.complete_preds.size()},
      {kCompleteTrees, ctrees == cf.complete_trees.size()},
      {kSlots, slots == cf.complete_slots.size()},
      {kRanks, cf.complete_ranks.size() == cf.complete_slots.size()},
      {kCompleteValues, cvalues == cf.complete_values.size()},
      {kBvTrees, bv == cf.bv_trees.size()},
      {kBvNodes, bv_nodes == cf.bv_nodes.size()},
      {kBvValues, bv_values == cf.bv_values.size()},
      {kDeepTrees, deep == cf.deep_trees.size()},
      {kDeepNodes, deep_nodes == cf.deep_nodes.size()},
      {kDeepValues, deep_values == cf.deep_values.size()},
      {kGenericTrees, generic == cf.generic_trees.size()},
  };
  for (const auto& [id, ok] : used)
    if (!ok) return c.Bad(id, "size does not match the runs");
  return Status::Ok();
}

// The layout section: header, runs, complete runs.
Status ReadLayoutSection(std::string_view b, const Forest& f, const Checker& c, CompiledForest* cf) {
  Cursor in(b, c);
  uint32_t fingerprint = 0, n_trees = 0, n_runs = 0, n_complete = 0;
  uint64_t nodes = 0;
  uint8_t f32 = 0, pad8 = 0;
  uint16_t pad16 = 0;
  FB_RETURN_IF_ERROR(in.Get(&fingerprint));
  FB_RETURN_IF_ERROR(in.Get(&n_trees));
  FB_RETURN_IF_ERROR(in.Get(&nodes));
  FB_RETURN_IF_ERROR(in.Get(&cf->n_features));
  FB_RETURN_IF_ERROR(in.Get(&cf->n_outputs));
  FB_RETURN_IF_ERROR(in.Get(&cf->leaf_width));
  FB_RETURN_IF_ERROR(in.Get(&f32));
  FB_RETURN_IF_ERROR(in.Get(&pad8));
  FB_RETURN_IF_ERROR(in.Get(&pad16));
  FB_RETURN_IF_ERROR(in.Get(&n_runs));
  FB_RETURN_IF_ERROR(in.Get(&n_complete));
  cf->float32_sums = f32 != 0;
  if (n_trees != f.trees.size() || nodes != TotalNodes(f) || cf->n_features != f.n_features ||
      cf->n_outputs != f.n_outputs || cf->leaf_width != f.leaf_width || f32 > 1 ||
      cf->float32_sums != f.float32_sums)
    return c.Bad(kLayout, "describes another forest than the file's");
  // Each run holds a tree at least: bounds the allocations below.
  if (n_runs > n_trees || n_complete > n_runs) return c.Bad(kLayout, "bad run count");
  cf->runs.resize(n_runs);
  uint32_t next = 0;
  for (TreeRun& r : cf->runs) {
    uint8_t layout = 0, p1 = 0;
    uint16_t p2 = 0;
    FB_RETURN_IF_ERROR(in.Get(&layout));
    FB_RETURN_IF_ERROR(in.Get(&p1));
    FB_RETURN_IF_ERROR(in.Get(&p2));
    FB_RETURN_IF_ERROR(in.Get(&r.tree_begin));
    FB_RETURN_IF_ERROR(in.Get(&r.tree_end));
    FB_RETURN_IF_ERROR(in.Get(&r.first));
    if (layout > static_cast<uint8_t>(TreeLayout::kGeneric)) return c.Bad(kLayout, "unknown tree layout");
    r.layout = static_cast<TreeLayout>(layout);
    // Runs cover the trees in order.
    if (r.tree_begin != next || r.tree_end <= r.tree_begin || r.tree_end > n_trees)
      return c.Bad(kLayout, fmt::format("run {}: trees out of order", &r - cf->runs.data()));
    next = r.tree_end;
  }
  if (next != n_trees) return c.Bad(kLayout, "runs do not cover the trees");
  cf->complete_runs.resize(n_complete);
  for (CompleteRun& r : cf->complete_runs) {
    uint32_t ncol = 0;
    uint8_t dense = 0, ranked = 0;
    FB_RETURN_IF_ERROR(in.Get(&ncol));
    FB_RETURN_IF_ERROR(in.Get(&dense));
    FB_RETURN_IF_ERROR(in.Get(&ranked));
    FB_RETURN_IF_ERROR(in.Get(&pad16));
    FB_RETURN_IF_ERROR(in.Get(&r.group_begin));
    FB_RETURN_IF_ERROR(in.Get(&r.group_end));
    if (dense > 1 || ranked > 1) return c.Bad(kLayout, "bad complete run flags");
    r.dense = dense != 0;
    r.ranked = ranked != 0;
    if (ncol > static_cast<uint32_t>(f.n_features) || ncol > in.left() / 4)
      return c.Bad(kLayout, "complete run has too many columns");
    r.features.resize(ncol);
    for (uint32_t& k : r.features) FB_RETURN_IF_ERROR(in.Get(&k));
    // Ascending features (consecutive when dense: the tile copies them in
    // blocks from the first), each a feature of the forest.
    for (size_t k = 0; k < ncol; ++k)
      if (r.features[k] >= static_cast<uint32_t>(f.n_features) ||
          (k > 0 && (r.dense ? r.features[k] != r.features[k - 1] + 1 : r.features[k] <= r.features[k - 1])))
        return c.Bad(kLayout, "complete run features out of order or range");
    if (r.ranked) {
      if (ncol == 0 || ncol > kMaxRankedColumns || uint64_t{ncol} * kRankTableSize > in.left() / 4)
        return c.Bad(kLayout, "ranked run with a bad column count");
      r.rank_thresholds.resize(size_t{ncol} * kRankTableSize);
      for (float& v : r.rank_thresholds) FB_RETURN_IF_ERROR(in.Get(&v));
      // Per column: ascending, no NaN, +inf last (so a rank is at most 255).
      for (size_t col = 0; col < ncol; ++col) {
        const float* t = r.rank_thresholds.data() + col * kRankTableSize;
        for (size_t k = 0; k < kRankTableSize; ++k)
          if (std::isnan(t[k]) || (k > 0 && t[k] < t[k - 1]))
            return c.Bad(kLayout, "rank thresholds out of order");
        if (t[kRankTableSize - 1] != std::numeric_limits<float>::infinity())
          return c.Bad(kLayout, "rank thresholds without their +inf");
      }
    }
  }
  return in.ExpectEnd();
}

}  // namespace

uint32_t LayoutFingerprint() {
  // FNV-1a over the version, the layout constants and the record sizes.
  const uint32_t parts[] = {kLayoutVersion,
                            static_cast<uint32_t>(kCompleteMaxDepth),
                            static_cast<uint32_t>(kCompleteTileRows),
                            kGroupSlots,
                            static_cast<uint32_t>(kTileRows),
                            kMaxRankedThresholds,
                            kRankTableSize,
                            kMaxRankedColumns,
                            kDeepMaxFeatures,
                            kDeepMaxNodes,
                            kDeepMaxLeaves,
                            sizeof(CompletePredicate),
                            sizeof(CompleteTree),
                            sizeof(PredicateGroup),
                            sizeof(BitvectorNode),
                            sizeof(BitvectorTree),
                            sizeof(DeepNode),
                            sizeof(DeepTree)};
  uint32_t h = 2166136261u;
  for (uint32_t v : parts)
    for (int k = 0; k < 4; ++k) h = (h ^ ((v >> (8 * k)) & 0xFF)) * 16777619u;
  return h;
}

std::vector<std::pair<uint32_t, std::string>> EncodeLayoutSections(const CompiledForest& cf) {
  const Forest& f = *cf.forest;
  std::string s;
  PutLe<uint32_t>(&s, LayoutFingerprint());
  PutLe<uint32_t>(&s, static_cast<uint32_t>(f.trees.size()));
  PutLe<uint64_t>(&s, TotalNodes(f));
  PutLe<int32_t>(&s, cf.n_features);
  PutLe<int32_t>(&s, cf.n_outputs);
  PutLe<int32_t>(&s, cf.leaf_width);
  PutLe<uint8_t>(&s, cf.float32_sums ? 1 : 0);
  PutLe<uint8_t>(&s, 0);
  PutLe<uint16_t>(&s, 0);
  PutLe<uint32_t>(&s, static_cast<uint32_t>(cf.runs.size()));
  PutLe<uint32_t>(&s, static_cast<uint32_t>(cf.complete_runs.size()));
  for (const TreeRun& r : cf.runs) {
    PutLe<uint8_t>(&s, static_cast<uint8_t>(r.layout));
    PutLe<uint8_t>(&s, 0);
    PutLe<uint16_t>(&s, 0);
    PutLe<uint32_t>(&s, r.tree_begin);
    PutLe<uint32_t>(&s, r.tree_end);
    PutLe<uint32_t>(&s, r.first);
  }
  for (const CompleteRun& r : cf.complete_runs) {
    PutLe<uint32_t>(&s, static_cast<uint32_t>(r.features.size()));
    PutLe<uint8_t>(&s, r.dense ? 1 : 0);
    PutLe<uint8_t>(&s, r.ranked ? 1 : 0);
    PutLe<uint16_t>(&s, 0);
    PutLe<uint32_t>(&s, r.group_begin);
    PutLe<uint32_t>(&s, r.group_end);
    for (uint32_t k : r.features) PutLe<uint32_t>(&s, k);
    for (float v : r.rank_thresholds) PutLe<float>(&s, v);
  }
  std::vector<std::pair<uint32_t, std::string>> out;
  out.emplace_back(kLayout, std::move(s));
  out.emplace_back(kGroups, Bytes(cf.complete_groups));
  out.emplace_back(kPreds, Bytes(cf.complete_preds));
  out.emplace_back(kCompleteTrees, Bytes(cf.complete_trees));
  out.emplace_back(kSlots, Bytes(cf.complete_slots));
  out.emplace_back(kRanks, Bytes(cf.complete_ranks));
  out.emplace_back(kCompleteValues, Bytes(cf.complete_values));
  out.emplace_back(kBvTrees, Bytes(cf.bv_trees));
  out.emplace_back(kBvNodes, Bytes(cf.bv_nodes));
  out.emplace_back(kBvValues, Bytes(cf.bv_values));
  out.emplace_back(kDeepTrees, Bytes(cf.deep_trees));
  out.emplace_back(kDeepNodes, Bytes(cf.deep_nodes));
  out.emplace_back(kDeepValues, Bytes(cf.deep_values));
  out.emplace_back(kGenericTrees, Bytes(cf.generic_trees));
  return out;
}

Result<std::optional<CompiledForest>> ReadStoredLayout(std::shared_ptr<const Forest> forest) {
  const Forest& f = *forest;
  if (!f.stored_layout) return std::optional<CompiledForest>();
  const StoredLayout& st = *f.stored_layout;
  const Checker c(st);
  std::string_view sec[kLastLayoutId + 1];
  bool have[kLastLayoutId + 1] = {};
  for (const StoredLayout::Section& s : st.sections) {
    if (s.id < kLayout || s.id > kLastLayoutId) continue;  // a later layout's section
    have[s.id] = true;
    sec[s.id] = s.bytes;
  }
  // No layout section, or another compiler's: compile instead.
  if (!have[kLayout]) return std::optional<CompiledForest>();
  uint32_t fingerprint = 0;
  if (sec[kLayout].size() < 4) return c.Bad(kLayout, "truncated");
  std::memcpy(&fingerprint, sec[kLayout].data(), 4);
  if (fingerprint != LayoutFingerprint()) return std::optional<CompiledForest>();
  for (uint32_t id = kLayout; id <= kLastLayoutId; ++id)
    if (!have[id]) return c.Bad(id, "missing");

  CompiledForest cf;
  FB_RETURN_IF_ERROR(ReadLayoutSection(sec[kLayout], f, c, &cf));
  FB_RETURN_IF_ERROR(View(sec[kGroups], kGroups, c, &cf.complete_groups));
  FB_RETURN_IF_ERROR(View(sec[kPreds], kPreds, c, &cf.complete_preds));
  FB_RETURN_IF_ERROR(View(sec[kCompleteTrees], kCompleteTrees, c, &cf.complete_trees));
  FB_RETURN_IF_ERROR(View(sec[kSlots], kSlots, c, &cf.complete_slots));
  FB_RETURN_IF_ERROR(View(sec[kRanks], kRanks, c, &cf.complete_ranks));
  FB_RETURN_IF_ERROR(View(sec[kCompleteValues], kCompleteValues, c, &cf.complete_values));
  FB_RETURN_IF_ERROR(View(sec[kBvTrees], kBvTrees, c, &cf.bv_trees));
  FB_RETURN_IF_ERROR(View(sec[kBvNodes], kBvNodes, c, &cf.bv_nodes));
  FB_RETURN_IF_ERROR(View(sec[kBvValues], kBvValues, c, &cf.bv_values));
  FB_RETURN_IF_ERROR(View(sec[kDeepTrees], kDeepTrees, c, &cf.deep_trees));
  FB_RETURN_IF_ERROR(View(sec[kDeepNodes], kDeepNodes, c, &cf.deep_nodes));
  FB_RETURN_IF_ERROR(View(sec[kDeepValues], kDeepValues, c, &cf.deep_values));
  FB_RETURN_IF_ERROR(View(sec[kGenericTrees], kGenericTrees, c, &cf.generic_trees));
  FB_RETURN_IF_ERROR(CheckLayout(cf, c));
  cf.storage = f.stored_layout;
  cf.forest = std::move(forest);
  // Generic runs walk the Forest's own nodes: undecoded trees
  // (ModelLoad::kTreesOnDemand) are decoded for them. Without generic runs
  // the predictor reads only the layout (and, for fewer rows than a tile,
  // runs the kernels on a padded tile instead of walking the nodes).
  if (!cf.forest->trees_decoded() && std::any_of(cf.runs.begin(), cf.runs.end(), [](const TreeRun& r) {
        return r.layout == TreeLayout::kGeneric;
      })) {
    FB_ASSIGN_OR_RETURN(cf.forest, DecodedForest(std::move(cf.forest)));
  }
  return std::optional<CompiledForest>(std::move(cf));
}

Result<CompiledForest> CompiledForestFor(std::shared_ptr<const Forest> forest) {
  FB_ASSIGN_OR_RETURN(std::optional<CompiledForest> stored, ReadStoredLayout(forest));
  if (stored) return std::move(*stored);
  // No usable layout: compile from the nodes (decoded first when they are not).
  FB_ASSIGN_OR_RETURN(forest, DecodedForest(std::move(forest)));
  return CompileForest(std::move(forest));
}

}  // namespace fb
