// InputSchemaFor: what the CSV reader must make of an input file for a model.
//
// Models with feature names are read by name from a headed file (any column
// order, extra columns ignored), others by position. A model trained from
// raw CSV with categorical columns (Forest::encoding) is read through its raw
// columns instead: each found by name, numeric ones parsed, categorical ones
// one-hot encoded as in training (io/csv_reader.h). A trained model whose
// raw columns are all numeric needs no encoding: its feature names are the
// column names, so it reads headed files by name and headerless ones by
// position, as any other model.
#pragma once

#include "io/csv_reader.h"
#include "model/forest.h"

namespace fb {

CsvSchema InputSchemaFor(const Forest& forest);

// True when the model's library rejects infinite input: scikit-learn's
// check_array raises "Input X contains infinity or a value too large for
// dtype('float32')" for every estimator (NaN support or not) except
// HistGradientBoosting*, which compare inf like any value. XGBoost's
// scikit-learn wrapper (inplace_predict) compares inf like any value, as do
// LightGBM and forestbatch's own models: for them inf is a value.
bool InfinityIsError(const Forest& forest);

}  // namespace fb
