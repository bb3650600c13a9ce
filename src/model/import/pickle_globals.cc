#include "model/import/pickle_globals.h"

#include <array>

namespace fb::pickle {
namespace {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return !(s[0] >= '0' && s[0] <= '9');
}

bool IsModulePath(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!IsIdentifier(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

struct Entry {
  std::string_view module, name;
  GlobalRole role;
};

constexpr std::array kTable = {
    // numpy 1.x and 2.x layouts.
    Entry{"numpy.core.multiarray", "_reconstruct", GlobalRole::kReconstruct},
    Entry{"numpy._core.multiarray", "_reconstruct", GlobalRole::kReconstruct},
    Entry{"numpy.core.multiarray", "scalar", GlobalRole::kScalar},
    Entry{"numpy._core.multiarray", "scalar", GlobalRole::kScalar},
    Entry{"numpy.core.numeric", "_frombuffer", GlobalRole::kFromBuffer},
    Entry{"numpy._core.numeric", "_frombuffer", GlobalRole::kFromBuffer},
    Entry{"numpy", "ndarray", GlobalRole::kNdarrayClass},
    Entry{"numpy", "dtype", GlobalRole::kDtype},
    Entry{"numpy.ma.core", "_mareconstruct", GlobalRole::kInertCallable},
    Entry{"numpy.ma.core", "MaskedArray", GlobalRole::kInertCallable},
    Entry{"numpy.random._pickle", "__randomstate_ctor", GlobalRole::kInertCallable},
    Entry{"numpy.random._pickle", "__bit_generator_ctor", GlobalRole::kInertCallable},
    Entry{"numpy.random._pickle", "__generator_ctor", GlobalRole::kInertCallable},
    // A Generator's seed (HistGradientBoosting* from 1.4 keeps one as
    // _feature_subsample_rng): the Cython unpickle function's arguments are
    // recorded, never passed to it.
    Entry{"numpy.random.bit_generator", "__pyx_unpickle_SeedSequence", GlobalRole::kInertCallable},
    // functools.partial(check_array, ...): the numerical columns' transformer
    // of a HistGradientBoosting* _preprocessor (1.4+). Recorded as data: the
    // importer reads which function it names, nothing ever calls it.
    Entry{"functools", "partial", GlobalRole::kInertCallable},
    Entry{"numpy.random.mtrand", "RandomState", GlobalRole::kInertCallable},
    Entry{"numpy.random", "__RandomState_ctor", GlobalRole::kInertCallable},
    // joblib's in-stream arrays.
    Entry{"joblib.numpy_pickle", "NumpyArrayWrapper", GlobalRole::kArrayWrapper},
    Entry{"sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper", GlobalRole::kArrayWrapper},
    // XGBoost's scikit-learn wrappers and what they hold (xgboost_pickle.h).
    Entry{"xgboost.sklearn", "XGBClassifier", GlobalRole::kXgboostClass},
    Entry{"xgboost.sklearn", "XGBRegressor", GlobalRole::kXgboostClass},
    Entry{"xgboost.sklearn", "XGBRFClassifier", GlobalRole::kXgboostClass},
    Entry{"xgboost.sklearn", "XGBRFRegressor", GlobalRole::kXgboostClass},
    Entry{"xgboost.sklearn", "XGBRanker", GlobalRole::kXgboostClass},
    Entry{"xgboost.core", "Booster", GlobalRole::kXgboostClass},
    Entry{"xgboost.compat", "XGBoostLabelEncoder", GlobalRole::kXgboostClass},
    // scikit-learn's tree structure (Cython class with __reduce__).
    Entry{"sklearn.tree._tree", "Tree", GlobalRole::kTreeClass},
    // Builtins a protocol-2 pickle uses for bytes, sets and ordered dicts.
    Entry{"_codecs", "encode", GlobalRole::kCodecsEncode},
    Entry{"builtins", "set", GlobalRole::kSet},
    Entry{"builtins", "frozenset", GlobalRole::kSet},
    Entry{"__builtin__", "set", GlobalRole::kSet},
    Entry{"__builtin__", "frozenset", GlobalRole::kSet},
    Entry{"builtins", "bytearray", GlobalRole::kBytearray},
    Entry{"__builtin__", "bytearray", GlobalRole::kBytearray},
    Entry{"collections", "OrderedDict", GlobalRole::kOrderedDict},
    Entry{"builtins", "bytes", GlobalRole::kBytearray},
    Entry{"__builtin__", "bytes", GlobalRole::kBytearray},
    Entry{"builtins", "slice", GlobalRole::kSlice},
    Entry{"__builtin__", "slice", GlobalRole::kSlice},
    // Type references (an estimator's dtype parameter, e.g. OneHotEncoder's).
    Entry{"builtins", "float", GlobalRole::kTypeRef},
    Entry{"builtins", "int", GlobalRole::kTypeRef},
    Entry{"builtins", "str", GlobalRole::kTypeRef},
    Entry{"builtins", "bool", GlobalRole::kTypeRef},
    Entry{"builtins", "object", GlobalRole::kTypeRef},
    Entry{"__builtin__", "float", GlobalRole::kTypeRef},
    Entry{"__builtin__", "int", GlobalRole::kTypeRef},
    Entry{"__builtin__", "object", GlobalRole::kTypeRef},
};

// numpy's scalar type classes, referenced as types (never called).
constexpr std::array<std::string_view, 17> kNumpyTypes = {
    "float64", "float32", "float16", "int64",   "int32", "int16",  "int8",   "uint64",  "uint32",
    "uint16",  "uint8",   "bool_",   "object_", "str_",  "bytes_", "double", "longlong"};

// scikit-learn's Cython loss classes (sklearn/_loss/_loss.pyx.tp, 1.1 to
// current): only their unpickle functions may be REDUCEd (into records).
constexpr std::array<std::string_view, 12> kCyLosses = {
    "CyHalfSquaredError", "CyAbsoluteError",   "CyPinballLoss",         "CyHuberLoss",
    "CyHalfPoissonLoss",  "CyHalfGammaLoss",   "CyHalfTweedieLoss",     "CyHalfTweedieLossIdentity",
    "CyHalfBinomialLoss", "CyExponentialLoss", "CyHalfMultinomialLoss", "CyLossFunction"};

// Other machine-learning libraries whose estimators people pickle: a class of
// theirs is an unsupported model, not an attack.
constexpr std::array<std::string_view, 12> kForeignLibraries = {
    "xgboost",           "lightgbm",    "catboost", "pandas", "scipy",      "imblearn",
    "category_encoders", "statsmodels", "torch",    "keras",  "tensorflow", "sklearn_pandas"};

}  // namespace

GlobalRole ClassifyGlobal(std::string_view module, std::string_view name) {
  for (const Entry& e : kTable) {
    if (e.module == module && e.name == name) return e.role;
  }
  if (module == "numpy") {
    for (std::string_view t : kNumpyTypes)
      if (name == t) return GlobalRole::kTypeRef;
  }
  // Any other numpy name (a ufunc such as np.log1p held by a
  // FunctionTransformer) is a reference only: REDUCE / NEWOBJ on it are refused.
  if ((module == "numpy" || module.substr(0, 6) == "numpy.") && IsModulePath(module) && IsIdentifier(name))
    return GlobalRole::kTypeRef;
  // The Cython unpickle functions of scikit-learn's loss objects
  // (HistGradientBoosting*, GradientBoosting* from 1.4), by exact name:
  // REDUCE records their arguments (class, checksum, state) as data. Any
  // other __pyx_unpickle_* falls through to the scikit-learn rule below,
  // where REDUCE is refused.
  if (module == "sklearn._loss._loss") {
    for (std::string_view loss : kCyLosses)
      if (name.substr(0, 15) == "__pyx_unpickle_" && name.substr(15) == loss)
        return GlobalRole::kInertCallable;
  }
  // Any scikit-learn class or function, under whichever module layout the
  // version used, is accepted as inert data: NEWOBJ on it makes a record, and
  // the importer decides what it supports. REDUCE on it is refused (pickle_vm).
  if ((module == "sklearn" || module.substr(0, 8) == "sklearn.") && IsModulePath(module) &&
      IsIdentifier(name)) {
    return GlobalRole::kSklearnClass;
  }
  const std::string_view top = module.substr(0, module.find('.'));
  for (std::string_view lib : kForeignLibraries) {
    if (top == lib && IsModulePath(module) && IsIdentifier(name) && name[0] >= 'A' && name[0] <= 'Z')
      return GlobalRole::kForeignClass;
  }
  return GlobalRole::kRejected;
}

}  // namespace fb::pickle
