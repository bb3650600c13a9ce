// CsvReader::Parse: the hot loop. Rows made only of plain integers (the
// common case in one-hot encoded data) take a tight path with no calls;
// rows of plain numbers with decimals, a second one with fast_float's calls
// alone; any other row (quotes, blanks, missing values, errors) is parsed
// again from its start by the general row parser. Inputs with categorical columns
// (raw columns of a trained model) always take the general parser, where a
// categorical field is text to look up even when it looks like a number.
#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/csv_reader.h"
#include "io/csv_reader_impl.h"
#include "io/csv_text.h"

namespace fb {
namespace {

// Integers of up to 15 digits are exact in a double, so double -> float
// rounds exactly as parsing the text to double then casting would.
constexpr long kMaxFastDigits = 15;

// Reads the run of decimal digits at *p into *v (advancing *p past it) and
// returns how many there were; the caller bounds the count.
inline long ScanDigits(const char** p, uint64_t* v) {
  const char* start = *p;
  unsigned dig;
  while ((dig = static_cast<unsigned char>(**p) - '0') < 10) {
    *v = *v * 10 + dig;
    ++*p;
  }
  return *p - start;
}

inline float IntToFloat(uint64_t v, bool neg) {
  const double dv = static_cast<double>(v);
  return static_cast<float>(neg ? -dv : dv);
}

// Field c's value into the row: at column c, or at map[c] (< 0: a column the
// model does not read).
template <bool kIdentity>
inline __attribute__((always_inline)) void PutField(float* row, int32_t c, const int32_t* map, float v) {
  if constexpr (kIdentity) {
    row[c] = v;
  } else if (map[c] >= 0) {
    row[map[c]] = v;
  }
}

// The start of the next row when the row's last field ended at p with a line
// end, else nullptr (the general parser words what is there).
inline __attribute__((always_inline)) const char* PastRowEnd(const char* p) {
  if (*p == '\n') return p + 1;
  if (*p == '\r' && p[1] == '\n') return p + 2;
  return nullptr;
}

#if defined(__SSE2__)
// The text of eight one-digit fields "0,0,0,0,0,0,0,0" followed by the
// delimiter (`last`: by '\n'), as EightDigits subtracts it.
inline __m128i EightDigitsPattern(char d, bool last) {
  const __m128i pattern = _mm_set1_epi16(static_cast<int16_t>(static_cast<uint8_t>(d) << 8 | '0'));
  return last ? _mm_insert_epi16(pattern, '\n' << 8 | '0', 7) : pattern;
}

// Eight one-digit fields at p, "d,d,d,d,d,d,d,d" followed by the delimiter
// (or by '\n'), as 8 floats at row: true, else false and nothing written.
// Reads 16 bytes at p. SSE2, the x86-64 baseline: the bytes less `pattern`
// (EightDigitsPattern) are each at most 9 (digits) or 0 (delimiters)
// exactly when they match it, and are then the 8 values as 16-bit lanes.
inline bool EightDigits(const char* p, float* row, __m128i pattern) {
  const __m128i v = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), pattern);
  const __m128i limit = _mm_set1_epi16(9);
  if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit)) != 0xFFFF) return false;
  const __m128i zero = _mm_setzero_si128();
  _mm_storeu_ps(row, _mm_cvtepi32_ps(_mm_unpacklo_epi16(v, zero)));
  _mm_storeu_ps(row + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(v, zero)));
  return true;
}
#endif

