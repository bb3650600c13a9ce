// Text that goes into the dashboard's HTML and URLs: escaping, and hiding
// secrets that a job's recorded options might carry.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace fb::serve {

// Escapes & < > " ' for HTML text and double- or single-quoted attribute
// values; bytes that are not valid UTF-8 become U+FFFD, so a file name of any
// bytes renders as text.
std::string HtmlEscape(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for one
// path segment or query value.
std::string UrlEncode(std::string_view text);

// Hides what looks like a secret in a recorded option or command line: the
// password of a URL (scheme://user:PASSWORD@host), the value of an option or
// NAME=VALUE whose name mentions token, secret, password, passwd, credential,
// or key, and AWS access key ids (AKIA...). Each becomes
// "[hidden]".
std::string RedactSecrets(std::string_view text);

}  // namespace fb::serve
