#include "model/import/xgboost_legacy.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace fb {
namespace {

using nlohmann::json;

constexpr size_t kLearnerParamSize = 136;
constexpr size_t kGbtreeParamSize = 160;
constexpr size_t kTreeParamSize = 148;
constexpr size_t kNodeSize = 20;
constexpr size_t kNodeStatSize = 16;
// Strings in the file (objective, booster, attributes) longer than this are
// refused: no real model has them.
constexpr uint64_t kMaxString = uint64_t{1} << 24;

class Cursor {
 public:
  explicit Cursor(std::string_view b) : b_(b) {}

  size_t pos() const { return pos_; }
  size_t left() const { return b_.size() - pos_; }

  Status Bad(const std::string& what) const {
    return InvalidData(fmt::format("XGBoost legacy binary model: {} (at byte {})", what, pos_));
  }

  Status Take(size_t n, std::string_view* out, const char* what) {
    if (n > left()) return Bad(fmt::format("{} needs {} bytes, {} left (truncated?)", what, n, left()));
    *out = b_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }

  template <typename T>
  Status Get(T* v, const char* what) {
    std::string_view s;
    FB_RETURN_IF_ERROR(Take(sizeof(T), &s, what));
    std::memcpy(v, s.data(), sizeof(T));
    return Status::Ok();
  }

