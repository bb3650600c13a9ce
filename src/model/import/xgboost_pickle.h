// XGBoost's scikit-learn wrappers (XGBClassifier, XGBRegressor,
// XGBRFClassifier, XGBRFRegressor, XGBRanker) in a PickleGraph. Internal to
// model/import: sklearn_pickle.cc calls these after unwrapping Pipeline /
// GridSearchCV.
//
// What a pickled wrapper holds (python-package/xgboost/sklearn.py and
// core.py, 1.0 to 3.x): the estimator's __dict__, with `_Booster` an
// xgboost.core.Booster whose state's "handle" is the bytes
// XGBoosterSerializeToBuffer wrote (LoadXgboostBoosterBuffer reads every
// version's layout); classifiers also `n_classes_` and, up to 1.7,
// `classes_` (1.0 to 1.5 also `_le`, an XGBoostLabelEncoder holding the
// original labels; from 2.0 `classes_` is a property: range(n_classes_)).
// XGBClassifier.predict returns those labels; predict and predict_proba use
// rounds [0, best_iteration] when early stopping recorded one.
#pragma once

#include <string>

#include "common/status.h"
#include "model/forest.h"
#include "model/import/sklearn_reader.h"

namespace fb::sklearn {

// True for an object of one of XGBoost's scikit-learn wrapper classes.
bool IsXgboostEstimator(const Reader& r, ValueId est);
Result<Forest> FromXgboostEstimator(const Reader& r, ValueId est);

}  // namespace fb::sklearn
