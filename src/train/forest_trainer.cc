#include "train/forest_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/cpu_limits.h"
#include "model/forest_builder.h"
#include "train/binning.h"
#include "train/tree_grower.h"

namespace fb::train {

int32_t EffectiveThreads(int32_t threads) {
  if (threads > 0) return threads;
  // The CPUs this process may run on (a Slurm or container allocation, taskset, a CPU quota).
  return AvailableCpus();
}

Result<Forest> TrainForest(const TrainingData& data, const TrainParams& params,
                           const std::vector<int64_t>& rows_in) {
  FB_RETURN_IF_ERROR(ValidateParams(params, data.kind));
  std::vector<int64_t> rows = rows_in;
  if (rows.empty()) {
    rows.resize(data.n_rows);
    for (int64_t i = 0; i < data.n_rows; ++i) rows[i] = i;
  }
  if (rows.size() > static_cast<size_t>(INT32_MAX)) return Unsupported("more than 2^31 training rows");
  if (params.max_features.kind == MaxFeatures::Kind::kCount && params.max_features.value > data.n_features) {
    return InvalidArgument(fmt::format("max_features {} is more than the {} features",
                                       static_cast<int64_t>(params.max_features.value), data.n_features));
  }
  const int32_t threads = EffectiveThreads(params.threads);
  BinnedData binned = BinFeatures(data, rows, params.max_bins, threads, params.seed);

  GrowShared g;
  g.binned = &binned;
  g.criterion = ResolveCriterion(params.criterion, data.kind);
  g.max_features = ResolveMaxFeatures(params.max_features, data.kind, data.n_features);
  g.max_depth = params.max_depth;
  g.min_samples_leaf = params.min_samples_leaf;
  g.min_samples_split = params.min_samples_split;
  g.bootstrap = ResolveBootstrap(params);
  g.extra_trees = params.extra_trees;
  g.seed = params.seed;
  const int32_t k = data.kind == ModelKind::kClassifier ? data.n_classes() : 0;
  g.n_classes = k;
  if (k > 0) {
    g.y_class.resize(rows.size());
    std::vector<int64_t> per_class(k, 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      g.y_class[i] = data.y_class[rows[i]];
      ++per_class[g.y_class[i]];
    }
    g.class_weight.assign(k, 1.0);
    if (params.class_weight_balanced) {
      // scikit-learn's compute_class_weight("balanced"): n / (n_classes * count);
      // classes absent from these rows get no weight (they have no rows).
      int32_t present = 0;
      for (int64_t c : per_class) present += c > 0;
      for (int32_t c = 0; c < k; ++c)
        g.class_weight[c] =
            per_class[c] > 0 ? static_cast<double>(rows.size()) / (present * per_class[c]) : 0.0;
    }
  } else {
    g.y_value.resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) g.y_value[i] = data.y_value[rows[i]];
  }

  std::vector<GrownTree> grown(params.n_estimators);
  std::atomic<int32_t> next{0};
  auto work = [&] {
    for (int32_t t; (t = next.fetch_add(1)) < params.n_estimators;) grown[t] = GrowTree(g, t);
  };
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < std::min(threads, params.n_estimators); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  Forest f;
  f.kind = data.kind;
  f.n_features = data.n_features;
  f.feature_names = data.feature_names;
  f.n_outputs = k > 0 ? k : 1;
  f.leaf_width = f.n_outputs;
  f.aggregate = Aggregate::kMean;
  f.link = Link::kIdentity;
  f.class_labels = data.class_labels;
  f.labels_are_integers = data.labels_are_integers;
  f.missing_values_supported = true;
  f.encoding = data.encoding;
  f.info.source_format = "native";
  f.info.estimator = fmt::format("{}{}", params.extra_trees ? "ExtraTrees" : "RandomForest",
                                 k > 0 ? "Classifier" : "Regressor");
  f.training.params = ParamsAsText(params, data.kind);
  f.training.n_samples = static_cast<int64_t>(rows.size());
  // scikit-learn: the mean of the per-tree normalised importances over the
  // trees that split at least once, normalised again.
  std::vector<double> imp(data.n_features, 0.0);
  for (GrownTree& t : grown) {
    if (t.tree.nodes.size() > 1) {
      for (int32_t i = 0; i < data.n_features; ++i) imp[i] += t.importances[i];
    }
    f.trees.push_back(std::move(t.tree));
  }
  double total = 0;
  for (double v : imp) total += v;
  for (double& v : imp) v = total > 0 ? v / total : 0.0;
  f.training.feature_importances = std::move(imp);
  return BuildForest(std::move(f));
}

}  // namespace fb::train
