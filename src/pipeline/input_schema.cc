#include "pipeline/input_schema.h"

#include <algorithm>

namespace fb {

CsvSchema InputSchemaFor(const Forest& forest) {
  CsvSchema s;
  s.n_features = forest.n_features;
  s.feature_names = forest.feature_names;
  const auto& cols = forest.encoding.columns;
  if (std::any_of(cols.begin(), cols.end(), [](const InputColumn& c) { return c.categorical(); })) {
    for (const InputColumn& c : cols) s.input_columns.push_back({c.name, c.first_feature, c.categories});
  }
  return s;
}

}  // namespace fb
