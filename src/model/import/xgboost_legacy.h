// XGBoost's legacy binary model format (1.x `save_model("model.bin")`,
// `Booster.save_raw("deprecated")`, and the model part of the buffers
// XGBoost 1.0 to 1.2 pickle), read into the JSON model schema that
// xgboost_model.cc converts, so that one converter checks every format.
//
// Layout (XGBoost's src/learner.cc LearnerImpl::SaveModel(dmlc::Stream*),
// src/gbm/gbtree_model.cc, src/tree/tree_model.cc RegTree::Save, 1.0 to
// 1.7; all little-endian):
//   "binf" (optional)
//   LearnerModelParamLegacy, 136 bytes: f32 base_score, u32 num_feature,
//     i32 num_class, i32 contain_extra_attrs, i32 contain_eval_metrics,
//     u32 major_version, u32 minor_version, (1.7: u32 num_target), reserved
//   string objective, string booster (u64 length, bytes)
//   GBTreeModelParam, 160 bytes: i32 num_trees, i32 num_parallel_tree
//     (deprecated_num_roots, always 1, before 1.6), i32, i32, i64, i32,
//     i32 size_leaf_vector, reserved
//   num_trees x { TreeParam, 148 bytes: i32 deprecated_num_roots,
//     i32 num_nodes, i32 num_deleted, i32 max_depth, i32 num_feature,
//     i32 size_leaf_vector, reserved;
//     num_nodes x Node (20 bytes: i32 parent, i32 left, i32 right,
//     u32 sindex (feature | default_left << 31), f32 leaf value or split
//     condition); num_nodes x RTreeNodeStat (16 bytes, unused) }
//   num_trees x i32 tree_info
//   dart with trees: vector<f32> weight_drop (u64 count, values)
//   contain_extra_attrs: vector<pair<string, string>> attributes (u64 count)
//
// Untrusted input: every count is checked against the bytes left before
// anything is allocated; errors are InvalidData naming the byte offset.
// Thread safety: pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace fb {

// `config`: the JSON configuration saved next to the model (1.0 to 1.2
// pickles), or nullptr: gives num_parallel_tree where the binary lacks it.
Result<nlohmann::json> XgboostLegacyBinaryToJson(std::string_view bytes, const nlohmann::json* config);

// True when `bytes` starts like a legacy binary model ("binf").
bool LooksLikeXgboostLegacyBinary(std::string_view bytes);

}  // namespace fb
