// XGBoost models saved as JSON or UBJSON.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// Both are read first by a one-pass reader that leaves the arrays no tree
// reads unconverted (lazy_doc.h); a model it does not take, or whose
// conversion fails, is read in full (simdjson's DOM, ubjson_reader.h), which
// reports what is wrong. `readable_padding`: how many readable bytes follow
// `bytes` (the rest of a file mapping's last page, say); with simdjson's
// padding (64 bytes) the full parse reads the text where it lies instead of
// copying it first.
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

// The two ways LoadXgboostJson / LoadXgboostUbjson / LoadXgboostBoosterBuffer
// read, for the tests that check they agree.
namespace internal {
Result<Forest> LoadXgboostJsonInFull(std::string_view bytes, size_t readable_padding = 0);
Result<Forest> LoadXgboostUbjsonInFull(std::string_view bytes);
Result<Forest> LoadXgboostBoosterBufferInFull(std::string_view raw);
// nullopt: not taken (lazy_doc.h), or the conversion failed. `snapshot`: a
// booster buffer's memory snapshot (its "Model").
std::optional<Forest> LoadXgboostLazily(std::string_view bytes, bool ubjson, bool snapshot = false);
}  // namespace internal

}  // namespace fb
