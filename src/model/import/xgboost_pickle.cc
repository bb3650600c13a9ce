#include "model/import/xgboost_pickle.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "model/forest_builder.h"
#include "model/import/pickle_numpy.h"
#include "model/import/xgboost_model.h"

namespace fb::sklearn {
namespace {

bool IsOneOf(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

}  // namespace

bool IsXgboostEstimator(const Reader& r, ValueId est) {
  return IsOneOf(r.FullClassName(est), {"xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
                                        "xgboost.sklearn.XGBRFClassifier", "xgboost.sklearn.XGBRFRegressor",
                                        "xgboost.sklearn.XGBRanker"});
}

Result<Forest> FromXgboostEstimator(const Reader& r, ValueId est) {
  const std::string cls = r.ClassName(est);
  const bool classifier = cls == "XGBClassifier" || cls == "XGBRFClassifier";
  ValueId booster = r.Attr(est, "_Booster");
  if (booster == kNoValue || r.V(booster).kind == Kind::kNone)
    return InvalidData(fmt::format("{} has no _Booster (not fitted?)", cls));
  ValueId handle = kNoValue;
  if (r.V(booster).kind == Kind::kBytes) {
    handle = booster;  // before 1.0: the raw model bytes themselves
  } else {
    if (r.FullClassName(booster) != "xgboost.core.Booster")
      return InvalidData(
          fmt::format("{}._Booster is {}, not an xgboost.core.Booster", cls, r.ClassName(booster)));
    FB_ASSIGN_OR_RETURN(handle, r.Need(booster, "handle"));
  }
  if (r.V(handle).kind == Kind::kNone)
    return InvalidData(fmt::format("{}'s Booster has no model (handle None)", cls));
  if (r.V(handle).kind != Kind::kBytes)
    return InvalidData(
        fmt::format("{}'s Booster handle is {}, not bytes", cls, pickle::KindName(r.V(handle).kind)));
  Result<Forest> loaded = LoadXgboostBoosterBuffer(r.V(handle).bytes());
  if (!loaded.ok()) return std::move(loaded).take_status().Prefix(fmt::format("{}._Booster", cls));
  Forest f = std::move(loaded).value();
  f.info.estimator = fmt::format("{} ({})", cls, f.info.estimator);
  // The wrapper's predict and predict_proba use rounds [0, best_iteration]
  // when early stopping recorded one (the Booster's attribute).
  f.predict_uses_best_iteration = f.best_iteration >= 0;

  if (!classifier) {
    // XGBRegressor / XGBRanker.predict: Booster.predict's values, whatever
    // the objective (a classification objective gives probabilities).
    f.kind = ModelKind::kRegressor;
    f.class_labels.clear();
    f.labels_are_integers = false;
    return BuildForest(std::move(f));
  }
  if (f.kind != ModelKind::kClassifier ||
      (f.link != Link::kSigmoid && f.link != Link::kSoftmax && f.link != Link::kStep))
    return Unsupported(
        fmt::format("{} with objective {} is not supported (binary:logistic, binary:hinge, multi:softprob, "
                    "multi:softmax are)",
                    cls, f.info.objective));
  const int32_t model_classes = f.n_classes();
  if (ValueId n = r.Attr(est, "n_classes_"); n != kNoValue) {
    FB_ASSIGN_OR_RETURN(int64_t k, pickle::AsInt(r.g_, n, "n_classes_"));
    if (k != model_classes)
      return InvalidData(
          fmt::format("{}.n_classes_ is {} but its booster has {} classes", cls, k, model_classes));
  }
  // The labels predict returns: _le.classes_ when the wrapper kept a label
  // encoder (1.0 to 1.5: `self._le.inverse_transform(column_indexes)`),
  // else the class indexes 0 .. n-1 (1.6 on, and 1.3-1.5 with
  // use_label_encoder=False), whatever classes_ holds.
  if (ValueId le = r.Attr(est, "_le"); le != kNoValue && r.V(le).kind == Kind::kObject) {
    FB_ASSIGN_OR_RETURN(ValueId classes, r.Need(le, "classes_"));
    Forest labelled;
    FB_RETURN_IF_ERROR(Labels(r, classes, &labelled));
    if (labelled.n_classes() != model_classes)
      return InvalidData(fmt::format("{}._le.classes_ has {} labels but its booster has {} classes", cls,
                                     labelled.n_classes(), model_classes));
    f.class_labels = std::move(labelled.class_labels);
    f.labels_are_integers = labelled.labels_are_integers;
  }
  return BuildForest(std::move(f));
}

}  // namespace fb::sklearn
