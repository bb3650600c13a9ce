// scikit-learn models from pickle and joblib files, read without Python.
#pragma once

#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// `bytes` is a whole pickle or joblib file, compressed or not.
Result<Forest> LoadSklearnPickle(std::string_view bytes);

}  // namespace fb