// Parses one row of plain integers; returns the start of the next row, or
// nullptr if anything in the row needs the general parser. `end`: the end of
// the chunk (the row ends with '\n' before it).
template <bool kIdentity>
inline const char* FastRow(const char* p, const char* end, float* row, int32_t nc, const int32_t* map,
                           char d) {
  for (int32_t c = 0; c < nc; ++c) {
#if defined(__SSE2__)
    if constexpr (kIdentity) {
      // Runs of one-digit fields 8 at a time, tried where two of them start
      // (so from the first field of a run, wherever it is in the row).
      if (c + 8 <= nc && end - p >= 16 && p[1] == d && p[3] == d) {
        const __m128i pattern = EightDigitsPattern(d, false);
        while (c + 8 < nc && end - p >= 16 && EightDigits(p, row + c, pattern)) {
          p += 16;
          c += 8;
        }
        if (c + 8 == nc && end - p >= 16 && EightDigits(p, row + c, EightDigitsPattern(d, true)))
          return p + 16;
      }
    }
#endif
    // One digit then the delimiter: most fields of one-hot encoded data.
    const unsigned d0 = static_cast<unsigned char>(p[0]) - '0';
    if (d0 < 10 && p[1] == d && c + 1 < nc) {
      PutField<kIdentity>(row, c, map, static_cast<float>(d0));
      p += 2;
      continue;
    }
    const bool neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    const long nd = ScanDigits(&p, &v);
    if (nd == 0 || nd > kMaxFastDigits) return nullptr;
    PutField<kIdentity>(row, c, map, IntToFloat(v, neg));
    if (c + 1 < nc) {
      if (*p != d) return nullptr;
      ++p;
    } else {
      return PastRowEnd(p);
    }
  }
  return nullptr;  // nc == 0: not reached (nc >= 1)
}

// Parses one row of plain numbers, decimal or integer (what FastRow leaves),
// each field by the same fast_float call ParseNumber makes on the whole
// field (so the same double, then float, when the number ends at the
// field's end); returns the start of the next row, or nullptr if anything in
// the row needs the general parser (blanks, '+', quotes, missing values,
// infinities, out of range, text), which words the error or the special case.
template <bool kIdentity>
const char* FastDecimalRow(const char* p, const char* end, float* row, int32_t nc, const int32_t* map,
                           char d) {
  for (int32_t c = 0; c < nc; ++c) {
    const char* digits = p + (*p == '-');
    if (static_cast<unsigned>(static_cast<unsigned char>(*digits) - '0') >= 10 && *digits != '.')
      return nullptr;
    double dv;
    const auto r = fast_float::from_chars(p, end, dv);
    if (r.ec != std::errc()) return nullptr;
    const float value = static_cast<float>(dv);
    if (!std::isfinite(value)) return nullptr;
    PutField<kIdentity>(row, c, map, value);
    p = r.ptr;
    if (c + 1 < nc) {
      if (*p != d) return nullptr;
      ++p;
    } else {
      return PastRowEnd(p);
    }
  }
  return nullptr;  // nc == 0: not reached (nc >= 1)
}

}  // namespace

// Parses the field at p (not a plain integer) and leaves p on its
// terminator: the delimiter, '\n', or the '\r' of a CRLF.
Status CsvReader::Impl::ParseField(const char*& p, const char* end, int32_t col, float* row, uint64_t line,
                                   uint64_t* extra_lines, std::string* scratch, PrepRow* prep) const {
  const char d = opt.delimiter;
  std::string_view text;
  if (*p == '"') {
    scratch->clear();
    const char* e = ReadQuotedField(p, end, d, scratch, extra_lines);
    if (e == nullptr) return InvalidData("a quoted field is never closed").At(name, line, col + 1);
    text = *scratch;
    p = e;
  } else {
    const char* e = p;
    while (*e != d && *e != '\n') ++e;              // every chunk ends with '\n'
    if (*e == '\n' && e > p && e[-1] == '\r') --e;  // leave p on the CRLF's '\r'
    text = std::string_view(p, e - p);
    p = e;
  }
  return StoreText(text, col, row, line, prep);
}

