// The dashboard's stylesheet and script, compiled into the binary (pages work
// offline, and the Content-Security-Policy allows only these).
#pragma once

namespace fb::serve {

extern const char kAppCss[];
extern const char kAppJs[];

}  // namespace fb::serve
