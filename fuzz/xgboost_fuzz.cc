// libFuzzer target: XGBoost JSON and UBJSON models, and the booster buffers
// of pickled XGBoost estimators (memory snapshots, CONFIG-offset buffers,
// legacy binary models), on arbitrary bytes (the first byte chooses the
// parser: bit 0 UBJSON, else bit 1 booster buffer, else JSON). Accepted
// models are re-validated and go through the engines' differential check
// (differential.h).
//   make fuzz && build-fuzz/fuzz/xgboost_fuzz fuzz/corpus/xgboost -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "differential.h"
#include "model/forest_builder.h"
#include "model/import/xgboost_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view b(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = (data[0] & 1)   ? fb::LoadXgboostUbjson(b)
           : (data[0] & 2) ? fb::LoadXgboostBoosterBuffer(b)
                           : fb::LoadXgboostJson(b);
  if (!r.ok()) return 0;
  auto built = fb::BuildForest(std::move(r).value());
  if (!built.ok()) __builtin_trap();  // the loader let an invalid forest through
  fb::fuzz::CheckEnginesAgree(std::make_shared<const fb::Forest>(std::move(built).value()), data, size);
  return 0;
}
