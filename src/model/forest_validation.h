// The depth-first tree walk behind ValidateTree, for its tests only.
//
// ValidateTree (forest_builder.h) first runs a one-scan check that says only
// yes or no; a tree it refuses is walked depth first from the root, which
// names the first problem. The walk is declared here, not in forest_builder.h
// (which nearly every file includes), so that the test can hold the one-scan
// check to it: both must accept and refuse the same trees.
#pragma once

#include <cstddef>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// Checks one tree by walking it from the root: InvalidData naming tree
// `tree_index` and the first node found wrong, or Ok.
Status ValidateTreeByWalk(const Forest& forest, const Tree& tree, size_t tree_index);

}  // namespace fb
