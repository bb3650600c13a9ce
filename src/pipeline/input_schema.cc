#include "pipeline/input_schema.h"

#include <algorithm>

namespace fb {

CsvSchema InputSchemaFor(const Forest& forest) {
  CsvSchema s;
  s.n_features = forest.n_features;
  s.feature_names = forest.feature_names;
  s.preprocessing = forest.preprocessing;
  s.float64_features = forest.float64_features;
  const auto& cols = forest.encoding.columns;
  if (std::any_of(cols.begin(), cols.end(), [](const InputColumn& c) { return c.categorical(); })) {
    for (const InputColumn& c : cols) s.input_columns.push_back({c.name, c.first_feature, c.categories});
  }
  return s;
}

}  // namespace fb

namespace fb {

bool InfinityIsError(const Forest& forest) {
  const std::string& f = forest.info.source_format;
  const std::string& e = forest.info.estimator;
  const bool sklearn_file =
      f.rfind("pickle", 0) == 0 || f.rfind("joblib", 0) == 0 || f.rfind("sklearn", 0) == 0;
  const bool other_library = e.find("XGB") != std::string::npos || e.find("LGBM") != std::string::npos ||
                             e.find("LightGBM") != std::string::npos ||
                             e.find("Booster") != std::string::npos;
  // HistGradientBoosting* validate X with force_all_finite=False: inf is a value.
  const bool accepts_inf = e.rfind("HistGradientBoosting", 0) == 0;
  return sklearn_file && !other_library && !accepts_inf;
}

}  // namespace fb