  // dmlc::Stream's string: u64 length, then the bytes.
  Status String(std::string* out, const char* what) {
    uint64_t n;
    FB_RETURN_IF_ERROR(Get(&n, what));
    if (n > kMaxString) return Bad(fmt::format("{} of {} bytes is too long", what, n));
    std::string_view s;
    FB_RETURN_IF_ERROR(Take(static_cast<size_t>(n), &s, what));
    out->assign(s);
    return Status::Ok();
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

template <typename T>
T At(std::string_view rec, size_t off) {
  T v;
  std::memcpy(&v, rec.data() + off, sizeof(T));
  return v;
}

// A float32 as the JSON model writes it: a number, or "NaN"/"Infinity".
json FloatJson(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return static_cast<double>(v);
}

}  // namespace

bool LooksLikeXgboostLegacyBinary(std::string_view bytes) { return bytes.substr(0, 4) == "binf"; }

Result<json> XgboostLegacyBinaryToJson(std::string_view bytes, const json* config) {
  Cursor c(bytes);
  if (LooksLikeXgboostLegacyBinary(bytes)) {
    std::string_view magic;
    FB_RETURN_IF_ERROR(c.Take(4, &magic, "header"));
  }
  std::string_view lp;
  FB_RETURN_IF_ERROR(c.Take(kLearnerParamSize, &lp, "learner parameters"));
  const float base_score = At<float>(lp, 0);
  const uint32_t num_feature = At<uint32_t>(lp, 4);
  const int32_t num_class = At<int32_t>(lp, 8);
  const int32_t extra_attrs = At<int32_t>(lp, 12);
  const uint32_t major = At<uint32_t>(lp, 20), minor = At<uint32_t>(lp, 24);
  std::string objective, booster;
  FB_RETURN_IF_ERROR(c.String(&objective, "objective name"));
  FB_RETURN_IF_ERROR(c.String(&booster, "booster name"));
  if (booster == "gblinear")
    return Unsupported("XGBoost booster \"gblinear\" is not supported (only gbtree and dart)");
  if (booster != "gbtree" && booster != "dart")
    return c.Bad(fmt::format("unknown booster name \"{}\"", booster.substr(0, 64)));
  std::string_view gp;
  FB_RETURN_IF_ERROR(c.Take(kGbtreeParamSize, &gp, "gbtree parameters"));
  const int32_t num_trees = At<int32_t>(gp, 0);
  int32_t num_parallel_tree = At<int32_t>(gp, 4);
  const int32_t size_leaf_vector = At<int32_t>(gp, 28);
  if (num_trees < 0) return c.Bad(fmt::format("num_trees {} is negative", num_trees));
  // Each tree takes at least its parameters and one node: a count the bytes
  // left cannot hold is refused before anything is allocated.
  if (static_cast<uint64_t>(num_trees) > c.left() / (kTreeParamSize + kNodeSize + kNodeStatSize))
    return c.Bad(fmt::format("{} trees cannot fit in the {} bytes left", num_trees, c.left()));
  // Before 1.6 the field was deprecated_num_roots (1): the configuration saved
  // with a pickle knows the real count.
  if (config != nullptr) {
    const json* p = config;
    for (const char* key : {"learner", "gradient_booster", "gbtree_train_param", "num_parallel_tree"}) {
      if (p == nullptr || !p->is_object() || !p->contains(key)) {
        p = nullptr;
        break;
      }
      p = &(*p)[key];
    }
    if (p == nullptr && config->is_object()) {
      // dart nests its gbtree configuration.
      p = config;
      for (const char* key :
           {"learner", "gradient_booster", "gbtree", "gbtree_train_param", "num_parallel_tree"}) {
        if (p == nullptr || !p->is_object() || !p->contains(key)) {
          p = nullptr;
          break;
        }
        p = &(*p)[key];
      }
    }
    if (p != nullptr && p->is_string()) {
      const std::string& s = p->get_ref<const std::string&>();
      int64_t v = 0;
      bool ok = !s.empty() && s.size() < 10;
      for (char ch : s) ok = ok && ch >= '0' && ch <= '9', v = v * 10 + (ch - '0');
      if (ok) num_parallel_tree = static_cast<int32_t>(v);
    }
  }

  json trees = json::array();
  for (int32_t t = 0; t < num_trees; ++t) {
    std::string_view tp;
    FB_RETURN_IF_ERROR(c.Take(kTreeParamSize, &tp, "tree parameters"));
    const int32_t num_nodes = At<int32_t>(tp, 4);
    const int32_t tree_leaf_vector = At<int32_t>(tp, 20);
    if (num_nodes < 1) return c.Bad(fmt::format("tree {} has {} nodes", t, num_nodes));
    const uint64_t need = static_cast<uint64_t>(num_nodes) * (kNodeSize + kNodeStatSize);
    if (need > c.left())
      return c.Bad(
          fmt::format("tree {} has {} nodes, which need {} bytes; {} left", t, num_nodes, need, c.left()));
    std::string_view nodes, stats;
    FB_RETURN_IF_ERROR(c.Take(static_cast<size_t>(num_nodes) * kNodeSize, &nodes, "tree nodes"));
    FB_RETURN_IF_ERROR(
        c.Take(static_cast<size_t>(num_nodes) * kNodeStatSize, &stats, "tree node statistics"));
    json left = json::array(), right = json::array(), index = json::array(), cond = json::array(),
         dleft = json::array();
    for (int32_t i = 0; i < num_nodes; ++i) {
      std::string_view nd = nodes.substr(static_cast<size_t>(i) * kNodeSize, kNodeSize);
      const int32_t l = At<int32_t>(nd, 4), r = At<int32_t>(nd, 8);
      const uint32_t sindex = At<uint32_t>(nd, 12);
      const float info = At<float>(nd, 16);
      left.push_back(l);
      right.push_back(r);
      index.push_back(sindex & 0x7FFFFFFFu);
      cond.push_back(FloatJson(info));
      dleft.push_back(static_cast<int>(sindex >> 31));
    }
    json tree;
    tree["tree_param"] = {{"num_nodes", std::to_string(num_nodes)},
                          {"size_leaf_vector", std::to_string(tree_leaf_vector)}};
    tree["left_children"] = std::move(left);
    tree["right_children"] = std::move(right);
    tree["split_indices"] = std::move(index);
    tree["split_conditions"] = std::move(cond);
    tree["default_left"] = std::move(dleft);
    tree["id"] = t;
    trees.push_back(std::move(tree));
  }
  std::string_view info;
  FB_RETURN_IF_ERROR(c.Take(static_cast<size_t>(num_trees) * 4, &info, "tree_info"));
  json tree_info = json::array();
  for (int32_t t = 0; t < num_trees; ++t) tree_info.push_back(At<int32_t>(info, static_cast<size_t>(t) * 4));

  json model;
  model["gbtree_model_param"] = {{"num_trees", std::to_string(num_trees)},
                                 {"num_parallel_tree", std::to_string(num_parallel_tree)},
                                 {"size_leaf_vector", std::to_string(size_leaf_vector)}};
  model["trees"] = std::move(trees);
  model["tree_info"] = std::move(tree_info);
  json gb;
  if (booster == "dart") {
    json weights = json::array();
    if (num_trees > 0) {
      uint64_t n;
      FB_RETURN_IF_ERROR(c.Get(&n, "weight_drop count"));
      if (n != static_cast<uint64_t>(num_trees))
        return c.Bad(fmt::format("dart has {} weights for {} trees", n, num_trees));
      std::string_view w;
      FB_RETURN_IF_ERROR(c.Take(static_cast<size_t>(n) * 4, &w, "weight_drop"));
      for (uint64_t k = 0; k < n; ++k) weights.push_back(FloatJson(At<float>(w, static_cast<size_t>(k) * 4)));
    }
    gb = {{"name", "dart"},
          {"gbtree", {{"name", "gbtree"}, {"model", std::move(model)}}},
          {"weight_drop", std::move(weights)}};
  } else {
    gb = {{"name", booster}, {"model", std::move(model)}};
  }

  json attributes = json::object();
  if (extra_attrs != 0) {
    uint64_t n;
    FB_RETURN_IF_ERROR(c.Get(&n, "attribute count"));
    if (n > c.left() / 16) return c.Bad(fmt::format("{} attributes cannot fit in {} bytes", n, c.left()));
    for (uint64_t k = 0; k < n; ++k) {
      std::string key, value;
      FB_RETURN_IF_ERROR(c.String(&key, "attribute name"));
      FB_RETURN_IF_ERROR(c.String(&value, "attribute value"));
      attributes[key] = value;
    }
  }
  // Attributes carry the objective's configuration, not needed here; the
  // name was read above. Anything after them (nothing, in XGBoost's files) is
  // refused so that a wrong layout cannot pass unnoticed.
  if (c.left() != 0) return c.Bad(fmt::format("{} unexpected bytes after the model", c.left()));
  attributes.erase("objective");
  attributes.erase("metrics");

  char base[32];
  std::snprintf(base, sizeof base, "%.9g", static_cast<double>(base_score));
  json doc;
  doc["version"] = {major, minor, 0};
  doc["learner"]["learner_model_param"] = {{"base_score", base},
                                           {"num_feature", std::to_string(num_feature)},
                                           {"num_class", std::to_string(num_class)}};
  doc["learner"]["objective"] = {{"name", objective}};
  doc["learner"]["gradient_booster"] = std::move(gb);
  doc["learner"]["attributes"] = std::move(attributes);
  return doc;
}

}  // namespace fb
