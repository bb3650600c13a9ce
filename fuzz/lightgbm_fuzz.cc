// libFuzzer target: LightGBM text models on arbitrary bytes. Accepted models
// are re-validated and go through the engines' differential check
// (differential.h), which covers the zero-as-missing and categorical nodes
// LightGBM adds.
//   make fuzz && build-fuzz/fuzz/lightgbm_fuzz fuzz/corpus/lightgbm -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "differential.h"
#include "model/forest_builder.h"
#include "model/import/lightgbm_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = fb::LoadLightgbmText(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  auto built = fb::BuildForest(std::move(r).value());
  if (!built.ok()) __builtin_trap();  // the loader let an invalid forest through
  fb::fuzz::CheckEnginesAgree(std::make_shared<const fb::Forest>(std::move(built).value()), data, size);
  return 0;
}
