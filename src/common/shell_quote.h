// Quoting for POSIX shells: the one rule every generated script and command
// line uses (Slurm scripts, tune's task command, the runner's --shell mode).
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace fb {

// `s` as one word that a POSIX shell (and the runner's --exec splitter,
// runner/file_executor.h) reads back byte for byte: bare when it is not empty
// and holds only letters, digits and `@%+=:,./-_`; otherwise in single quotes,
// each embedded quote written as '\''. Any byte may appear, newlines and NUL
// excepted by the shells themselves (callers refuse those where they matter).
std::string ShellQuote(std::string_view s);

}  // namespace fb