// The general row parser: any field, any error. Returns the next row start,
// or nullptr with *error set.
const char* CsvReader::Impl::ParseRow(const char* p, const char* end, float* row, uint64_t line,
                                      uint64_t* extra, std::string* scratch, Status* error,
                                      PrepRow* prep) const {
  const int32_t nc = n_columns;
  const int32_t* map = col_to_feature.data();
  const char d = opt.delimiter;
  for (int32_t c = 0; c < nc; ++c) {
    const char* s = p;
    const bool neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    const long nd = ScanDigits(&p, &v);
    char t = *p;
    if (nd > 0 && nd <= kMaxFastDigits && map[c] != kCategoricalColumn && map[c] != kPreprocessedColumn &&
        (t == d || t == '\n' || (t == '\r' && p[1] == '\n'))) {
      if (map[c] >= 0) {
        // Integers of up to kMaxFastDigits digits are exact doubles.
        row[map[c]] = schema.float64_features.empty()
                          ? IntToFloat(v, neg)
                          : FeatureValue(map[c], neg ? -static_cast<double>(v) : static_cast<double>(v));
      }
    } else {
      p = s;
      Status st = ParseField(p, end, c, row, line, extra, scratch, prep);
      if (!st.ok()) {
        *error = std::move(st);
        return nullptr;
      }
      t = *p;
    }
    if (c + 1 < nc) {
      if (t != d) {
        *error = InvalidData("the row has " + std::to_string(c + 1) + " fields but the first row has " +
                             std::to_string(nc))
                     .At(name, line, c + 2);
        return nullptr;
      }
      ++p;
    } else if (t == '\n') {
      ++p;
    } else if (t == '\r') {
      p += 2;
    } else {
      // t is the delimiter: more fields than the first row.
      int32_t n = nc;
      for (const char* x = p; x < end && *x != '\n'; ++x) n += (*x == d);
      *error = InvalidData("the row has more fields (" + std::to_string(n) + ") than the first row (" +
                           std::to_string(nc) + ")")
                   .At(name, line, nc + 1);
      return nullptr;
    }
  }
  if (prep != nullptr) {
    Status st = FinishPreprocessedRow(prep, row, line);
    if (!st.ok()) {
      *error = std::move(st);
      return nullptr;
    }
  }
  return p;
}

// The row loop of Parse, one instance per fast path: kFast 0 (categorical
// columns: the general parser only), 1 (columns are the features in order),
// 2 (mapped columns).
template <int kFast>
void CsvReader::Impl::ParseRows(const CsvChunk& chunk, CsvBlock* b) const {
  const Impl& m = *this;
  const int32_t nf = m.schema.n_features;
  const int32_t nc = m.n_columns;
  const int32_t* map = m.col_to_feature.data();
  const char d = m.opt.delimiter;
  const char* p = chunk.bytes.data();
  const char* const end = p + chunk.size;
  b->error = Status();
  size_t rows = 0;
  uint64_t lines = 0;
  size_t cap_rows = b->values.size() / nf;
  float* values = b->values.data();
  std::string scratch;
  // Preprocessing (fused into the parse): one set of registers per call.
  PrepRow prep_row;
  PrepRow* prep = nullptr;
  if (m.schema.preprocessing) {
    m.schema.preprocessing->Prepare(&prep_row);
    prep = &prep_row;
  }

  while (p < end) {
    if (*p == '\n') {
      ++p;
      ++lines;
      continue;
    }
    if (*p == '\r' && p[1] == '\n') {
      p += 2;
      ++lines;
      continue;
    }
    if (rows == cap_rows) {
      cap_rows = std::max<size_t>({cap_rows * 2, 1024, chunk.size / (2 * static_cast<size_t>(nc)) + 1});
      b->values.resize(cap_rows * nf);
      values = b->values.data();
    }
    float* row = values + rows * nf;
    if constexpr (kFast != 0) {
      const char* next = FastRow<kFast == 1>(p, end, row, nc, map, d);
      if (next == nullptr) next = FastDecimalRow<kFast == 1>(p, end, row, nc, map, d);
      if (next != nullptr) {
        p = next;
        ++lines;
        ++rows;
        continue;
      }
    }
    uint64_t extra = 0;
    const char* next = m.ParseRow(p, end, row, lines + 1, &extra, &scratch, &b->error, prep);
    if (next == nullptr) break;
    p = next;
    lines += 1 + extra;
    ++rows;
  }
  b->rows = rows;
  b->lines = lines;
}

void CsvReader::Parse(const CsvChunk& chunk, CsvBlock* b) const {
  const Impl& m = *impl_;
  const bool identity =
      m.n_columns == m.schema.n_features && std::all_of(m.col_to_feature.begin(), m.col_to_feature.end(),
                                                        [i = 0](int32_t f) mutable { return f == i++; });
  if (!m.map.categorical.empty() || !m.schema.float64_features.empty() || m.schema.preprocessing) {
    // The fast paths store float(v); float64 maps and preprocessing need the general parser.
    m.ParseRows<0>(chunk, b);
  } else if (identity) {
    m.ParseRows<1>(chunk, b);
  } else {
    m.ParseRows<2>(chunk, b);
  }
  if (!m.map.kept.empty()) m.ExtractKept(chunk, b);
}

}  // namespace fb
