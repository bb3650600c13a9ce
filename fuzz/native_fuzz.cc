// libFuzzer target: the native .fbm loader on arbitrary bytes. Whatever it
// accepts must be a forest the predictors can walk: it is re-validated, rows
// made of its own thresholds (and their neighbours, NaN, infinities) are
// predicted with the reference predictor, and every compiled engine on every
// SIMD target this CPU runs must give the same sums bit for bit. A stored
// compiled layout is checked (infer/compiled_io.h) and, when accepted,
// predicted from as well.
//   make fuzz && build-fuzz/fuzz/native_fuzz fuzz/corpus/native -max_total_time=300
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "differential.h"
#include "infer/predictor.h"
#include "model/forest_builder.h"
#include "model/import/native_format.h"

// The same bytes loaded with the trees' nodes undecoded (what `predict`
// does with a mapped file: model/import/model_loader.h kTreesOnDemand). Its
// predictor reads the layout only (3 rows: the kernels on a padded tile);
// decoding on demand succeeds whenever the full load did, giving its trees,
// and otherwise only where the full load failed on the whole file's CRC
// alone (a 1.6 file loaded section by section does not read the CRC field,
// the padding or unknown sections); where both predictors read the layout
// alone (150 rows), their sums are the same bits.
void CheckTreesOnDemand(const std::string& b, const std::shared_ptr<const fb::Forest>& full,
                        const std::string& full_error, const fb::Predictor* full_p, const uint8_t* data,
                        size_t size) {
  std::shared_ptr<const void> keep(b.data(), [](const void*) {});
  auto r = fb::LoadNativeModel(b, keep, "fuzz.fbm", /*trees_on_demand=*/true);
  if (!r.ok()) return;
  auto lazy = std::make_shared<const fb::Forest>(std::move(r).value());
  auto decoded = fb::DecodedForest(lazy);
  if (full != nullptr && !decoded.ok())
    __builtin_trap();  // decoding on demand refuses what the full load took
  if (full == nullptr && decoded.ok() && full_error.find("checksum mismatch (the file") == std::string::npos)
    __builtin_trap();  // decoding on demand took what the full load refused, not for its CRC
  if (full != nullptr && decoded.ok() && (*decoded)->trees.size() != full->trees.size()) __builtin_trap();
  auto p = fb::MakeModelPredictor(lazy);
  if (!p.ok()) return;
  fb::fuzz::PredictSome(**p, *lazy, data, size);
  if (full_p == nullptr || lazy->n_features > 4096 || lazy->n_outputs > 4096 || size == 0) return;
  const size_t nf = static_cast<size_t>(lazy->n_features), rows = 150;
  std::vector<float> x(rows * nf);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(data[(i * 5) % size] % 16) - 4.0f;
  std::vector<double> a(rows * static_cast<size_t>(lazy->n_outputs)), c(a.size());
  (*p)->PredictRaw(x.data(), rows, a.data());
  full_p->PredictRaw(x.data(), rows, c.data());
  if (std::memcmp(a.data(), c.data(), a.size() * sizeof(double)) != 0) __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string b(reinterpret_cast<const char*>(data), size);
  // Random mutations almost never keep the CRC right, which would stop the
  // fuzzer at the checksum: unless the last byte is odd, write the correct
  // CRC (bytes 8..11 cover [12, end)) so the structural checks get fuzzed.
  if (b.size() >= 12 && !(b.back() & 1)) {
    // 1.6: each section's CRC (those inside the file) and the header and
    // table's too, so that a load of the trees on demand gets past them.
    if (b.size() >= 32) {
      uint32_t n;
      std::memcpy(&n, b.data() + 24, 4);
      if (n <= (b.size() - 32) / 24) {
        for (uint32_t i = 0; i < n; ++i) {
          char* e = b.data() + 32 + 24 * size_t{i};
          uint64_t off, size;
          std::memcpy(&off, e + 8, 8);
          std::memcpy(&size, e + 16, 8);
          if (off > b.size() || size > b.size() - off) continue;
          const uint32_t c = static_cast<uint32_t>(
              crc32(0L, reinterpret_cast<const Bytef*>(b.data() + off), static_cast<uInt>(size)));
          std::memcpy(e + 4, &c, 4);
        }
        uLong t = crc32(0L, reinterpret_cast<const Bytef*>(b.data() + 12), 16);
        t = crc32(t, reinterpret_cast<const Bytef*>(b.data() + 32), static_cast<uInt>(24 * size_t{n}));
        const uint32_t table = static_cast<uint32_t>(t);
        std::memcpy(b.data() + 28, &table, 4);
      }
    }
    uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(b.data() + 12), static_cast<uInt>(b.size() - 12)));
    std::memcpy(b.data() + 8, &crc, 4);
  }
  auto r = fb::LoadNativeModel(b);
  if (!r.ok()) {
    CheckTreesOnDemand(b, nullptr, r.status().ToString(), nullptr, data, size);
    return 0;
  }
  if (!fb::BuildForest(*r).ok()) __builtin_trap();  // the loader let an invalid forest through
  auto forest = std::make_shared<const fb::Forest>(std::move(r).value());
  fb::fuzz::CheckEnginesAgree(forest, data, size);
  // A stored compiled layout (1.5) that passes its checks is read in place
  // and predicted from: no read outside its arrays (ASan), no endless walk.
  // Its sums need not match the reference's (a mutated leaf value is a valid
  // layout), but a layout is never accepted for another forest's shape.
  auto p = fb::MakeModelPredictor(forest);
  if (p.ok()) fb::fuzz::PredictSome(**p, *forest, data, size);
  CheckTreesOnDemand(b, forest, "", p.ok() ? p->get() : nullptr, data, size);
  return 0;
}
