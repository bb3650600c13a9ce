#include "model/import/xgboost_model.h"

namespace fb {
// Placeholder until the XGBoost importer lands.
Result<Forest> LoadXgboostJson(std::string_view) {
  return Unsupported("XGBoost models are not supported yet");
}
Result<Forest> LoadXgboostUbjson(std::string_view) {
  return Unsupported("XGBoost models are not supported yet");
}
}  // namespace fb
