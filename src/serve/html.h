// Text that goes into the dashboard's HTML and URLs: escaping, and hiding
// secrets that a job's recorded options might carry.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/redact.h"

namespace fb::serve {

// Escapes & < > " ' for HTML text and double- or single-quoted attribute
// values; bytes that are not valid UTF-8 become U+FFFD, so a file name of any
// bytes renders as text.
std::string HtmlEscape(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for one
// path segment or query value.
std::string UrlEncode(std::string_view text);

// RedactSecrets: common/redact.h.
using fb::RedactSecrets;

}  // namespace fb::serve
