// Small text helpers shared by the CSV reader's pieces (internal to io/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/missing_values.h"

namespace fb {

// Removes leading/trailing ASCII white space (except the delimiter).
std::string_view TrimBlanks(std::string_view s, char delimiter);

// A whole field as a number: optional sign (a leading '+' is allowed),
// decimal/scientific, inf/infinity/nan in any case. Correctly rounded double.
bool ParseNumber(std::string_view s, double* out);

// Skips empty lines (LF or CRLF), counting them into *line.
const char* SkipBlankLines(const char* p, const char* end, uint64_t* line);

// Appends the quoted text that starts at p, just after its opening quote,
// to *out ("" inside stands for one quote), adds the newlines inside it to
// *newlines and returns the position just past its closing quote; nullptr
// when no quote closes it before `end` (*out then holds what came before the
// last quote).
const char* Unquote(const char* p, const char* end, std::string* out, uint64_t* newlines);

// Appends the field whose opening quote is at p, unquoted, to *out, and
// then, as pandas keeps it, any text between its closing quote and the
// field's end; returns the field's end: the delimiter, the '\n' or the '\r'
// of a CRLF, or `end`. nullptr when the quote is never closed.
const char* ReadQuotedField(const char* p, const char* end, char delimiter, std::string* out,
                            uint64_t* newlines);

// Splits the row starting at p into unquoted fields; *next = start of the
// following row; *lines = physical lines the row spans. False if a quoted
// field is not closed before `end`.
bool SplitRow(const char* p, const char* end, char delimiter, std::vector<std::string>* fields,
              const char** next, uint64_t* lines);

// Offset just past the last '\n' in b[0, n) (0 if none): the last row end
// when the text has no quotes.
size_t LastRowBoundary(const char* b, size_t n);

// The same with quoted fields respected: b starts at a row start; a '"'
// opens a quote only at the start of a field. 0 if no row ends in b.
size_t LastRowBoundaryQuoted(const char* b, size_t n, char delimiter);

}  // namespace fb
