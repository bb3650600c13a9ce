// A bounded UBJSON (Draft 12, as XGBoost writes it) reader into nlohmann::json.
//
// nlohmann::json::from_ubjson trusts container counts (a typed array of
// 2^60 nulls occupies 10 bytes and would loop until memory runs out), so
// model files, which are untrusted, go through this reader instead: every
// count is checked against the bytes left, nesting is limited, and errors
// are InvalidData with the byte offset. Supported: Z N T F i U I l L d D S C
// H (as a string), [ and { with the optional $type and #count forms.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace fb {

inline constexpr int kUbjsonMaxDepth = 64;

// Parses one UBJSON value that must span all of `bytes`.
Result<nlohmann::json> ParseUbjson(std::string_view bytes);

}  // namespace fb
