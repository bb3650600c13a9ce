// forestbatch's native model format (.fbm): the compiled Forest, versioned,
// CRC-32 checksummed, little-endian. Byte layout and compatibility rules:
// docs/formats/fbm.md.
//
// Loading treats the bytes as untrusted: every size and offset is checked
// before use and the result goes through BuildForest. Serializing then
// loading gives a Forest equal field for field (doubles bit for bit), except
// that info.source_format records the conversion ("native (from ...)").
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// The file's first bytes.
inline constexpr std::string_view kNativeMagic = "FBMODEL\x01";
inline constexpr uint16_t kNativeMajorVersion = 1;
// 1.1: LightGBM node flags, links, aggregate; 1.2: the float32-sums flag
// (XGBoost); 1.3: float64 input maps (HistGradientBoosting), the
// softmax-numpy link; 1.4: LightGBM's float64 map kinds.
inline constexpr uint16_t kNativeMinorVersion = 4;

// `bytes` is a whole .fbm file (e.g. a memory-mapped one); it may be
// released after the call returns.
Result<Forest> LoadNativeModel(std::string_view bytes);
// `forest` must have passed BuildForest.
Result<std::string> SerializeNativeModel(const Forest& forest);

}  // namespace fb
