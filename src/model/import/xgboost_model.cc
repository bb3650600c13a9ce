// XGBoost JSON / UBJSON models (schema of XGBoost 1.0 to 3.x) into a Forest.
//
// Facts this file relies on (checked against python3-xgboost 1.7.4; later
// schema changes from XGBoost's documented JSON schema):
//   - learner.learner_model_param: base_score is a string, "5E-1" up to 3.0
//     and a vector string "[5E-1]" (one value per output) from 3.1; it is on
//     the output scale, converted to the margin by the objective's inverse
//     link, in float32 as XGBoost does.
//   - gradient_booster: {name: gbtree, model} or {name: dart, gbtree: {model},
//     weight_drop}; model.trees[i] holds parallel arrays per node; a leaf is
//     left_children == -1 and its value is split_conditions[leaf].
//   - Numeric split: go left when x < split_condition (float32). Categorical
//     split (split_type 1): the listed categories go right.
//   - Trees are grouped in rounds of num_parallel_tree x output groups;
//     2.0 adds model.iteration_indptr, the first tree of each round.
#include "model/import/xgboost_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "model/forest_builder.h"
#include "model/import/ubjson_reader.h"
#include "model/import/xgboost_legacy.h"

namespace fb {
namespace {

using nlohmann::json;

// How one objective turns margins into outputs.
struct ObjectiveSpec {
  const char* name;
  ModelKind kind;
  Link link;
  enum Inverse { kNone, kLogit, kLog } inverse;  // base_score -> margin
};

constexpr ObjectiveSpec kObjectives[] = {
    {"binary:logistic", ModelKind::kClassifier, Link::kSigmoid, ObjectiveSpec::kLogit},
    // logitraw outputs the raw margin, and (measured with 1.7.4) takes
    // base_score as a margin too.
    {"binary:logitraw", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"binary:hinge", ModelKind::kClassifier, Link::kStep, ObjectiveSpec::kNone},
    {"multi:softprob", ModelKind::kClassifier, Link::kSoftmax, ObjectiveSpec::kNone},
    {"multi:softmax", ModelKind::kClassifier, Link::kSoftmax, ObjectiveSpec::kNone},
    {"reg:squarederror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:linear", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:squaredlogerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:pseudohubererror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:absoluteerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:quantileerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:logistic", ModelKind::kRegressor, Link::kSigmoid, ObjectiveSpec::kLogit},
    {"count:poisson", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"reg:gamma", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"reg:tweedie", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"rank:pairwise", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"rank:ndcg", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"rank:map", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
};

// The largest node count a tree may declare (XGBoost uses int32 node ids).
constexpr int64_t kMaxNodes = std::numeric_limits<int32_t>::max();

class Converter {
 public:
  explicit Converter(std::string format) : format_(std::move(format)) {}

  Result<Forest> Convert(const json& doc) {
    try {
      return ConvertOrThrow(doc);
    } catch (const json::exception& e) {
      // Wrong JSON types (a string where a number belongs) surface here.
      return InvalidData(fmt::format("XGBoost model: unexpected JSON structure: {}", e.what()));
    }
  }

 private:
  static Status Bad(const std::string& m) { return InvalidData("XGBoost model: " + m); }

  static const json* Find(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  static Result<const json*> Need(const json& obj, const char* key, const std::string& where) {
    const json* v = Find(obj, key);
    if (v == nullptr) return Bad(fmt::format("{} has no \"{}\"", where, key));
    return v;
  }

  // A number stored as a JSON number, a string ("5E-1", "NaN") or, in JSON
  // text, NaN/Infinity (see QuoteNonFiniteTokens).
  static Result<double> Number(const json& v, const std::string& what) {
    if (v.is_number()) return v.get<double>();
    if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec == std::errc() && p == s.data() + s.size()) return d;
    }
    return Bad(fmt::format("{} is not a number", what));
  }

  static Result<int64_t> Integer(const json& v, const std::string& what) {
    FB_ASSIGN_OR_RETURN(double d, Number(v, what));
    if (!(d >= -9.0e15 && d <= 9.0e15) || d != std::floor(d))
      return Bad(fmt::format("{} is not an integer", what));
    return static_cast<int64_t>(d);
  }

  // An array field of exactly n elements (n < 0: any length).
  static Result<const json*> Array(const json& obj, const char* key, int64_t n, const std::string& where) {
    FB_ASSIGN_OR_RETURN(const json* a, Need(obj, key, where));
    if (!a->is_array()) return Bad(fmt::format("{}.{} is not an array", where, key));
    if (n >= 0 && static_cast<int64_t>(a->size()) != n)
      return Bad(fmt::format("{}.{} has {} elements, expected {}", where, key, a->size(), n));
    return a;
  }

  Result<Forest> ConvertOrThrow(const json& doc) {
    Forest f;
    f.info.source_format = format_;
    if (const json* v = Find(doc, "version"); v && v->is_array()) {
      std::string s;
      for (const json& p : *v)
        s += (s.empty() ? "" : ".") +
             (p.is_number_integer() ? std::to_string(p.get<int64_t>()) : std::string("?"));
      f.info.library_version = s;
    }
    FB_ASSIGN_OR_RETURN(const json* learner, Need(doc, "learner", "model"));
    FB_ASSIGN_OR_RETURN(const json* lmp, Need(*learner, "learner_model_param", "learner"));
    FB_ASSIGN_OR_RETURN(const json* objective, Need(*learner, "objective", "learner"));
    FB_ASSIGN_OR_RETURN(const json* obj_name, Need(*objective, "name", "learner.objective"));
    if (!obj_name->is_string()) return Bad("objective name is not a string");
    f.info.objective = obj_name->get<std::string>();
    const ObjectiveSpec* spec = nullptr;
    for (const ObjectiveSpec& s : kObjectives)
      if (f.info.objective == s.name) spec = &s;
    if (spec == nullptr)
      return Unsupported(
          fmt::format("XGBoost objective \"{}\" is not supported (supported: binary:*, multi:*, "
                      "reg:*, count:poisson, rank:*)",
                      f.info.objective));

    // Shape: features, classes, targets.
    FB_ASSIGN_OR_RETURN(const json* nf, Need(*lmp, "num_feature", "learner_model_param"));
    FB_ASSIGN_OR_RETURN(int64_t n_features, Integer(*nf, "num_feature"));
    if (n_features <= 0 || n_features > kMaxNodes)
      return Bad(fmt::format("num_feature {} out of range", n_features));
    f.n_features = static_cast<int32_t>(n_features);
    int64_t num_class = 0, num_target = 1;
    if (const json* v = Find(*lmp, "num_class")) {
      FB_ASSIGN_OR_RETURN(num_class, Integer(*v, "num_class"));
    }
    if (const json* v = Find(*lmp, "num_target")) {
      FB_ASSIGN_OR_RETURN(num_target, Integer(*v, "num_target"));
    }
    if (num_class < 0 || num_class > 1000000 || num_target < 1 || num_target > 1000000)
      return Bad("num_class / num_target out of range");
    if (num_target > 1 && num_class > 1) return Bad("both num_class and num_target are above 1");
    const bool multiclass = spec->link == Link::kSoftmax;
    if (multiclass != (num_class > 1))
      return Bad(fmt::format("objective {} with num_class {}", f.info.objective, num_class));
    f.n_outputs = static_cast<int32_t>(std::max<int64_t>(num_class, num_target));
    f.kind = spec->kind;
    f.link = spec->link;
    f.aggregate = Aggregate::kSum;
    // XGBoost's CPU predictor adds float32 leaves to float32 sums in tree
    // order and applies its link in float32 (docs/xgboost.md).
    f.float32_sums = true;
    if (f.kind == ModelKind::kClassifier) {
      if (f.n_outputs > 1 && !multiclass) return Unsupported("multi-target classifiers are not supported");
      int32_t k = multiclass ? f.n_outputs : 2;
      for (int32_t c = 0; c < k; ++c) f.class_labels.push_back(std::to_string(c));
      f.labels_are_integers = true;
    }

    FB_RETURN_IF_ERROR(ReadBaseScore(*lmp, *spec, &f));
    FB_RETURN_IF_ERROR(ReadFeatures(*learner, &f));
    FB_RETURN_IF_ERROR(ReadBooster(*learner, &f));
    ReadAttributes(*learner, &f);
    return BuildForest(std::move(f));
  }

  Status ReadBaseScore(const json& lmp, const ObjectiveSpec& spec, Forest* f) {
    std::vector<float> scores;
    if (const json* bs = Find(lmp, "base_score")) {
      if (bs->is_string() && !bs->get_ref<const std::string&>().empty() &&
          bs->get_ref<const std::string&>().front() == '[') {
        // 3.1+: "[v1,v2,...]"
        std::string s = bs->get<std::string>();
        if (s.back() != ']') return Bad("base_score vector is not closed");
        std::string_view body(s.data() + 1, s.size() - 2);
        while (!body.empty()) {
          size_t comma = body.find(',');
          std::string_view item = body.substr(0, comma);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          FB_ASSIGN_OR_RETURN(double d, Number(json(std::string(item)), "base_score element"));
          scores.push_back(static_cast<float>(d));
          if (comma == std::string_view::npos) break;
          body.remove_prefix(comma + 1);
        }
      } else if (bs->is_array()) {
        for (const json& e : *bs) {
          FB_ASSIGN_OR_RETURN(double d, Number(e, "base_score element"));
          scores.push_back(static_cast<float>(d));
        }
      } else {
        FB_ASSIGN_OR_RETURN(double d, Number(*bs, "base_score"));
        scores.push_back(static_cast<float>(d));
      }
    } else {
      scores.push_back(0.5f);  // XGBoost's default before 2.0
    }
    if (scores.size() == 1) scores.assign(f->n_outputs, scores[0]);
    if (scores.size() != static_cast<size_t>(f->n_outputs))
      return Bad(fmt::format("base_score has {} values for {} outputs", scores.size(), f->n_outputs));
    f->base_margin.clear();
    for (float s : scores) {
      float m = s;  // float32 arithmetic, as XGBoost's ProbToMargin
      if (spec.inverse == ObjectiveSpec::kLogit) {
        if (!(s > 0.0f && s < 1.0f))
          return Bad(fmt::format("base_score {} outside (0, 1) for {}", s, spec.name));
        m = -std::log(1.0f / s - 1.0f);
      } else if (spec.inverse == ObjectiveSpec::kLog) {
        if (!(s > 0.0f)) return Bad(fmt::format("base_score {} not positive for {}", s, spec.name));
        m = std::log(s);
      }
      if (!std::isfinite(m)) return Bad("base_score is not finite");
      f->base_margin.push_back(static_cast<double>(m));
    }
    return Status::Ok();
  }

  Status ReadFeatures(const json& learner, Forest* f) {
    if (const json* names = Find(learner, "feature_names"); names && names->is_array() && !names->empty()) {
      if (names->size() != static_cast<size_t>(f->n_features))
        return Bad(fmt::format("{} feature names for {} features", names->size(), f->n_features));
      for (const json& n : *names) {
        if (!n.is_string()) return Bad("a feature name is not a string");
        f->feature_names.push_back(n.get<std::string>());
      }
    }
    return Status::Ok();
  }

  void ReadAttributes(const json& learner, Forest* f) {
    const json* attrs = Find(learner, "attributes");
    if (attrs == nullptr) return;
    if (const json* best = Find(*attrs, "best_iteration")) {
      auto r = Integer(*best, "best_iteration");
      // Only a best round inside the model means anything.
      if (r.ok() && *r >= 0 && f->trees_per_iteration > 0 &&
          static_cast<size_t>(*r) < f->trees.size() / f->trees_per_iteration) {
        f->best_iteration = static_cast<int32_t>(*r);
      }
    }
    // Saved by XGBoost's scikit-learn wrapper, whose predict() honours
    // best_iteration; Booster.predict uses every tree.
    if (const json* sk = Find(*attrs, "scikit_learn")) {
      f->info.wrappers = "scikit-learn wrapper";
      if (sk->is_string()) {
        json meta = json::parse(sk->get<std::string>(), nullptr, false);
        if (const json* t = Find(meta, "_estimator_type"); t && t->is_string())
          f->info.wrappers = fmt::format("scikit-learn wrapper ({})", t->get<std::string>());
      }
      f->predict_uses_best_iteration = f->best_iteration >= 0;
    }
  }

  Status ReadBooster(const json& learner, Forest* f) {
    FB_ASSIGN_OR_RETURN(const json* gb, Need(learner, "gradient_booster", "learner"));
    FB_ASSIGN_OR_RETURN(const json* gb_name, Need(*gb, "name", "gradient_booster"));
    const std::string name = gb_name->is_string() ? gb_name->get<std::string>() : "";
    const json* model = nullptr;
    std::vector<double> weight_drop;
    if (name == "gbtree") {
      FB_ASSIGN_OR_RETURN(model, Need(*gb, "model", "gradient_booster"));
    } else if (name == "dart") {
      FB_ASSIGN_OR_RETURN(const json* inner, Need(*gb, "gbtree", "gradient_booster"));
      FB_ASSIGN_OR_RETURN(model, Need(*inner, "model", "gradient_booster.gbtree"));
      FB_ASSIGN_OR_RETURN(const json* wd, Array(*gb, "weight_drop", -1, "gradient_booster"));
      for (const json& w : *wd) {
        FB_ASSIGN_OR_RETURN(double d, Number(w, "weight_drop"));
        weight_drop.push_back(d);
      }
    } else {
      return Unsupported(fmt::format("XGBoost booster \"{}\" is not supported (only gbtree and dart)", name));
    }
    f->info.estimator = "XGBoost " + name;

    FB_ASSIGN_OR_RETURN(const json* gmp, Need(*model, "gbtree_model_param", "model"));
    FB_ASSIGN_OR_RETURN(const json* nt, Need(*gmp, "num_trees", "gbtree_model_param"));
    FB_ASSIGN_OR_RETURN(int64_t num_trees, Integer(*nt, "num_trees"));
    int64_t num_parallel_tree = 1;
    if (const json* v = Find(*gmp, "num_parallel_tree")) {
      FB_ASSIGN_OR_RETURN(num_parallel_tree, Integer(*v, "num_parallel_tree"));
    }
    if (const json* v = Find(*gmp, "size_leaf_vector")) {
      FB_ASSIGN_OR_RETURN(int64_t slv, Integer(*v, "size_leaf_vector"));
      if (slv > 1) return UnsupportedVectorLeaf();
    }
    FB_ASSIGN_OR_RETURN(const json* trees, Array(*model, "trees", num_trees, "model"));
    FB_ASSIGN_OR_RETURN(const json* tree_info, Array(*model, "tree_info", num_trees, "model"));
    if (num_trees == 0) return Bad("model has no trees");
    if (!weight_drop.empty() && static_cast<int64_t>(weight_drop.size()) != num_trees)
      return Bad(fmt::format("dart weight_drop has {} weights for {} trees", weight_drop.size(), num_trees));

    // Rounds: iteration_indptr (2.0+) when present, else uniform rounds of
    // num_parallel_tree x output groups. Uneven rounds (vector-leaf models)
    // leave the forest without iteration ranges.
    if (num_parallel_tree < 1 || num_parallel_tree > num_trees) return Bad("num_parallel_tree out of range");
    int64_t per_round = num_parallel_tree * f->n_outputs;
    if (const json* ip = Find(*model, "iteration_indptr"); ip && ip->is_array() && ip->size() >= 2) {
      per_round = -1;
      int64_t prev = -1;
      for (size_t i = 0; i < ip->size(); ++i) {
        FB_ASSIGN_OR_RETURN(int64_t v, Integer((*ip)[i], "iteration_indptr"));
        if ((i == 0 && v != 0) || (i > 0 && v <= prev) || v > num_trees)
          return Bad("iteration_indptr is malformed");
        if (i > 0) per_round = (per_round < 0 || per_round == v - prev) ? v - prev : 0;
        prev = v;
      }
      if (prev != num_trees) return Bad("iteration_indptr does not end at num_trees");
    }
    f->trees_per_iteration =
        (per_round > 0 && num_trees % per_round == 0) ? static_cast<int32_t>(per_round) : 0;

    f->trees.reserve(static_cast<size_t>(num_trees));
    for (int64_t t = 0; t < num_trees; ++t) {
      FB_ASSIGN_OR_RETURN(int64_t group, Integer((*tree_info)[t], "tree_info"));
      if (group < 0 || group >= f->n_outputs)
        return Bad(fmt::format("tree {} belongs to output {} of {}", t, group, f->n_outputs));
      Tree tree;
      tree.output = static_cast<int32_t>(group);
      FB_RETURN_IF_ERROR(ReadTree((*trees)[t], t, f, &tree));
      if (!weight_drop.empty()) {
        // DART scales each tree's output by its weight at prediction time.
        for (double& v : tree.values)
          v = static_cast<double>(static_cast<float>(v) * static_cast<float>(weight_drop[t]));
      }
      f->trees.push_back(std::move(tree));
    }
    return Status::Ok();
  }

  static Status UnsupportedVectorLeaf() {
    return Unsupported(
        "XGBoost multi-output trees with vector leaves (multi_strategy=\"multi_output_tree\") are not "
        "supported; train with multi_strategy=\"one_output_per_tree\" (the default)");
  }

  // Reads one tree, keeping only nodes reachable from the root (pruned
  // nodes stay in XGBoost's arrays) and renumbering them in depth-first order.
  Status ReadTree(const json& jt, int64_t t, Forest* f, Tree* out) {
    const std::string where = fmt::format("tree {}", t);
    FB_ASSIGN_OR_RETURN(const json* tp, Need(jt, "tree_param", where));
    FB_ASSIGN_OR_RETURN(const json* nn, Need(*tp, "num_nodes", where + ".tree_param"));
    FB_ASSIGN_OR_RETURN(int64_t n, Integer(*nn, "num_nodes"));
    if (n < 1 || n > kMaxNodes) return Bad(fmt::format("{}: num_nodes {} out of range", where, n));
    if (const json* v = Find(*tp, "size_leaf_vector")) {
      FB_ASSIGN_OR_RETURN(int64_t slv, Integer(*v, "size_leaf_vector"));
      if (slv > 1) return UnsupportedVectorLeaf();
    }
    FB_ASSIGN_OR_RETURN(const json* left, Array(jt, "left_children", n, where));
    FB_ASSIGN_OR_RETURN(const json* right, Array(jt, "right_children", n, where));
    FB_ASSIGN_OR_RETURN(const json* feat, Array(jt, "split_indices", n, where));
    FB_ASSIGN_OR_RETURN(const json* cond, Array(jt, "split_conditions", n, where));
    FB_ASSIGN_OR_RETURN(const json* dleft, Array(jt, "default_left", n, where));
    const json* stype = Find(jt, "split_type");  // 1.5+
    if (stype != nullptr && (!stype->is_array() || static_cast<int64_t>(stype->size()) != n))
      return Bad(where + ".split_type has the wrong length");

    // Categorical splits: node -> its list.
    std::vector<std::pair<int64_t, std::vector<int32_t>>> cats;  // sorted by node
    if (const json* cn = Find(jt, "categories_nodes"); cn && cn->is_array() && !cn->empty()) {
      FB_ASSIGN_OR_RETURN(const json* all, Array(jt, "categories", -1, where));
      FB_ASSIGN_OR_RETURN(const json* seg, Array(jt, "categories_segments", cn->size(), where));
      FB_ASSIGN_OR_RETURN(const json* sz, Array(jt, "categories_sizes", cn->size(), where));
      for (size_t j = 0; j < cn->size(); ++j) {
        FB_ASSIGN_OR_RETURN(int64_t node, Integer((*cn)[j], "categories_nodes"));
        FB_ASSIGN_OR_RETURN(int64_t b, Integer((*seg)[j], "categories_segments"));
        FB_ASSIGN_OR_RETURN(int64_t s, Integer((*sz)[j], "categories_sizes"));
        if (node < 0 || node >= n || b < 0 || s < 0 || b + s > static_cast<int64_t>(all->size()))
          return Bad(fmt::format("{}: category list {} out of range", where, j));
        std::vector<int32_t> list;
        for (int64_t k = b; k < b + s; ++k) {
          FB_ASSIGN_OR_RETURN(int64_t c, Integer((*all)[k], "category"));
          if (c < 0 || c >= kMaxCategory) return Bad(fmt::format("{}: category {} out of range", where, c));
          list.push_back(static_cast<int32_t>(c));
        }
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
        cats.emplace_back(node, std::move(list));
      }
      std::sort(cats.begin(), cats.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }

    std::vector<int32_t> new_id(static_cast<size_t>(n), -1);
    std::vector<int64_t> order;  // old ids in new order
    std::vector<int64_t> stack{0};
    while (!stack.empty()) {
      int64_t i = stack.back();
      stack.pop_back();
      if (new_id[i] >= 0) return Bad(fmt::format("{} node {} is reached twice", where, i));
      new_id[i] = static_cast<int32_t>(order.size());
      order.push_back(i);
      FB_ASSIGN_OR_RETURN(int64_t l, Integer((*left)[i], "left_children"));
      if (l == -1) continue;
      FB_ASSIGN_OR_RETURN(int64_t r, Integer((*right)[i], "right_children"));
      if (l < 0 || l >= n || r < 0 || r >= n)
        return Bad(fmt::format("{} node {}: child out of range (left {}, right {})", where, i, l, r));
      stack.push_back(r);
      stack.push_back(l);
    }

    out->nodes.resize(order.size());
    out->values.assign(order.size(), 0.0);
    for (size_t k = 0; k < order.size(); ++k) {
      const int64_t i = order[k];
      Node& nd = out->nodes[k];
      FB_ASSIGN_OR_RETURN(double c, Number((*cond)[i], "split_conditions"));
      FB_ASSIGN_OR_RETURN(int64_t l, Integer((*left)[i], "left_children"));
      if (l == -1) {
        if (std::isnan(c)) return Bad(fmt::format("{} node {}: leaf value is NaN", where, i));
        out->values[k] = static_cast<double>(static_cast<float>(c));
        continue;
      }
      FB_ASSIGN_OR_RETURN(int64_t r, Integer((*right)[i], "right_children"));
      FB_ASSIGN_OR_RETURN(int64_t feature, Integer((*feat)[i], "split_indices"));
      if (feature < 0 || feature >= f->n_features)
        return Bad(
            fmt::format("{} node {}: feature {} out of range [0, {})", where, i, feature, f->n_features));
      FB_ASSIGN_OR_RETURN(double dl, Number((*dleft)[i], "default_left"));
      int64_t type = 0;
      if (stype != nullptr) {
        FB_ASSIGN_OR_RETURN(type, Integer((*stype)[i], "split_type"));
      }
      nd.left = new_id[l];
      nd.right = new_id[r];
      nd.feature = static_cast<int32_t>(feature);
      nd.default_left = dl != 0.0;
      if (type == 1) {
        auto it = std::lower_bound(cats.begin(), cats.end(), i,
                                   [](const auto& a, int64_t v) { return a.first < v; });
        nd.categorical = true;
        nd.cat_begin = static_cast<uint32_t>(f->categories.size());
        if (it != cats.end() && it->first == i) {
          if (f->categories.size() + it->second.size() > std::numeric_limits<uint32_t>::max())
            return Bad("too many categories");
          nd.cat_count = static_cast<uint32_t>(it->second.size());
          f->categories.insert(f->categories.end(), it->second.begin(), it->second.end());
        }
      } else if (type == 0) {
        // x < c  <=>  x <= nextafter(c, -inf) for every float32 x.
        const float cf = static_cast<float>(c);
        if (std::isnan(cf)) return Bad(fmt::format("{} node {}: split condition is NaN", where, i));
        nd.threshold = std::nextafter(cf, -std::numeric_limits<float>::infinity());
      } else {
        return Bad(fmt::format("{} node {}: unknown split_type {}", where, i, type));
      }
    }
    return Status::Ok();
  }

  std::string format_;
};

// XGBoost writes NaN and +-Infinity as bare tokens, which strict JSON (and
// nlohmann's parser) rejects: quote them outside strings so they parse as
// strings that Converter::Number understands. Also bounds the nesting depth.
Result<std::string> QuoteNonFiniteTokens(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 64);
  bool in_string = false;
  int depth = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < in.size()) {
        out += in[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kUbjsonMaxDepth) return InvalidData("XGBoost model: JSON nesting too deep");
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (in.compare(i, 3, "NaN") == 0) {
      out += "\"NaN\"";
      i += 2;
      continue;
    } else if (in.compare(i, 8, "Infinity") == 0) {
      out += "\"Infinity\"";
      i += 7;
      continue;
    } else if (in.compare(i, 9, "-Infinity") == 0) {
      out += "\"-Infinity\"";
      i += 8;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<Forest> LoadXgboostJson(std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(std::string text, QuoteNonFiniteTokens(bytes));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidData("XGBoost model: not valid JSON");
  return Converter("xgboost-json").Convert(doc);
}

Result<Forest> LoadXgboostUbjson(std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(json doc, ParseUbjson(bytes));
  return Converter("xgboost-ubjson").Convert(doc);
}

Result<Forest> LoadXgboostLegacyBinary(std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(json doc, XgboostLegacyBinaryToJson(bytes, nullptr));
  return Converter("xgboost-binary").Convert(doc);
}

Result<Forest> LoadXgboostBoosterBuffer(std::string_view raw) {
  constexpr std::string_view kConfigHeader = "CONFIG-offset:";
  if (raw.substr(0, kConfigHeader.size()) == kConfigHeader) {
    // 1.0 to 1.2: header, int64 length of the legacy binary model, the
    // model, then the JSON configuration.
    const size_t start = kConfigHeader.size() + 8;
    if (raw.size() < start) return InvalidData("XGBoost booster buffer: truncated CONFIG-offset header");
    int64_t length;
    std::memcpy(&length, raw.data() + kConfigHeader.size(), 8);
    if (length < 0 || static_cast<uint64_t>(length) > raw.size() - start)
      return InvalidData(
          fmt::format("XGBoost booster buffer: model length {} exceeds the {} bytes that follow", length,
                      raw.size() - start));
    FB_ASSIGN_OR_RETURN(std::string text,
                        QuoteNonFiniteTokens(raw.substr(start + static_cast<size_t>(length))));
    json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded())
      return InvalidData("XGBoost booster buffer: the configuration is not valid JSON");
    FB_ASSIGN_OR_RETURN(json doc,
                        XgboostLegacyBinaryToJson(raw.substr(start, static_cast<size_t>(length)), &config));
    return Converter("xgboost-binary").Convert(doc);
  }
  if (raw.size() >= 2 && raw[0] == '{') {
    // 1.3 to 1.5: JSON memory snapshot {"Model": ..., "Config": ...}; 1.6
    // on: the same in UBJSON (Learner::Save).
    const bool text = raw[1] == '"' || raw[1] == ' ' || raw[1] == '\n';
    json snapshot;
    if (text) {
      FB_ASSIGN_OR_RETURN(std::string quoted, QuoteNonFiniteTokens(raw));
      snapshot = json::parse(quoted, nullptr, /*allow_exceptions=*/false);
      if (snapshot.is_discarded()) return InvalidData("XGBoost booster buffer: not valid JSON");
    } else {
      FB_ASSIGN_OR_RETURN(snapshot, ParseUbjson(raw));
    }
    const char* format = text ? "xgboost-json" : "xgboost-ubjson";
    if (snapshot.is_object() && snapshot.contains("Model"))
      return Converter(format).Convert(snapshot["Model"]);
    return Converter(format).Convert(snapshot);
  }
  if (LooksLikeXgboostLegacyBinary(raw)) return LoadXgboostLegacyBinary(raw);
  return InvalidData(
      "XGBoost booster buffer: neither a memory snapshot (JSON or UBJSON), a CONFIG-offset buffer nor a "
      "legacy binary model");
}

}  // namespace fb
