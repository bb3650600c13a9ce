// libFuzzer target: the Parquet reader on arbitrary bytes (footer, page
// headers, levels, every encoding and codec). Nothing may crash, hang or
// read out of bounds; whatever is accepted yields exactly the rows the
// footer states. The same procedure replays fuzz/corpus/parquet in
// io_test (Parquet.FuzzCorpusRegression).
//   make fuzz && build-fuzz/fuzz/parquet_fuzz fuzz/corpus/parquet -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "io/parquet_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)fb::ParquetFuzzOne(std::string(reinterpret_cast<const char*>(data), size));  // errors are fine; crashes are not
  return 0;
}
