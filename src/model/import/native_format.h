// forestbatch's native model format (.fbm); see docs/formats/.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// The file's first bytes.
inline constexpr std::string_view kNativeMagic = "FBMODEL\x01";

Result<Forest> LoadNativeModel(std::string_view bytes);
Result<std::string> SerializeNativeModel(const Forest& forest);

}  // namespace fb
