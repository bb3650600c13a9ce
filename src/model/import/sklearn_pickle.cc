// scikit-learn estimators from a PickleGraph: unwrap search / pipeline
// wrappers, then turn each sklearn.tree._tree.Tree into forestbatch trees.
#include "model/import/sklearn_pickle.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/compression.h"
#include "common/format.h"
#include "model/forest_builder.h"
#include "model/import/pickle_numpy.h"
#include "model/import/pickle_vm.h"
#include "model/import/sklearn_ensembles.h"
#include "model/import/sklearn_hist_gradient_boosting.h"
#include "model/import/sklearn_preprocessing.h"
#include "model/import/sklearn_reader.h"
#include "model/import/xgboost_pickle.h"

namespace fb {
namespace {

using sklearn::Kind;
using sklearn::kNoValue;
using sklearn::PickleGraph;
using sklearn::Reader;
using sklearn::Value;
using sklearn::ValueId;

constexpr const char* kSupported =
    "supported: DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor, "
    "RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor, "
    "GradientBoostingClassifier, GradientBoostingRegressor, HistGradientBoostingClassifier, "
    "HistGradientBoostingRegressor, IsolationForest, "
    "XGBoost's XGBClassifier, XGBRegressor, XGBRFClassifier, XGBRFRegressor, XGBRanker, "
    "optionally inside GridSearchCV / RandomizedSearchCV (best_estimator_) or a Pipeline whose earlier "
    "steps are supported preprocessing steps";

Result<Forest> FromEstimator(const Reader& r, ValueId est, const std::string& wrappers, uint64_t input_size) {
  const std::string cls = r.ClassName(est);
  if (sklearn::IsXgboostEstimator(r, est)) {
    FB_ASSIGN_OR_RETURN(Forest f, sklearn::FromXgboostEstimator(r, est));
    f.info.wrappers = wrappers;
    return f;
  }
  if (sklearn::IsGradientBoosting(cls)) {
    FB_ASSIGN_OR_RETURN(Forest f, sklearn::FromGradientBoosting(r, est, input_size));
    f.info.wrappers = wrappers;
    return f;
  }
  if (sklearn::IsHistGradientBoosting(cls)) {
    FB_ASSIGN_OR_RETURN(Forest f, sklearn::FromHistGradientBoosting(r, est, input_size));
    f.info.wrappers = wrappers;
    return f;
  }
  if (cls == "IsolationForest") {
    FB_ASSIGN_OR_RETURN(Forest f, sklearn::FromIsolationForest(r, est, input_size));
    f.info.wrappers = wrappers;
    return f;
  }
  const bool single = cls == "DecisionTreeClassifier" || cls == "DecisionTreeRegressor" ||
                      cls == "ExtraTreeClassifier" || cls == "ExtraTreeRegressor";
  const bool ensemble = cls == "RandomForestClassifier" || cls == "RandomForestRegressor" ||
                        cls == "ExtraTreesClassifier" || cls == "ExtraTreesRegressor";
  if (!single && !ensemble)
    return Unsupported(fmt::format("estimator {} is not supported; {}", cls, kSupported));
  Forest f;
  f.kind = sklearn::EndsWith(cls, "Classifier") ? ModelKind::kClassifier : ModelKind::kRegressor;
  f.info.estimator = cls;
  f.info.wrappers = wrappers;
  FB_RETURN_IF_ERROR(sklearn::ReadFeatures(r, est, &f));
  int64_t n_outputs = 1;
  if (ValueId v = r.Attr(est, "n_outputs_"); v != kNoValue) {
    FB_ASSIGN_OR_RETURN(n_outputs, pickle::AsInt(r.g_, v, "n_outputs_"));
  }
  if (n_outputs != 1)
    return Unsupported(
        fmt::format("{} has {} outputs; multi-output models are not supported", cls, n_outputs));
  int32_t width = 1;
  if (f.kind == ModelKind::kClassifier) {
    FB_ASSIGN_OR_RETURN(ValueId classes, r.Need(est, "classes_"));
    if (r.V(classes).kind == Kind::kList) return Unsupported("multi-output classifiers are not supported");
    FB_RETURN_IF_ERROR(sklearn::Labels(r, classes, &f));
    width = static_cast<int32_t>(f.class_labels.size());
  }
  f.n_outputs = width;
  f.leaf_width = width;
  std::vector<ValueId> tree_objs;
  if (single) {
    FB_ASSIGN_OR_RETURN(ValueId t, r.Need(est, "tree_"));
    tree_objs.push_back(t);
  } else {
    FB_ASSIGN_OR_RETURN(ValueId list, r.Need(est, "estimators_"));
    if (r.V(list).kind != Kind::kList) return InvalidData("estimators_ is not a list");
    for (ValueId e : r.V(list).items) {
      FB_ASSIGN_OR_RETURN(ValueId t, r.Need(e, "tree_"));
      tree_objs.push_back(t);
    }
    if (tree_objs.empty()) return InvalidData(cls + " has no trees (not fitted?)");
  }
  // Each tree's arrays must be its own bytes in the file: a pickle that
  // shares one big tree many times (through the memo) is refused rather than
  // expanded.
  uint64_t tree_bytes = sklearn::TreeArrayBytes(r, tree_objs);
  if (tree_bytes > input_size)
    return InvalidData(fmt::format("{} trees hold {} bytes of arrays in a {}-byte file: trees are shared",
                                   tree_objs.size(), tree_bytes, input_size));
  bool all_missing = true;
  f.trees.resize(tree_objs.size());
  for (size_t t = 0; t < tree_objs.size(); ++t) {
    bool has_missing = false;
    Status st = sklearn::ConvertTree(r, tree_objs[t], f.kind, width, &has_missing, &f.trees[t]);
    if (!st.ok()) return std::move(st).Prefix(fmt::format("tree {}", t));
    all_missing = all_missing && has_missing;
  }
  // NaN input: scikit-learn >= 1.3 routes NaN by missing_go_to_left for the
  // estimators that support it (DecisionTree* with splitter='best' from 1.3,
  // RandomForest* from 1.4, ExtraTree(s)* from 1.6); otherwise it rejects NaN.
  int version = sklearn::VersionKey(f.info.library_version);
  bool estimator_allows_nan = false;
  if (cls.rfind("DecisionTree", 0) == 0) {
    estimator_allows_nan = r.Str(r.Attr(est, "splitter")) == "best";
  } else if (cls.rfind("RandomForest", 0) == 0) {
    estimator_allows_nan = version >= 1004;
  } else {
    estimator_allows_nan = version >= 1006;
  }
  f.missing_values_supported = all_missing && estimator_allows_nan;
  return BuildForest(std::move(f));
}

Result<Forest> FromRoot(const PickleGraph& g, uint64_t input_size) {
  Reader r(g);
  ValueId est = g.root;
  std::string wrappers;
  // Preprocessing steps of the Pipelines on the way, outermost first, and
  // the path of nested Pipelines (for step names).
  std::vector<sklearn::PipelineStep> prep;
  std::string prefix;
  for (int depth = 0; depth < 16; ++depth) {
    std::string cls = r.ClassName(est);
    ValueId next = kNoValue;
    std::string how;
    if (cls == "GridSearchCV" || cls == "RandomizedSearchCV") {
      next = r.Attr(est, "best_estimator_");
      if (next == kNoValue)
        return Unsupported(cls + " has no best_estimator_ (it was fitted with refit=False or not fitted)");
      how = cls + ".best_estimator_";
    } else if (cls == "Pipeline") {
      FB_ASSIGN_OR_RETURN(ValueId steps, r.Need(est, "steps"));
      if (r.V(steps).kind != Kind::kList || r.V(steps).items.empty())
        return InvalidData("Pipeline.steps is not a non-empty list");
      const auto& items = r.V(steps).items;
      for (size_t i = 0; i < items.size(); ++i) {
        const Value& step = r.V(items[i]);
        if ((step.kind != Kind::kTuple && step.kind != Kind::kList) || step.items.size() != 2)
          return InvalidData("Pipeline step is not a (name, estimator) pair");
        ValueId obj = step.items[1];
        bool skip = r.V(obj).kind == Kind::kNone || pickle::IsStr(g, obj, "passthrough");
        std::string name = r.Str(step.items[0]);
        if (i + 1 < items.size()) {
          // The steps before the last transform the input (compiled below).
          if (!skip) prep.push_back({prefix.empty() ? name : prefix + " > " + name, obj});
          continue;
        }
        if (skip) return Unsupported("the Pipeline's last step is 'passthrough'");
        next = obj;
        how = fmt::format("Pipeline['{}']", name);
        if (r.ClassName(obj) == "Pipeline") prefix = prefix.empty() ? name : prefix + " > " + name;
      }
    } else {
      if (r.V(est).kind != Kind::kObject)
        return Unsupported(
            fmt::format("the file holds {}, not a scikit-learn estimator; {}", r.ClassName(est), kSupported));
      if (prep.empty()) return FromEstimator(r, est, wrappers, input_size);
      FB_ASSIGN_OR_RETURN(Forest f, FromEstimator(r, est, wrappers, input_size));
      // A HistGradientBoosting* _preprocessor (1.4+, categorical features)
      // runs after the Pipeline's own steps.
      if (sklearn::IsHistGradientBoosting(cls))
        if (ValueId pre = sklearn::HistGradientBoostingPreprocessor(r, est); pre != kNoValue)
          prep.push_back({"_preprocessor", pre});
      FB_ASSIGN_OR_RETURN(f.preprocessing, sklearn::CompilePreprocessing(r, prep, f.n_features));
      // What the trees index are the preprocessing's outputs, not the input's columns.
      f.feature_names.clear();
      return BuildForest(std::move(f));
    }
    if (!wrappers.empty()) wrappers += " > ";
    wrappers += how;
    est = next;
  }
  return Unsupported("too many nested wrappers");
}

bool UsesJoblibArrays(const PickleGraph& g) {
  for (size_t id = 0; id < g.size(); ++id) {
    const Value& v = g.at(static_cast<ValueId>(id));
    if (v.kind == Kind::kGlobal && v.text.find("NumpyArrayWrapper") != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

Result<Forest> LoadSklearnPickle(std::string_view bytes) {
  Compression c = DetectCompression(bytes.substr(0, 8));
  std::string inflated;
  if (c != Compression::kNone) {
    FB_ASSIGN_OR_RETURN(inflated, Decompress(bytes, c));
    bytes = inflated;
  }
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x80)
    return InvalidData("not a pickle (no PROTO opcode at the start)");
  FB_ASSIGN_OR_RETURN(PickleGraph g, pickle::Unpickle(bytes));
  FB_ASSIGN_OR_RETURN(Forest f, FromRoot(g, bytes.size()));
  f.info.source_format = UsesJoblibArrays(g) || c != Compression::kNone ? "joblib" : "pickle";
  if (c != Compression::kNone) f.info.source_format += fmt::format(" ({}-compressed)", CompressionName(c));
  return f;
}

}  // namespace fb
