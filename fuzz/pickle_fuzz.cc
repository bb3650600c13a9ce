// libFuzzer target: any bytes through the model loader (pickle / joblib path
// first, since the corpus holds pickles). Must never crash, hang or leak.
//   make fuzz && build-fuzz/fuzz/pickle_fuzz fuzz/corpus/pickle -max_total_time=900
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/import/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = fb::LoadModelBytes(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  (void)r;
  return 0;
}
