// XGBoost models saved as JSON or UBJSON.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// `readable_padding`: how many readable bytes follow `bytes` (the rest of a
// file mapping's last page, say); with simdjson's padding (64 bytes) the
// text is parsed where it lies instead of being copied first.
Result<Forest> LoadXgboostJson(std::string_view bytes, size_t readable_padding = 0);
Result<Forest> LoadXgboostUbjson(std::string_view bytes);
// The legacy binary format ("binf", 1.x save_model("model.bin")); see
// xgboost_legacy.h.
Result<Forest> LoadXgboostLegacyBinary(std::string_view bytes);
// The bytes a pickled xgboost.core.Booster keeps as its "handle" (what
// XGBoosterSerializeToBuffer wrote; src/learner.cc LearnerImpl::Save):
//   1.0-1.2: "CONFIG-offset:", int64 length, legacy binary model, JSON config;
//   1.3-1.5: JSON {"Model": <model JSON>, "Config": ...};
//   1.6-3.x: the same in UBJSON.
// Untrusted input: every layout is bounded as the file readers are.
Result<Forest> LoadXgboostBoosterBuffer(std::string_view raw);

}  // namespace fb
