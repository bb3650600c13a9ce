// CompiledForest: a Forest rearranged for fast prediction, one layout per
// tree chosen from the tree's shape.
//
//   kComplete   shallow trees (depth <= kCompleteMaxDepth) with numeric
//               splits only: the seed model's depth-5 trees, XGBoost's
//               default depth 6. Each tree is padded to a complete binary
//               tree (a leaf above the last level becomes nodes that always
//               go left), so that the path of a row is D bits computed
//               without branches. Node tests are shared: consecutive trees
//               form groups whose distinct (feature, threshold, NaN rule)
//               tests ("predicates", at most 255 a group) are evaluated once
//               per tile of rows, one byte per row; every tree then selects
//               its nodes' bytes level by level with byte blends, 32 rows per
//               AVX2 instruction (AVX-512: bits, 512 rows per blend). Random forests repeat tests across
//               trees (the seed model: 3,616 internal nodes, 159 distinct tests).
//   kBitvector  deeper trees with at most 32 leaves and numeric splits
//               only. Every internal node is tested
//               for a tile of kTileRows rows at once, column-major, and each
//               row keeps a 32-bit set of still-possible leaves (QuickScorer):
//               a node that sends the row right removes its left subtree's
//               leaves; the exit leaf is the lowest surviving bit. No
//               branches depend on the data, so it vectorises across rows.
//   kDeep       larger numeric trees: 8-byte node records in depth-first
//               order (left child adjacent), walked by several rows in
//               lockstep to overlap cache misses.
//   kGeneric    anything else (categorical or zero-as-missing splits, very
//               wide or huge trees):
//               walks the Forest's own nodes like the reference predictor.
//
// Consecutive trees of one layout form a run; runs are evaluated in tree
// order, so every row still adds its leaves in tree order, in double (or
// float32, Forest::float32_sums): the sums are bit-identical to
// ReferencePredictor's.
//
// Ownership: holds a shared_ptr to the Forest and one to the storage its
// arrays are views of; immutable once built, so any number of threads may
// read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/forest.h"

namespace fb {

// Rows per column-major tile of the bitvector kernels.
inline constexpr size_t kTileRows = 64;

enum class TreeLayout : uint8_t { kComplete, kBitvector, kDeep, kGeneric };

// --- kComplete ---
inline constexpr int kCompleteMaxDepth = 6;
// Rows per tile of the complete-tree kernels (four 32-byte vectors, two passes
// of the cascade; 64 rows measured about 2 % slower on Zen 3).
inline constexpr size_t kCompleteTileRows = 128;
// Predicate slots of a group; slot 0 is the constant "always left".
inline constexpr uint32_t kGroupSlots = 256;

// One distinct node test of a group. A row goes RIGHT when not
// x <= threshold; NaN goes right or left by the predicate's place in its
// group (PredicateGroup::nan_right).
struct CompletePredicate {
  uint32_t column;  // into the run's tile columns (CompleteRun::features)
  float threshold;
  // Ranked runs: the threshold's index among the column's distinct
  // thresholds (ascending), so that the row goes right when its value's
  // rank (how many of them are below it) is greater.
  uint32_t rank;
};

// A tree padded to depth `depth`: node k (breadth-first, root 0, children
// of k at 2k + 1 and 2k + 2) tests the predicate whose row bytes are at
// byte offset complete_slots[slot_begin + k] (slot * kCompleteTileRows) of a
// tile's predicate table. A row's path bits b0 (root) .. b(depth-1), right = 1, read as a
// binary number, index its leaf in values: 2^depth leaves of leaf_width
// doubles each (a leaf above the last level is repeated).
struct CompleteTree {
  uint32_t slot_begin;   // into complete_slots: 2^depth - 1 entries
  uint32_t value_begin;  // into complete_values: 2^depth * leaf_width
  int32_t output;
  int32_t depth;  // 0 .. kCompleteMaxDepth
};

// Consecutive trees that share one predicate table.
struct PredicateGroup {
  uint32_t pred_begin;  // into complete_preds: slots 1 .. pred_count, in slot order
  uint32_t pred_count;  // < kGroupSlots
  uint32_t nan_right;   // slots 1 .. nan_right send NaN right; the rest send it left
  uint32_t tree_begin;  // into complete_trees
  uint32_t tree_end;
};

// The features a kComplete run copies into its tiles, one tile column each:
// every feature of [features.front(), features.back()] when the run reads
// most of them (dense: copied in 8 x 8 blocks), else only those it reads.
//
// Ranked runs: when the groups hold many more tests than the run has
// features (boosted trees on continuous data: few tests repeat), each value
// of a tile is first ranked among its column's distinct thresholds (at most
// kMaxRankedThresholds, by binary search), and each node's test becomes one
// byte compare of ranks for 32 rows, made where the tree reads it instead of
// float compares and packing per test. A ranked tree's complete_slots hold
// the byte offset of its node's column keys in the tile's rank table
// (column * 2 * kCompleteTileRows, plus kCompleteTileRows when NaN goes
// right) and complete_ranks the threshold's rank (padding: offset 0, rank
// 255, which no key exceeds).
inline constexpr uint32_t kMaxRankedThresholds = 255;
inline constexpr uint32_t kRankTableSize = 256;  // thresholds padded with +inf
inline constexpr uint32_t kMaxRankedColumns = 65536 / (2 * kCompleteTileRows);

struct CompleteRun {
  std::vector<uint32_t> features;  // ascending
  bool dense = false;              // features are consecutive
  uint32_t group_begin = 0;        // into complete_groups
  uint32_t group_end = 0;
  bool ranked = false;
  // Ranked: kRankTableSize ascending thresholds per tile column, +inf after
  // the column's own.
  std::vector<float> rank_thresholds;
};

struct BitvectorNode {
  uint32_t column;       // feature * kTileRows: the column's offset in a tile
  float threshold;       // left when x <= threshold
  uint32_t left_leaves;  // bits of the leaves under the left child
  uint32_t default_left;
};

struct BitvectorTree {
  uint32_t node_begin;   // into CompiledForest::bv_nodes
  uint32_t n_nodes;      // internal nodes (0 for a single leaf)
  uint32_t value_begin;  // into bv_values: leaves left to right, leaf_width each
  int32_t output;
};

// Internal node: threshold, bits = default_left | feature << 1 | right_offset << 12
// (the right child is at index + right_offset; the left one at index + 1).
// Leaf: threshold is a quiet NaN whose payload is the leaf's ordinal and bits
// is 0, so a leaf sends every row "right" by 0, to itself: lockstep walks need
// no per-row exit test.
struct DeepNode {
  float threshold;
  uint32_t bits;
};
inline constexpr uint32_t kDeepMaxFeatures = 1u << 11;
inline constexpr uint32_t kDeepMaxNodes = 1u << 20;
inline constexpr uint32_t kDeepMaxLeaves = 1u << 22;

struct DeepTree {
  uint32_t node_begin;   // into deep_nodes
  uint32_t value_begin;  // into deep_values: leaves by ordinal, leaf_width each
  int32_t output;
};

struct TreeRun {
  TreeLayout layout;
  uint32_t tree_begin;  // forest tree indexes [tree_begin, tree_end)
  uint32_t tree_end;
  uint32_t first;  // index of the first tree in the layout's own tree array
                   // (kComplete: index into CompiledForest::complete_runs)
};

// The large arrays of a compiled forest, as CompileForest fills them.
struct CompiledArrays {
  std::vector<PredicateGroup> complete_groups;
  std::vector<CompletePredicate> complete_preds;
  std::vector<CompleteTree> complete_trees;
  std::vector<uint16_t> complete_slots;
  std::vector<uint8_t> complete_ranks;  // per slot; ranked runs only (see CompleteRun)
  std::vector<double> complete_values;

