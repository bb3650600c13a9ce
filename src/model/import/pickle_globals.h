// The allowlist of globals a pickle may name, and what each one means to the
// reader (pickle_vm.cc). Nothing is ever called: a role says how REDUCE /
// NEWOBJ / BUILD on that global is interpreted as data.
//
// Accepted: classes and functions of scikit-learn modules (`sklearn` and
// `sklearn.*`, any version's layout) as inert references and instances; only
// `sklearn.tree._tree.Tree` and the Cython unpickle functions of
// scikit-learn's loss objects (`sklearn._loss._loss.__pyx_unpickle_Cy<loss>`
// for the twelve loss classes by name) may be REDUCEd, into inert records (REDUCE on any other scikit-learn
// function is an unsupported model, kUnsupported); numpy array / dtype / scalar reconstruction under
// numpy.core and numpy._core; numpy's scalar type classes (numpy.float64, ...), any other numpy name (ufuncs
// such as np.log1p held by a FunctionTransformer) and builtins float/int/str/bool/object as inert references,
// never callable (an estimator's `dtype` parameter); numpy masked arrays and random-state constructors
// (inert); joblib's NumpyArrayWrapper (also under sklearn.externals.joblib); _codecs.encode; builtins set,
// frozenset, bytearray, bytes, slice; collections.OrderedDict.
//
// XGBoost: exactly its scikit-learn wrapper classes (xgboost.sklearn
// XGBClassifier, XGBRegressor, XGBRFClassifier, XGBRFRegressor, XGBRanker),
// xgboost.core.Booster and 1.x's xgboost.compat.XGBoostLabelEncoder, as inert
// instances (NEWOBJ + BUILD record their state; REDUCE on them is refused).
//
// Everything else is rejected: InvalidData (exit 3: the file is refused as
// unsafe or broken), except a class (a capitalised name) of another
// machine-learning library (other xgboost classes, lightgbm, catboost, pandas, scipy,
// imblearn, category_encoders, statsmodels, torch, keras, tensorflow), which
// is an unsupported model (kUnsupported, exit 4) naming the class.
#pragma once

#include <cstdint>
#include <string_view>

namespace fb::pickle {

enum class GlobalRole : uint8_t {
  kRejected,
  kForeignClass,   // a class of another ML library: refused as an unsupported model
  kSklearnClass,   // NEWOBJ -> inert object; referenced as data
  kTreeClass,      // sklearn.tree._tree.Tree: REDUCE -> object (cls, args), BUILD -> state
  kInertCallable,  // REDUCE -> inert object (masked arrays, random states)
  kNdarrayClass,   // numpy.ndarray: only an argument of _reconstruct
  kReconstruct,    // numpy.core.multiarray._reconstruct: REDUCE -> array, BUILD fills it
  kFromBuffer,     // numpy.core.numeric._frombuffer (protocol 5): REDUCE -> array
  kDtype,          // numpy.dtype: REDUCE -> dtype, BUILD fills byte order / fields
  kScalar,         // numpy.core.multiarray.scalar: REDUCE -> int / float / bool
  kCodecsEncode,   // _codecs.encode(str, 'latin1'): REDUCE -> bytes
  kSet,            // builtins.set / frozenset: REDUCE -> set
  kBytearray,      // builtins.bytearray: REDUCE -> bytes
  kOrderedDict,    // collections.OrderedDict: REDUCE -> dict
  kTypeRef,        // numpy names, builtins float/int/...: referenced as data only
  kSlice,          // builtins.slice: REDUCE -> inert object (args: start, stop, step)
  kArrayWrapper,   // joblib NumpyArrayWrapper: NEWOBJ -> object, BUILD reads the array bytes
  kXgboostClass,   // XGBoost's scikit-learn wrappers, Booster, label encoder: NEWOBJ -> inert object
};

GlobalRole ClassifyGlobal(std::string_view module, std::string_view name);

}  // namespace fb::pickle
