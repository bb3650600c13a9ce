// XGBoost models saved as JSON or UBJSON.
#pragma once

#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

Result<Forest> LoadXgboostJson(std::string_view bytes);
Result<Forest> LoadXgboostUbjson(std::string_view bytes);

}  // namespace fb