  std::vector<BitvectorTree> bv_trees;
  std::vector<BitvectorNode> bv_nodes;
  std::vector<double> bv_values;

  std::vector<DeepTree> deep_trees;
  std::vector<DeepNode> deep_nodes;
  std::vector<double> deep_values;

  std::vector<uint32_t> generic_trees;  // forest tree indexes
};

struct CompiledForest {
  std::shared_ptr<const Forest> forest;
  int32_t n_features = 0;
  int32_t n_outputs = 1;
  int32_t leaf_width = 1;
  bool float32_sums = false;  // Forest::float32_sums: every addition rounded to float32
  std::vector<TreeRun> runs;
  std::vector<CompleteRun> complete_runs;

  // Read-only views of the large arrays (CompiledArrays has their meaning):
  // over the CompiledArrays CompileForest built, or over a .fbm file's
  // mapping that stores them (infer/compiled_io.h). `storage` keeps what they
  // point into alive.
  std::span<const PredicateGroup> complete_groups;
  std::span<const CompletePredicate> complete_preds;
  std::span<const CompleteTree> complete_trees;
  std::span<const uint16_t> complete_slots;
  std::span<const uint8_t> complete_ranks;
  std::span<const double> complete_values;

  std::span<const BitvectorTree> bv_trees;
  std::span<const BitvectorNode> bv_nodes;
  std::span<const double> bv_values;

  std::span<const DeepTree> deep_trees;
  std::span<const DeepNode> deep_nodes;
  std::span<const double> deep_values;

  std::span<const uint32_t> generic_trees;

  std::shared_ptr<const void> storage;
};

// Which layout CompileForest gives `tree`.
TreeLayout ChooseLayout(const Forest& forest, const Tree& tree);

// Precondition: `forest` passed BuildForest (valid, acyclic).
CompiledForest CompileForest(std::shared_ptr<const Forest> forest);

// Points cf's array views at `arrays` and makes cf keep them alive.
void ViewArrays(std::shared_ptr<const CompiledArrays> arrays, CompiledForest* cf);

}  // namespace fb
