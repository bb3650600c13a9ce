// CompiledForest: a Forest rearranged for fast prediction, one layout per
// tree chosen from the tree's shape.
//
//   kBitvector  trees with at most 32 leaves and numeric splits only (the
//               seed model's depth-5 trees). Every internal node is tested
//               for a tile of kTileRows rows at once, column-major, and each
//               row keeps a 32-bit set of still-possible leaves (QuickScorer):
//               a node that sends the row right removes its left subtree's
//               leaves; the exit leaf is the lowest surviving bit. No
//               branches depend on the data, so it vectorises across rows.
//   kDeep       larger numeric trees: 8-byte node records in depth-first
//               order (left child adjacent), walked by several rows in
//               lockstep to overlap cache misses.
//   kGeneric    anything else (categorical splits, very wide or huge trees):
//               walks the Forest's own nodes like the reference predictor.
//
// Consecutive trees of one layout form a run; runs are evaluated in tree
// order, so every row still adds its leaves in tree order, in double: the
// sums are bit-identical to ReferencePredictor's.
//
// Ownership: holds a shared_ptr to the Forest; immutable after
// CompileForest, so any number of threads may read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/forest.h"

namespace fb {

// Rows per column-major tile of the bitvector kernels.
inline constexpr size_t kTileRows = 64;

enum class TreeLayout : uint8_t { kBitvector, kDeep, kGeneric };

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
};

struct CompiledForest {
  std::shared_ptr<const Forest> forest;
  int32_t n_features = 0;
  int32_t n_outputs = 1;
  int32_t leaf_width = 1;
  std::vector<TreeRun> runs;

  std::vector<BitvectorTree> bv_trees;
  std::vector<BitvectorNode> bv_nodes;
  std::vector<double> bv_values;

  std::vector<DeepTree> deep_trees;
  std::vector<DeepNode> deep_nodes;
  std::vector<double> deep_values;

  std::vector<uint32_t> generic_trees;  // forest tree indexes
};

// Which layout CompileForest gives `tree`.
TreeLayout ChooseLayout(const Forest& forest, const Tree& tree);

// Precondition: `forest` passed BuildForest (valid, acyclic).
CompiledForest CompileForest(std::shared_ptr<const Forest> forest);

}  // namespace fb
