#include "infer/compiled_forest.h"

#include <cstring>
#include <utility>

#include "model/forest_builder.h"

namespace fb {
namespace {

// Node indexes of `tree` in depth-first preorder, left child first: leaves
// then appear left to right, and each node's left child follows it.
std::vector<int32_t> Preorder(const Tree& tree) {
  std::vector<int32_t> order, stack{0};
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
  return order;
}

void CompileBitvector(const Forest& f, const Tree& tree, CompiledForest* cf) {
  const std::vector<int32_t> order = Preorder(tree);
  const size_t n = tree.nodes.size();
  std::vector<uint32_t> leaf_lo(n), leaf_hi(n);
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

void CompileDeep(const Forest& f, const Tree& tree, CompiledForest* cf) {
  const std::vector<int32_t> order = Preorder(tree);
  std::vector<uint32_t> pos(tree.nodes.size());
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

}  // namespace

TreeLayout ChooseLayout(const Forest& f, const Tree& tree) {
  for (const Node& n : tree.nodes)
    if (!n.is_leaf() && n.categorical) return TreeLayout::kGeneric;
  TreeShape shape = ShapeOf(tree);
  if (shape.n_leaves <= 32) return TreeLayout::kBitvector;
  if (static_cast<uint32_t>(f.n_features) <= kDeepMaxFeatures && tree.nodes.size() < kDeepMaxNodes &&
      static_cast<uint32_t>(shape.n_leaves) < kDeepMaxLeaves)
    return TreeLayout::kDeep;
  return TreeLayout::kGeneric;
}

CompiledForest CompileForest(std::shared_ptr<const Forest> forest) {
  CompiledForest cf;
  const Forest& f = *forest;
  cf.n_features = f.n_features;
  cf.n_outputs = f.n_outputs;
  cf.leaf_width = f.leaf_width;
  for (size_t t = 0; t < f.trees.size(); ++t) {
    const Tree& tree = f.trees[t];
    TreeLayout layout = ChooseLayout(f, tree);
    if (cf.runs.empty() || cf.runs.back().layout != layout) {
      uint32_t first = layout == TreeLayout::kBitvector ? cf.bv_trees.size()
                       : layout == TreeLayout::kDeep    ? cf.deep_trees.size()
                                                        : cf.generic_trees.size();
      cf.runs.push_back(TreeRun{layout, static_cast<uint32_t>(t), static_cast<uint32_t>(t), first});
    }
    cf.runs.back().tree_end = static_cast<uint32_t>(t + 1);
    switch (layout) {
      case TreeLayout::kBitvector: CompileBitvector(f, tree, &cf); break;
      case TreeLayout::kDeep: CompileDeep(f, tree, &cf); break;
      case TreeLayout::kGeneric: cf.generic_trees.push_back(static_cast<uint32_t>(t)); break;
    }
  }
  cf.forest = std::move(forest);
  return cf;
}

}  // namespace fb
