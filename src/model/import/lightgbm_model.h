// LightGBM text models (model.txt, Booster.save_model, model_to_string)
// into a Forest, following LightGBM's own loader (GBDT::LoadModelFromString,
// Tree::Tree(const char*)) and prediction rules (Tree::NumericalDecision,
// CategoricalDecision, the objectives' ConvertOutput). docs/lightgbm.md says
// what is read, how each rule maps onto the Forest's and what is refused.
//
// The bytes are untrusted: every count is checked against what the file
// holds before anything of that size is allocated, every index is checked,
// and errors name the line (Status::line). Linear trees (is_linear=1) are
// refused as unsupported.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// True when `head` (the first bytes of a file) starts like a LightGBM text
// model: the line "tree", then "version=" or another header line.
bool LooksLikeLightgbmText(std::string_view head);

Result<Forest> LoadLightgbmText(std::string_view bytes);

}  // namespace fb
