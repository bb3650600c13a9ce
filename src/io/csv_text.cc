#include "io/csv_text.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cstring>

#include "io/csv_reader.h"

namespace fb {

std::string_view TrimBlanks(std::string_view s, char delimiter) {
  // pandas' number parser skips any ASCII white space around a number.
  auto blank = [delimiter](char c) {
    return (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') && c != delimiter;
  };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

bool ParseNumber(std::string_view s, double* out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') {
    ++b;
    if (b < e && (*b == '-' || *b == '+')) return false;
  }
  if (b == e) return false;
  auto r = fast_float::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e;
}

const char* SkipBlankLines(const char* p, const char* end, uint64_t* line) {
  while (p < end) {
    if (*p == '\n') {
      ++p;
    } else if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2;
    } else {
      break;
    }
    ++*line;
  }
  return p;
}

const char* Unquote(const char* p, const char* end, std::string* out, uint64_t* newlines) {
  for (;;) {
    const char* close = static_cast<const char*>(std::memchr(p, '"', end - p));
    if (close == nullptr) return nullptr;
    *newlines += std::count(p, close, '\n');
    out->append(p, close);
    p = close + 1;
    if (p < end && *p == '"') {
      out->push_back('"');
      ++p;
      continue;
    }
    return p;
  }
}

const char* ReadQuotedField(const char* p, const char* end, char delimiter, std::string* out,
                            uint64_t* newlines) {
  const char* q = Unquote(p + 1, end, out, newlines);
  if (q == nullptr) return nullptr;
  const char* e = q;
  while (e < end && *e != delimiter && *e != '\n') ++e;
  if (e < end && *e == '\n' && e > q && e[-1] == '\r') --e;
  out->append(q, e);
  return e;
}

bool SplitRow(const char* p, const char* end, char delimiter, std::vector<std::string>* fields,
              const char** next, uint64_t* lines) {
  fields->clear();
  *lines = 1;
  std::string cur;
  bool field_start = true;
  while (p < end) {
    char c = *p;
    if (field_start && c == '"') {
      p = Unquote(p + 1, end, &cur, lines);
      if (p == nullptr) {
        fields->push_back(std::move(cur));
        return false;
      }
      field_start = false;
      continue;
    }
    if (c == delimiter) {
      fields->push_back(std::move(cur));
      cur.clear();
      field_start = true;
      ++p;
      continue;
    }
    if (c == '\n' || (c == '\r' && p + 1 < end && p[1] == '\n')) {
      p += (c == '\r') ? 2 : 1;
      break;
    }
    cur.push_back(c);
    field_start = false;
    ++p;
  }
  fields->push_back(std::move(cur));
  *next = p;
  return true;
}

size_t LastRowBoundary(const char* b, size_t n) {
  const void* nl = memrchr(b, '\n', n);
  return nl ? static_cast<const char*>(nl) - b + 1 : 0;
}

size_t LastRowBoundaryQuoted(const char* b, size_t n, char delimiter) {
  size_t last = 0;
  bool field_start = true;
  size_t i = 0;
  while (i < n) {
    char c = b[i];
    if (field_start && c == '"') {
      ++i;
      for (;;) {
        const void* q = std::memchr(b + i, '"', n - i);
        if (q == nullptr) return last;
        i = static_cast<const char*>(q) - b + 1;
        // A quote at the very end may be the first half of "": undecided.
        if (i >= n) return last;
        if (b[i] == '"') {
          ++i;
          continue;
        }
        break;
      }
      field_start = false;
      continue;
    }
    if (c == delimiter) {
      field_start = true;
    } else if (c == '\n') {
      last = i + 1;
      field_start = true;
    } else {
      field_start = false;
    }
    ++i;
  }
  return last;
}

}  // namespace fb
