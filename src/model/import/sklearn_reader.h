// Shared reading of scikit-learn objects in a PickleGraph, for the
// scikit-learn importers (sklearn_pickle.cc: trees, forests and wrappers;
// sklearn_ensembles.cc: gradient boosting and isolation forests). Internal to
// model/import.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/forest.h"
#include "model/import/pickle_value.h"

namespace fb::sklearn {

using pickle::Kind;
using pickle::kNoValue;
using pickle::PickleGraph;
using pickle::Value;
using pickle::ValueId;

class Reader {
 public:
  explicit Reader(const PickleGraph& g) : g_(g) {}

  const Value& V(ValueId id) const { return g_.at(id); }

  // "RandomForestClassifier" for an object of sklearn.ensemble._forest.RandomForestClassifier.
  std::string ClassName(ValueId obj) const;
  // The full "module.name" of an object's class, or "" for a non-object.
  std::string FullClassName(ValueId obj) const;
  ValueId Attr(ValueId obj, std::string_view name) const;
  Result<ValueId> Need(ValueId obj, std::string_view name) const;
  std::string Str(ValueId v) const {
    return v != kNoValue && V(v).kind == Kind::kStr ? std::string(V(v).text) : std::string();
  }
  // A Python float or int (or numpy scalar decoded as one) as double.
  Result<double> Number(ValueId v, std::string_view what) const;

  struct ArrayView {
    const Value* a = nullptr;
    const Value* dt = nullptr;
    uint64_t count = 0;
  };
  Result<ArrayView> Array(ValueId v, std::string_view what) const;

  const PickleGraph& g_;
};

// Reads a scalar of dtype `dt` at `p` (little or big endian).
bool ReadNumber(const char* p, const Value& dt, double* d, int64_t* i);
// Every element of a numeric array, in C order, as double.
Result<std::vector<double>> Doubles(const Reader& r, ValueId v, std::string_view what);
// Every element of an integer array, in C order.
Result<std::vector<int64_t>> Ints(const Reader& r, ValueId v, std::string_view what);
// Class labels spelled as Python prints them, into f->class_labels.
Status Labels(const Reader& r, ValueId classes, Forest* f);

// One sklearn Tree object into `out`. Classifier leaf values are normalised
// per node as predict_proba does (a zero-sum row stays zero); regressors
// keep value[node][0][0]. When `n_node_samples` is not null it receives the
// node records' n_node_samples. `has_missing`: the records carry
// missing_go_to_left.
Status ConvertTree(const Reader& r, ValueId tree_obj, ModelKind kind, int32_t width, bool* has_missing,
                   Tree* out, std::vector<int64_t>* n_node_samples = nullptr);
// The estimator's _sklearn_version, n_features_in_ (or n_features_) and
// feature_names_in_ into `f`.
Status ReadFeatures(const Reader& r, ValueId est, Forest* f);
// Bytes of the trees' node and value arrays: more than the file itself
// means trees are shared through the memo (refused by the callers).
uint64_t TreeArrayBytes(const Reader& r, const std::vector<ValueId>& tree_objs);

bool EndsWith(std::string_view s, std::string_view suffix);
// Major*1000+minor of a version string such as "1.2.1" (0 if unknown).
int VersionKey(const std::string& v);

}  // namespace fb::sklearn
