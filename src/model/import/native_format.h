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
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// The file's first bytes.
inline constexpr std::string_view kNativeMagic = "FBMODEL\x01";
inline constexpr uint16_t kNativeMajorVersion = 1;
// 1.1: LightGBM node flags, links, aggregate; 1.2: the float32-sums flag
// (XGBoost); 1.3: float64 input maps (HistGradientBoosting), the
// softmax-numpy link; 1.4: LightGBM's float64 map kinds; 1.5: the compiled
// layout's optional sections (ids kFirstLayoutSection to kLastLayoutSection);
// 1.6: each section's CRC-32 in its table entry and a CRC of the header and
// table (a load of the trees on demand reads only the sections it uses).
inline constexpr uint16_t kNativeMinorVersion = 6;

// `bytes` is a whole .fbm file (e.g. a memory-mapped one). Its layout
// sections (1.5), if any, go into Forest::stored_layout unread, named `name`
// for error messages: as views of `bytes` when `keep` keeps them alive (the
// file's mapping), else copied. Without `keep`, `bytes` may be released
// after the call returns.
//
// `trees_on_demand` (with `keep`, and a file that stores a layout): the
// trees' nodes and values are not decoded (Forest::undecoded, model/forest.h):
// the header, the tree records and the sections' sizes are checked, and the
// nodes are decoded and checked only if something asks (DecodeTrees), from
// the bytes `keep` keeps alive. From a 1.6 file it checks the CRCs of the
// header and table and of the sections it reads instead of the whole file's
// (the node and value sections' when they are decoded), so their bytes are
// never read otherwise.
Result<Forest> LoadNativeModel(std::string_view bytes, std::shared_ptr<const void> keep = nullptr,
                               std::string name = "", bool trees_on_demand = false);
// `forest` must have passed BuildForest. `layout`: the compiled layout's
// sections (id in [kFirstLayoutSection, kLastLayoutSection], bytes), as
// infer/compiled_io.h encodes them for this forest; written after the
// forest's own sections, each 64-byte aligned.
Result<std::string> SerializeNativeModel(const Forest& forest,
                                         const std::vector<std::pair<uint32_t, std::string>>& layout = {});

}  // namespace fb
