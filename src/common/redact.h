// Hiding secrets that recorded options, command lines or URIs might carry,
// before they are shown (the dashboard, `status`, `jobs`).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace fb {

// Hides what looks like a secret in a recorded option or command line: the
// password of a URL (scheme://user:PASSWORD@host), the value of an option or
// NAME=VALUE whose name mentions token, secret, password, passwd, credential,
// or key, and AWS access key ids (AKIA...). Each becomes
// "[hidden]".
std::string RedactSecrets(std::string_view text);

}  // namespace fb
