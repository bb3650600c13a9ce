// libFuzzer target: XGBoost JSON and UBJSON models on arbitrary bytes (the
// first byte chooses the parser). Accepted models are re-validated.
//   make fuzz && build-fuzz/fuzz/xgboost_fuzz fuzz/corpus/xgboost -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/forest_builder.h"
#include "model/import/xgboost_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view b(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = (data[0] & 1) ? fb::LoadXgboostUbjson(b) : fb::LoadXgboostJson(b);
  if (r.ok() && !fb::BuildForest(*r).ok()) __builtin_trap();
  return 0;
}
