// Text from a file, a file name, an object key or a command, made safe to
// print in an error message, a log or a terminal.
//
// Control characters (C0, DEL, the C1 range U+0080..U+009F) and bytes that
// are not UTF-8 become escapes (\n, \t, \r, \0, \xNN), so they can neither
// cut a message short (a NUL) nor drive the terminal (ESC sequences, CSI).
// Everything else, UTF-8 text included, is kept. Escaping is idempotent.
// Status::ToString() applies it to every path and message.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace fb {

std::string EscapeForMessage(std::string_view text);

// Appends `text` escaped to `*out`; with `keep_line_breaks`, '\n' and '\t'
// stay as they are (messages that list several problems, one a line).
void AppendEscapedForMessage(std::string* out, std::string_view text, bool keep_line_breaks);

}  // namespace fb
