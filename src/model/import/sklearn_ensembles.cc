#include "model/import/sklearn_ensembles.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/forest_builder.h"
#include "model/import/pickle_numpy.h"

namespace fb::sklearn {
namespace {

enum class GbLoss : uint8_t { kBinomial, kMultinomial, kExponential, kRegression };

// The initial raw scores scikit-learn computes from a fitted Dummy init
// estimator (ensemble/_gb_losses.py get_init_raw_predictions before 1.4,
// ensemble/_gb.py _init_raw_predictions from 1.4). Probabilities are
// clipped to [eps, 1 - eps], eps = float32's epsilon, then linked.
Result<std::vector<double>> InitRaw(const Reader& r, ValueId init, GbLoss loss, int32_t k_outputs,
                                    int32_t n_classes, int version, const std::string& owner) {
  const std::string cls = r.ClassName(init);
  if (loss == GbLoss::kRegression) {
    if (cls != "DummyRegressor")
      return Unsupported(fmt::format(
          "{}.init_ is {} ({}): only init='zero' or the DummyRegressor scikit-learn fits by default is "
          "supported",
          owner, cls, r.FullClassName(init)));
    FB_ASSIGN_OR_RETURN(ValueId c, r.Need(init, "constant_"));
    FB_ASSIGN_OR_RETURN(std::vector<double> constant, Doubles(r, c, "DummyRegressor.constant_"));
    if (constant.size() != 1) return Unsupported("a DummyRegressor init with several outputs");
    return std::vector<double>{constant[0]};
  }
  if (cls != "DummyClassifier")
    return Unsupported(fmt::format(
        "{}.init_ is {} ({}): only init='zero' or the DummyClassifier scikit-learn fits by default is "
        "supported",
        owner, cls, r.FullClassName(init)));
  std::string strategy = r.Str(r.Attr(init, "_strategy"));
  if (strategy.empty()) strategy = r.Str(r.Attr(init, "strategy"));
  if (strategy != "prior" && strategy != "most_frequent")
    return Unsupported(fmt::format(
        "{}.init_ is a DummyClassifier with strategy '{}': only 'prior' and 'most_frequent' are supported",
        owner, strategy));
  FB_ASSIGN_OR_RETURN(ValueId pv, r.Need(init, "class_prior_"));
  FB_ASSIGN_OR_RETURN(std::vector<double> prior, Doubles(r, pv, "DummyClassifier.class_prior_"));
  if (prior.size() != static_cast<size_t>(n_classes))
    return InvalidData("the init DummyClassifier's class_prior_ does not match the classes");
  std::vector<double> proba = prior;
  if (strategy == "most_frequent") {
    size_t best = static_cast<size_t>(std::max_element(prior.begin(), prior.end()) - prior.begin());
    std::fill(proba.begin(), proba.end(), 0.0);
    proba[best] = 1.0;
  }
  const double eps = std::numeric_limits<float>::epsilon();
  for (double& p : proba) p = std::clamp(p, eps, 1.0 - eps);
  if (loss == GbLoss::kMultinomial) {
    std::vector<double> out(static_cast<size_t>(k_outputs));
    for (int32_t k = 0; k < k_outputs; ++k) out[k] = std::log(proba[k]);
    if (version >= 1004) {
      // MultinomialLogit.link: log(p / gmean(p)), gmean = exp(mean(log p)).
      double mean = 0;
      for (double l : out) mean += l;
      const double gm = std::exp(mean / k_outputs);
      for (int32_t k = 0; k < k_outputs; ++k) out[k] = std::log(proba[k] / gm);
    }
    return out;
  }
  const double logit = std::log(proba[1] / (1.0 - proba[1]));
  return std::vector<double>{loss == GbLoss::kExponential ? 0.5 * logit : logit};
}

}  // namespace

bool IsGradientBoosting(const std::string& cls) {
  return cls == "GradientBoostingClassifier" || cls == "GradientBoostingRegressor";
}

Result<Forest> FromGradientBoosting(const Reader& r, ValueId est, uint64_t input_size) {
  const std::string cls = r.ClassName(est);
  Forest f;
  f.kind = cls == "GradientBoostingClassifier" ? ModelKind::kClassifier : ModelKind::kRegressor;
  f.info.estimator = cls;
  FB_RETURN_IF_ERROR(ReadFeatures(r, est, &f));
  const int version = VersionKey(f.info.library_version);
  const std::string loss_name = r.Str(r.Attr(est, "loss"));
  GbLoss loss = GbLoss::kRegression;
  int32_t n_classes = 0;
  if (f.kind == ModelKind::kClassifier) {
    FB_ASSIGN_OR_RETURN(ValueId classes, r.Need(est, "classes_"));
    FB_RETURN_IF_ERROR(Labels(r, classes, &f));
    n_classes = f.n_classes();
    if (n_classes < 2) return InvalidData(cls + " has fewer than two classes");
    if (loss_name == "log_loss" || loss_name == "deviance") {
      loss = n_classes == 2 ? GbLoss::kBinomial : GbLoss::kMultinomial;
    } else if (loss_name == "exponential") {
      if (n_classes != 2) return InvalidData("exponential loss with more than two classes");
      loss = GbLoss::kExponential;
    } else {
      return Unsupported(fmt::format(
          "{} with loss '{}' is not supported (log_loss, deviance, exponential are)", cls, loss_name));
    }
  } else if (loss_name != "squared_error" && loss_name != "ls" && loss_name != "absolute_error" &&
             loss_name != "lad" && loss_name != "huber" && loss_name != "quantile") {
    return Unsupported(
        fmt::format("{} with loss '{}' is not supported (squared_error, absolute_error, huber, quantile are)",
                    cls, loss_name));
  }
  const int32_t k_outputs = loss == GbLoss::kMultinomial ? n_classes : 1;
  FB_ASSIGN_OR_RETURN(ValueId lr_v, r.Need(est, "learning_rate"));
  FB_ASSIGN_OR_RETURN(double lr, r.Number(lr_v, cls + ".learning_rate"));
  if (!std::isfinite(lr)) return InvalidData(cls + ".learning_rate is not finite");

  // estimators_: an object array of DecisionTreeRegressors, (stages, K).
  FB_ASSIGN_OR_RETURN(ValueId ests, r.Need(est, "estimators_"));
  FB_ASSIGN_OR_RETURN(auto view, r.Array(ests, cls + ".estimators_"));
  if (view.dt->dtype_kind != 'O' || view.a->shape.size() != 2 || view.a->fortran ||
      view.a->shape[1] != k_outputs || view.count == 0 || view.a->items.size() != view.count)
    return InvalidData(fmt::format("{}.estimators_ is not a (stages, {}) array of trees", cls, k_outputs));
  std::vector<ValueId> tree_objs;
  for (ValueId e : view.a->items) {
    if (r.ClassName(e) != "DecisionTreeRegressor")
      return InvalidData(
          fmt::format("{}.estimators_ holds {}, not DecisionTreeRegressor", cls, r.ClassName(e)));
    FB_ASSIGN_OR_RETURN(ValueId t, r.Need(e, "tree_"));
    tree_objs.push_back(t);
  }
  if (uint64_t bytes = TreeArrayBytes(r, tree_objs); bytes > input_size)
    return InvalidData(fmt::format("{} trees hold {} bytes of arrays in a {}-byte file: trees are shared",
                                   tree_objs.size(), bytes, input_size));

  // init_: "zero" or a fitted Dummy estimator.
  ValueId init = r.Attr(est, "init_");
  if (init == kNoValue) return InvalidData(cls + " has no init_ (not fitted?)");
  std::vector<double> base(static_cast<size_t>(k_outputs), 0.0);
  std::string init_desc = "zero";
  if (!pickle::IsStr(r.g_, init, "zero")) {
    FB_ASSIGN_OR_RETURN(base, InitRaw(r, init, loss, k_outputs, n_classes, version, cls));
    init_desc = r.ClassName(init);
  }

  f.n_outputs = k_outputs;
  f.leaf_width = 1;
  f.aggregate = Aggregate::kSum;
  f.base_margin = base;
  f.trees_per_iteration = k_outputs;
  f.missing_values_supported = false;  // scikit-learn's GradientBoosting* reject NaN
  switch (loss) {
    case GbLoss::kBinomial: f.link = Link::kSigmoid; break;
    case GbLoss::kMultinomial: f.link = Link::kSoftmaxLse; break;
    case GbLoss::kExponential: f.link = Link::kSigmoid2x; break;
    case GbLoss::kRegression: f.link = Link::kIdentity; break;
  }
  f.info.objective = fmt::format("loss={}, learning_rate={}, init={}", loss_name, lr, init_desc);
  f.trees.resize(tree_objs.size());
  for (size_t t = 0; t < tree_objs.size(); ++t) {
    bool has_missing = false;
    Status st = ConvertTree(r, tree_objs[t], ModelKind::kRegressor, 1, &has_missing, &f.trees[t]);
    if (!st.ok()) return std::move(st).Prefix(fmt::format("stage {} tree {}", t / k_outputs, t % k_outputs));
    // predict_stages adds `scale * value`: the same product, stored.
    for (double& v : f.trees[t].values) v = lr * v;
    f.trees[t].output = static_cast<int32_t>(t % static_cast<size_t>(k_outputs));
  }
  return BuildForest(std::move(f));
}

namespace {

// IsolationForest's _average_path_length for one n.
double AveragePathLength(double n) {
  if (n <= 1.0) return 0.0;
  if (n == 2.0) return 1.0;
  constexpr double kEulerGamma = 0.5772156649015329;  // np.euler_gamma
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

}  // namespace

Result<Forest> FromIsolationForest(const Reader& r, ValueId est, uint64_t input_size) {
  Forest f;
  f.kind = ModelKind::kClassifier;
  f.info.estimator = "IsolationForest";
  FB_RETURN_IF_ERROR(ReadFeatures(r, est, &f));
  FB_ASSIGN_OR_RETURN(ValueId list, r.Need(est, "estimators_"));
  if (r.V(list).kind != Kind::kList || r.V(list).items.empty())
    return InvalidData("IsolationForest.estimators_ is not a non-empty list");
  const pickle::Ids& ests = r.V(list).items;
  FB_ASSIGN_OR_RETURN(ValueId feats_v, r.Need(est, "estimators_features_"));
  if (r.V(feats_v).kind != Kind::kList || r.V(feats_v).items.size() != ests.size())
    return InvalidData("IsolationForest.estimators_features_ does not have one entry per tree");
  // scikit-learn indexes X by the feature subset only when it differs from
  // all features (_max_features != n_features); otherwise the trees read X.
  FB_ASSIGN_OR_RETURN(ValueId mf_v, r.Need(est, "_max_features"));
  FB_ASSIGN_OR_RETURN(int64_t max_features, pickle::AsInt(r.g_, mf_v, "IsolationForest._max_features"));
  const bool subset = max_features != f.n_features;
  FB_ASSIGN_OR_RETURN(ValueId ms_v, r.Need(est, "max_samples_"));
  FB_ASSIGN_OR_RETURN(int64_t max_samples, pickle::AsInt(r.g_, ms_v, "IsolationForest.max_samples_"));
  FB_ASSIGN_OR_RETURN(ValueId off_v, r.Need(est, "offset_"));
  FB_ASSIGN_OR_RETURN(double offset, r.Number(off_v, "IsolationForest.offset_"));

  std::vector<ValueId> tree_objs;
  for (ValueId e : ests) {
    FB_ASSIGN_OR_RETURN(ValueId t, r.Need(e, "tree_"));
    tree_objs.push_back(t);
  }
  if (uint64_t bytes = TreeArrayBytes(r, tree_objs); bytes > input_size)
    return InvalidData(fmt::format("{} trees hold {} bytes of arrays in a {}-byte file: trees are shared",
                                   tree_objs.size(), bytes, input_size));
  f.trees.resize(tree_objs.size());
  for (size_t t = 0; t < tree_objs.size(); ++t) {
    Tree& tree = f.trees[t];
    bool has_missing = false;
    std::vector<int64_t> samples;
    Status st = ConvertTree(r, tree_objs[t], ModelKind::kRegressor, 1, &has_missing, &tree, &samples);
    if (!st.ok()) return std::move(st).Prefix(fmt::format("tree {}", t));
    if (subset) {
      FB_ASSIGN_OR_RETURN(std::vector<int64_t> features,
                          Ints(r, r.V(feats_v).items[t], "IsolationForest.estimators_features_"));
      for (Node& nd : tree.nodes) {
        if (nd.is_leaf()) continue;
        if (nd.feature >= static_cast<int64_t>(features.size()) || features[nd.feature] < 0 ||
            features[nd.feature] >= f.n_features)
          return InvalidData(fmt::format("tree {}: feature subset does not cover feature {}", t, nd.feature));
        nd.feature = static_cast<int32_t>(features[nd.feature]);
      }
    }
    // Leaf values: (depth + 1) + c(n_node_samples) - 1.0, in numpy's order
    // (the decision path's node count as int64, converted, plus c, minus 1).
    // Depths by an explicit walk (the tree is checked by BuildForest later;
    // here a node reached twice is refused).
    std::vector<int64_t> depth(tree.nodes.size(), -1);
    std::vector<int32_t> stack{0};
    depth[0] = 0;
    while (!stack.empty()) {
      int32_t i = stack.back();
      stack.pop_back();
      const Node& nd = tree.nodes[static_cast<size_t>(i)];
      if (nd.is_leaf()) {
        tree.values[static_cast<size_t>(i)] =
            (static_cast<double>(depth[i] + 1) + AveragePathLength(static_cast<double>(samples[i]))) - 1.0;
        continue;
      }
      for (int32_t c : {nd.left, nd.right}) {
        if (c < 0 || static_cast<size_t>(c) >= tree.nodes.size() || depth[c] != -1)
          return InvalidData(fmt::format("tree {}: node {} is not a tree's child", t, c));
        depth[c] = depth[i] + 1;
        stack.push_back(c);
      }
    }
  }
  f.n_outputs = 1;
  f.leaf_width = 1;
  f.aggregate = Aggregate::kSum;
  f.base_margin = {0.0};
  f.class_labels = {"-1", "1"};
  f.labels_are_integers = true;
  f.link = Link::kIsolation;
  // denominator = len(estimators_) * _average_path_length([max_samples_]).
  f.link_params = {
      static_cast<double>(tree_objs.size()) * AveragePathLength(static_cast<double>(max_samples)), offset};
  f.value_names = {"score_samples", "decision_function"};
  f.missing_values_supported = false;  // scikit-learn's IsolationForest rejects NaN
  f.info.objective = fmt::format("max_samples_={}, offset_={}", max_samples, offset);
  return BuildForest(std::move(f));
}

}  // namespace fb::sklearn
