// scikit-learn's HistGradientBoostingClassifier / HistGradientBoostingRegressor
// (0.22 and later) as Forests. Internal to model/import: sklearn_pickle.cc
// calls these after unwrapping.
//
// What predict computes, and how the Forest reproduces it:
//   - raw[k] = 0.0 + _baseline_prediction[k], then each TreePredictor of each
//     iteration (`_predictors`, early stopping included: its length is n_iter_)
//     adds its leaf's `value` (already shrunk by the learning rate) in order:
//     the Forest's base margin and kSum trees, so the sums are bit-identical;
//   - a node compares the float64 input with its float64 num_threshold
//     (`x <= t` goes left), NaN goes by missing_go_to_left; categorical
//     nodes (0.24+) send a category left when it is in the node's raw
//     left-category bitset, right when it is another known category of the
//     feature (the _BinMapper's bin_thresholds_), and treat negative and
//     unknown categories as missing. The Forest keeps both rules exactly
//     through Forest::float64_features (common/float64_features.h): numeric
//     thresholds become indices into the feature's sorted cuts, and a
//     categorical node lists the known categories outside its left set;
//   - the link is the loss object's: identity (squared error, absolute
//     error, quantile), exp (poisson, gamma), expit (binomial), softmax
//     (multinomial; before 1.1 exp(raw - logsumexp(raw))).
// The loss object is read as data: from 1.1 `_loss` (sklearn._loss.loss.*)
// with its Cython `closs` (a REDUCE on sklearn._loss._loss.__pyx_unpickle_Cy*
// recorded, never called) and its `link`; before 1.1 `loss_`
// (sklearn.ensemble._hist_gradient_boosting.loss.*). A loss, closs and link
// that do not belong together, node records that break the tree, bitsets
// that name unknown categories: InvalidData. A loss this reader does not
// know: Unsupported, naming the class.
//
// From 1.4, a model with any categorical feature keeps a `_preprocessor`:
// ColumnTransformer([("encoder", OrdinalEncoder(handle_unknown=
// "use_encoded_value", unknown_value=NaN, encoded_missing_value=NaN), mask),
// ("numerical", FunctionTransformer(partial(check_array, ...)), ~mask)]),
// whose output puts the categorical columns first; the trees, the
// _BinMapper and the bitsets index that reordered, encoded space. It is
// compiled by the preprocessing compiler (sklearn_preprocessing.h: the
// partial(check_array) transformer is the identity) into the Forest's
// preprocessing, which the table readers run on the original columns;
// unknown categories and NaN become NaN there, and go where missing values go.
// The Forest then has no feature names (its features are the program's
// outputs); the program's inputs carry the column names, if any.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "model/forest.h"
#include "model/import/sklearn_reader.h"

namespace fb::sklearn {

bool IsHistGradientBoosting(const std::string& cls);
Result<Forest> FromHistGradientBoosting(const Reader& r, ValueId est, uint64_t input_size);
// The estimator's `_preprocessor` (1.4+, categorical features), or kNoValue
// when it has none (or None): the last preprocessing step in front of its trees.
ValueId HistGradientBoostingPreprocessor(const Reader& r, ValueId est);

}  // namespace fb::sklearn
