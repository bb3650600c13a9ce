#include "io/parquet_reader.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>

#include "common/compression.h"
#include "common/format.h"
#include "common/mapped_vector.h"
#include "common/missing_values.h"
#include "common/preprocessing.h"
#include "common/text_escape.h"
#include "io/column_map.h"
#include "io/csv_text.h"
#include "io/parquet_format.h"
#include "io/parquet_simd.h"

namespace fb {

using parquet::Column;
using parquet::Meaning;
using parquet::PhysicalType;

namespace {

constexpr uint64_t kTailBytes = 64 * 1024;
constexpr uint64_t kMergeGap = 64 * 1024;
// A row group's decoded features may take at most this much memory.
constexpr uint64_t kMaxBlockBytes = uint64_t{4} << 30;

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(),
                    [](char want, char c) { return std::tolower(static_cast<unsigned char>(c)) == want; });
}

uint32_t Le32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Values of one column, one slot per row (nulls hold 0 / empty).
struct Values {
  std::vector<int64_t> i;
  std::vector<double> d;
  std::string bytes;
  std::vector<uint32_t> ends;
  std::vector<uint8_t> valid;
  size_t size() const { return valid.size(); }
};

// Dense values (no nulls) as decoded from a page or a dictionary.
struct Dense {
  std::vector<int64_t> i;
  std::vector<double> d;
  std::string bytes;
  std::vector<uint32_t> ends;
  size_t n = 0;
  void Clear() {
    i.clear();
    d.clear();
    bytes.clear();
    ends.clear();
    n = 0;
  }
  std::string_view Str(size_t k) const {
    const uint32_t b = k ? ends[k - 1] : 0;
    return std::string_view(bytes).substr(b, ends[k] - b);
  }
  void AddStr(std::string_view s) {
    bytes.append(s);
    ends.push_back(static_cast<uint32_t>(bytes.size()));
    ++n;
  }
};

enum class Store : uint8_t { kInt, kDouble, kBytes };

Store StoreOf(PhysicalType t) {
  switch (t) {
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: return Store::kDouble;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: return Store::kBytes;
    default: return Store::kInt;
  }
}

struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  size_t left() const { return static_cast<size_t>(end - p); }
};

Status Corrupt(const std::string& what) { return InvalidData(what); }

bool Varint(Cursor& c, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (c.p == c.end) return false;
    const uint8_t b = *c.p++;
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// `bw` bits (<= 64) at bit `pos` of [base, base + nbytes), LSB first.
inline uint64_t Bits(const uint8_t* base, size_t nbytes, uint64_t pos, int bw) {
  if (bw == 0) return 0;
  const size_t byte = pos >> 3;
  const int shift = static_cast<int>(pos & 7);
  if (bw <= 56 && byte + 8 <= nbytes) {
    uint64_t w;
    std::memcpy(&w, base + byte, 8);
    return (w >> shift) & ((uint64_t{1} << bw) - 1);
  }
  uint64_t v = 0;
  for (int k = 0; k < bw; ++k) {
    const uint64_t b = pos + k;
    if ((b >> 3) < nbytes && ((base[b >> 3] >> (b & 7)) & 1)) v |= uint64_t{1} << k;
  }
  return v;
}

// `groups` whole groups of 8 values of BW bits at p (8 readable bytes at
// every group's start), one 64-bit load per group, with constant shifts.
template <int BW, class T>
void UnpackGroups(const uint8_t* p, uint64_t groups, T* out) {
  constexpr uint64_t kMask = (uint64_t{1} << BW) - 1;
  for (uint64_t g = 0; g < groups; ++g, p += BW, out += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    for (int j = 0; j < 8; ++j) out[j] = static_cast<T>((w >> (j * BW)) & kMask);
  }
}

template <class T>
void UnpackGroups(int bw, const uint8_t* p, uint64_t groups, T* out) {
  switch (bw) {
    case 1: UnpackGroups<1>(p, groups, out); break;
    case 2: UnpackGroups<2>(p, groups, out); break;
    case 3: UnpackGroups<3>(p, groups, out); break;
    case 4: UnpackGroups<4>(p, groups, out); break;
    case 5: UnpackGroups<5>(p, groups, out); break;
    case 6: UnpackGroups<6>(p, groups, out); break;
    case 7: UnpackGroups<7>(p, groups, out); break;
    case 8: UnpackGroups<8>(p, groups, out); break;
    default: break;
  }
}

// The RLE / bit-packed hybrid (levels, dictionary indices, booleans): n values.
template <class T>
Status Hybrid(Cursor& c, int bw, size_t n, T* out) {
  if (bw < 0 || bw > 32) return Corrupt("bit width " + std::to_string(bw) + " out of range");
  size_t got = 0;
  while (got < n) {
    uint64_t h;
    if (!Varint(c, &h)) return Corrupt("RLE data ends early");
    if (h & 1) {
      const uint64_t groups = h >> 1;
      if (groups > c.left()) return Corrupt("bit-packed run past the end");
      const uint64_t bytes = groups * static_cast<uint64_t>(bw);
      if (bytes > c.left()) return Corrupt("bit-packed run past the end");
      const uint64_t count = groups * 8;
      uint64_t k = 0;
      if (bw > 0 && bw <= 8 && c.left() >= 8) {
        // Whole groups of 8 values (8 x bw bits) from one 64-bit load each,
        // while 8 bytes remain readable (in the run, or past it in the page:
        // bits past a group are masked off) and 8 values are wanted.
        const uint64_t whole = std::min(
            {groups, static_cast<uint64_t>((n - got) / 8), (c.left() - 8) / static_cast<uint64_t>(bw) + 1});
        UnpackGroups(bw, c.p, whole, out + got);
        got += whole * 8;
        k = whole * 8;
      }
      for (; k < count && got < n; ++k) out[got++] = static_cast<T>(Bits(c.p, bytes, k * bw, bw));
      c.p += bytes;
    } else {
      const uint64_t count = h >> 1;
      const int vb = (bw + 7) / 8;
      if (static_cast<size_t>(vb) > c.left()) return Corrupt("RLE run past the end");
      uint32_t v = 0;
      for (int k = 0; k < vb; ++k) v |= static_cast<uint32_t>(c.p[k]) << (8 * k);
      c.p += vb;
      if (bw < 32 && (v >> bw) != 0) return Corrupt("RLE value wider than its bit width");
      const uint64_t take = std::min<uint64_t>(count, n - got);
      std::fill(out + got, out + got + take, static_cast<T>(v));
      got += take;
    }
  }
  return Status::Ok();
}

// True when an RLE / bit-packed hybrid stream starts with one RLE run of
// `value` covering at least n values (reads a copy of the cursor).
bool OneRun(Cursor c, int bw, size_t n, uint32_t value) {
  uint64_t h;
  if (!Varint(c, &h) || (h & 1) || (h >> 1) < n) return false;
  const size_t vb = static_cast<size_t>((bw + 7) / 8);
  if (vb > c.left() || vb > 4) return false;
  uint32_t v = 0;
  for (size_t k = 0; k < vb; ++k) v |= static_cast<uint32_t>(c.p[k]) << (8 * k);
  return v == value;
}

Status IndexPastDictionary(uint64_t index, size_t dict_values) {
  return Corrupt("dictionary index " + std::to_string(index) + " past the dictionary's " +
                 std::to_string(dict_values) + " values");
}

// The RLE / bit-packed hybrid stream of one page's dictionary indices, read
// in pieces: its state after any number of values can be kept and resumed
// (a row group's slices start from such marks). The same checks as Hybrid.
struct HybridCursor {
  const uint8_t* p = nullptr;    // the next run's header
  const uint8_t* end = nullptr;  // the page's end
  const uint8_t* run = nullptr;  // bit-packed: the run's first byte
  uint64_t run_bytes = 0;        // bit-packed: the run's bytes
  uint64_t pos = 0;              // bit-packed: the next value's index in the run
  uint64_t left = 0;             // values left in the current run
  uint32_t value = 0;            // RLE: the run's value
  int bw = 0;
  bool packed = false;

  Status NextRun() {
    Cursor c{p, end};
    uint64_t h;
    if (!Varint(c, &h)) return Corrupt("RLE data ends early");
    if (h & 1) {
      const uint64_t groups = h >> 1;
      if (groups > c.left()) return Corrupt("bit-packed run past the end");
      const uint64_t bytes = groups * static_cast<uint64_t>(bw);
      if (bytes > c.left()) return Corrupt("bit-packed run past the end");
      packed = true;
      run = c.p;
      run_bytes = bytes;
      pos = 0;
      left = groups * 8;
      p = c.p + bytes;
    } else {
      const int vb = (bw + 7) / 8;
      if (static_cast<size_t>(vb) > c.left()) return Corrupt("RLE run past the end");
      uint32_t v = 0;
      for (int k = 0; k < vb; ++k) v |= static_cast<uint32_t>(c.p[k]) << (8 * k);
      if (bw < 32 && (v >> bw) != 0) return Corrupt("RLE value wider than its bit width");
      packed = false;
      value = v;
      left = h >> 1;
      p = c.p + vb;
    }
    return Status::Ok();
  }

  // Passes over n values (checking the runs' structure, not the indices).
  Status Skip(size_t n) {
    while (n > 0) {
      if (left == 0) {
        FB_RETURN_IF_ERROR(NextRun());
        continue;
      }
      const uint64_t take = std::min<uint64_t>(left, n);
      if (packed) pos += take;
      left -= take;
      n -= static_cast<size_t>(take);
    }
    return Status::Ok();
  }

  // The next n indices looked up in dict (dict_values of them; with bw <= 8
  // at least 256 entries readable), into out.
  Status Lookup(size_t n, const float* dict, size_t dict_values, float* out) {
    while (n > 0) {
      if (left == 0) {
        FB_RETURN_IF_ERROR(NextRun());
        continue;
      }
      const uint64_t take = std::min<uint64_t>(left, n);
      if (!packed) {
        if (value >= dict_values) return IndexPastDictionary(value, dict_values);
        std::fill_n(out, take, dict[value]);
      } else if (bw <= 8) {
        // Group by group (8 values of bw bits in bw bytes): a whole group
        // from one 64-bit load while 8 bytes remain readable in the page from
        // its start (the bits past it are masked off), part of one (where a
        // piece starts or ends inside it) likewise or bit by bit.
        uint32_t max_index = 0;
        uint64_t k = pos;
        const uint64_t stop = pos + take;
        float* o = out;
        const size_t page_left = static_cast<size_t>(end - run);
        const uint64_t readable =
            page_left >= 8 ? (page_left - 8) / static_cast<uint64_t>(std::max(bw, 1)) + 1 : 0;
        const uint32_t limit = static_cast<uint32_t>(std::min<size_t>(dict_values, 256));
        while (k < stop) {
          const uint64_t g = k / 8;
          const uint64_t j0 = k & 7;
          if (j0 == 0 && k + 8 <= stop && g < readable && bw > 0) {
            const uint64_t whole = std::min<uint64_t>((stop - k) / 8, readable - g);
            if (ChosenParquetKernels().unpack_lookup(bw, run + g * bw, whole, dict, o, limit)) {
              // Which index: the largest of these groups'.
              for (uint64_t j = k; j < k + whole * 8; ++j)
                max_index = std::max(max_index, static_cast<uint32_t>(Bits(run, run_bytes, j * bw, bw)));
            }
            k += whole * 8;
            o += whole * 8;
            continue;
          }
          const uint64_t n_here = std::min<uint64_t>(8 - j0, stop - k);
          if (g < readable) {
            uint64_t w;
            std::memcpy(&w, run + g * bw, 8);
            const uint64_t mask = (uint64_t{1} << bw) - 1;
            for (uint64_t j = j0; j < j0 + n_here; ++j) {
              const uint32_t i = static_cast<uint32_t>((w >> (j * bw)) & mask);
              max_index = std::max(max_index, i);
              *o++ = dict[i];
            }
          } else {
            for (uint64_t j = k; j < k + n_here; ++j) {
              const uint32_t i = static_cast<uint32_t>(Bits(run, run_bytes, j * bw, bw));
              max_index = std::max(max_index, i);
              *o++ = dict[i];
            }
          }
          k += n_here;
        }
        if (max_index >= dict_values) return IndexPastDictionary(max_index, dict_values);
        pos = stop;
      } else {
        for (uint64_t k = pos; k < pos + take; ++k) {
          const uint64_t i = Bits(run, run_bytes, k * bw, bw);
          if (i >= dict_values) return IndexPastDictionary(i, dict_values);
          out[k - pos] = dict[i];
        }
        pos += take;
      }
      left -= take;
      out += take;
      n -= static_cast<size_t>(take);
    }
    return Status::Ok();
  }
};

// DELTA_BINARY_PACKED: up to `max` values; leaves c after the block's data.
Status DeltaBinary(Cursor& c, size_t max, std::vector<int64_t>* out, bool is32) {
  uint64_t block, minis, total, first;
  if (!Varint(c, &block) || !Varint(c, &minis) || !Varint(c, &total) || !Varint(c, &first))
    return Corrupt("DELTA_BINARY_PACKED header ends early");
  if (block == 0 || block % 128 != 0 || block > (1u << 20) || minis == 0 || block % minis != 0 ||
      (block / minis) % 32 != 0)
    return Corrupt("bad DELTA_BINARY_PACKED block layout");
  if (total > max)
    return Corrupt("DELTA_BINARY_PACKED holds " + std::to_string(total) + " values, expected at most " +
                   std::to_string(max));
  const uint64_t per_mini = block / minis;
  const size_t base = out->size();
  out->reserve(base + total);
  uint64_t last = (first >> 1) ^ (~(first & 1) + 1);
  if (total > 0) out->push_back(is32 ? static_cast<int32_t>(last) : static_cast<int64_t>(last));
  uint64_t count = total > 0 ? 1 : 0;
  while (count < total) {
    uint64_t zmin;
    if (!Varint(c, &zmin)) return Corrupt("DELTA_BINARY_PACKED block ends early");
    const uint64_t min_delta = (zmin >> 1) ^ (~(zmin & 1) + 1);
    if (minis > c.left()) return Corrupt("DELTA_BINARY_PACKED widths past the end");
    const uint8_t* widths = c.p;
    c.p += minis;
    for (uint64_t m = 0; m < minis && count < total; ++m) {
      const int bw = widths[m];
      if (bw > 64) return Corrupt("DELTA_BINARY_PACKED bit width " + std::to_string(bw));
      const uint64_t bytes = per_mini * bw / 8;
      if (bytes > c.left()) return Corrupt("DELTA_BINARY_PACKED miniblock past the end");
      for (uint64_t j = 0; j < per_mini && count < total; ++j, ++count) {
        last += min_delta + Bits(c.p, bytes, j * bw, bw);  // wraps, as the format intends
        out->push_back(is32 ? static_cast<int32_t>(last) : static_cast<int64_t>(last));
      }
      c.p += bytes;
    }
  }
  return Status::Ok();
}

int BitWidth(uint64_t max) {
  int w = 0;
  while (max) {
    ++w;
    max >>= 1;
  }
  return w;
}

int64_t Int96ToNanos(const uint8_t* p) {
  int64_t nanos;
  int32_t julian;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&julian, p + 8, 4);
  // Wrapping (a hostile file's day far from 1970 overflows: its value is
  // then meaningless, never undefined).
  return static_cast<int64_t>(
      (static_cast<uint64_t>(static_cast<int64_t>(julian) - 2440588) * 86400000000000ULL) +
      static_cast<uint64_t>(nanos));
}

// PLAIN values of `col`'s type: exactly n of them.
Status Plain(Cursor& c, const Column& col, size_t n, Dense* out) {
  switch (col.type) {
    case PhysicalType::kBoolean: {
      if ((n + 7) / 8 > c.left()) return Corrupt("PLAIN booleans past the end");
      for (size_t k = 0; k < n; ++k) out->i.push_back((c.p[k >> 3] >> (k & 7)) & 1);
      c.p += (n + 7) / 8;
      break;
    }
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: {
      if (n > c.left() / 4) return Corrupt("PLAIN values past the end");
      for (size_t k = 0; k < n; ++k) {
        if (col.type == PhysicalType::kInt32) {
          int32_t v;
          std::memcpy(&v, c.p + 4 * k, 4);
          out->i.push_back(
              col.meaning == Meaning::kUnsignedInt ? static_cast<int64_t>(static_cast<uint32_t>(v)) : v);
        } else {
          float v;
          std::memcpy(&v, c.p + 4 * k, 4);
          out->d.push_back(v);
        }
      }
      c.p += 4 * n;
      break;
    }
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: {
      if (n > c.left() / 8) return Corrupt("PLAIN values past the end");
      // The values as they lie (little-endian, as the machine's), appended in one copy.
      auto append = [&](auto& values) {
        const size_t at = values.size();
        values.resize(at + n);
        if (n > 0) std::memcpy(values.data() + at, c.p, 8 * n);  // (no values: data() may be null)
      };
      if (col.type == PhysicalType::kInt64) {
        append(out->i);
      } else {
        append(out->d);
      }
      c.p += 8 * n;
      break;
    }
    case PhysicalType::kInt96: {
      if (n > c.left() / 12) return Corrupt("PLAIN values past the end");
      for (size_t k = 0; k < n; ++k) out->i.push_back(Int96ToNanos(c.p + 12 * k));
      c.p += 12 * n;
      break;
    }
    case PhysicalType::kByteArray: {
      for (size_t k = 0; k < n; ++k) {
        if (c.left() < 4) return Corrupt("PLAIN byte array past the end");
        const uint32_t len = Le32(reinterpret_cast<const char*>(c.p));
        c.p += 4;
        if (len > c.left()) return Corrupt("PLAIN byte array past the end");
        out->AddStr(std::string_view(reinterpret_cast<const char*>(c.p), len));
        c.p += len;
      }
      return Status::Ok();
    }
    case PhysicalType::kFixedLenByteArray: {
      const size_t w = static_cast<size_t>(col.type_length);
      if (n > c.left() / w) return Corrupt("PLAIN fixed-length values past the end");
      for (size_t k = 0; k < n; ++k)
        out->AddStr(std::string_view(reinterpret_cast<const char*>(c.p + w * k), w));
      c.p += w * n;
      return Status::Ok();
    }
  }
  out->n += n;
  return Status::Ok();
}

Status DeltaLengthByteArray(Cursor& c, size_t n, Dense* out) {
  std::vector<int64_t> lens;
  FB_RETURN_IF_ERROR(DeltaBinary(c, n, &lens, true));
  if (lens.size() != n) return Corrupt("DELTA_LENGTH_BYTE_ARRAY holds fewer values than the page");
  for (int64_t len : lens) {
    if (len < 0 || static_cast<uint64_t>(len) > c.left())
      return Corrupt("DELTA_LENGTH_BYTE_ARRAY past the end");
    out->AddStr(std::string_view(reinterpret_cast<const char*>(c.p), static_cast<size_t>(len)));
    c.p += len;
  }
  return Status::Ok();
}

Status DeltaByteArray(Cursor& c, size_t n, Dense* out) {
  std::vector<int64_t> prefix;
  FB_RETURN_IF_ERROR(DeltaBinary(c, n, &prefix, true));
  if (prefix.size() != n) return Corrupt("DELTA_BYTE_ARRAY holds fewer values than the page");
  Dense suffix;
  FB_RETURN_IF_ERROR(DeltaLengthByteArray(c, n, &suffix));
  std::string prev, cur;
  for (size_t k = 0; k < n; ++k) {
    if (prefix[k] < 0 || static_cast<size_t>(prefix[k]) > prev.size())
      return Corrupt("DELTA_BYTE_ARRAY prefix longer than the previous value");
    cur.assign(prev, 0, static_cast<size_t>(prefix[k]));
    cur.append(suffix.Str(k));
    out->AddStr(cur);
    prev.swap(cur);
  }
  return Status::Ok();
}

Status ByteStreamSplit(Cursor& c, const Column& col, size_t n, Dense* out) {
  size_t w = 0;
  switch (col.type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: w = 4; break;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: w = 8; break;
    case PhysicalType::kFixedLenByteArray: w = static_cast<size_t>(col.type_length); break;
    default: return Unsupported(std::string("BYTE_STREAM_SPLIT for ") + PhysicalTypeName(col.type));
  }
  if (n > c.left() / w) return Corrupt("BYTE_STREAM_SPLIT values past the end");
  std::string tmp(w * n, '\0');
  for (size_t k = 0; k < n; ++k)
    for (size_t b = 0; b < w; ++b) tmp[k * w + b] = static_cast<char>(c.p[b * n + k]);
  c.p += w * n;
  Cursor t{reinterpret_cast<const uint8_t*>(tmp.data()),
           reinterpret_cast<const uint8_t*>(tmp.data() + tmp.size())};
  return Plain(t, col, n, out);
}

// Appends dict[idx[k]] for k < n to out.
Status Gather(const Dense& dict, const Column& col, const uint32_t* idx, size_t n, Dense* out) {
  const Store st = StoreOf(col.type);
  for (size_t k = 0; k < n; ++k) {
    if (idx[k] >= dict.n) {
      return Corrupt("dictionary index " + std::to_string(idx[k]) + " past the dictionary's " +
                     std::to_string(dict.n) + " values");
    }
  }
  if (st == Store::kInt) {
    const size_t at = out->i.size();
    out->i.resize(at + n);
    for (size_t k = 0; k < n; ++k) out->i[at + k] = dict.i[idx[k]];
    out->n += n;
    return Status::Ok();
  }
  if (st == Store::kDouble) {
    const size_t at = out->d.size();
    out->d.resize(at + n);
    for (size_t k = 0; k < n; ++k) out->d[at + k] = dict.d[idx[k]];
    out->n += n;
    return Status::Ok();
  }
  for (size_t k = 0; k < n; ++k) {
    if (idx[k] >= dict.n) {
      return Corrupt("dictionary index " + std::to_string(idx[k]) + " past the dictionary's " +
                     std::to_string(dict.n) + " values");
    }
    switch (st) {
      case Store::kInt: out->i.push_back(dict.i[idx[k]]); break;
      case Store::kDouble: out->d.push_back(dict.d[idx[k]]); break;
      case Store::kBytes: out->AddStr(dict.Str(idx[k])); continue;
    }
    ++out->n;
  }
  return Status::Ok();
}

std::string Hex(std::string_view b) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

// A decimal's unscaled value from big-endian two's complement bytes (<= 16).
bool BigEndianToDouble(std::string_view b, double* out, __int128* exact) {
  if (b.empty() || b.size() > 16) return false;
  __int128 v = (static_cast<signed char>(b[0]) < 0) ? -1 : 0;
  for (unsigned char c : b) v = (v << 8) | c;
  *exact = v;
  *out = static_cast<double>(v);
  return true;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  std::reverse(s.begin(), s.end());
  return s;
}

// The exact decimal text of unscaled x 10^-scale.
std::string DecimalText(__int128 unscaled, int scale) {
  std::string d = Int128ToString(unscaled);
  if (scale <= 0) return d;
  bool neg = d[0] == '-';
  if (neg) d.erase(0, 1);
  if (d.size() <= static_cast<size_t>(scale)) d.insert(0, static_cast<size_t>(scale) - d.size() + 1, '0');
  d.insert(d.size() - static_cast<size_t>(scale), ".");
  return neg ? "-" + d : d;
}

// The correctly rounded double of unscaled x 10^-scale.
double DecimalValue(__int128 unscaled, int scale) {
  const double u = static_cast<double>(unscaled);
  if (scale == 0) return u;
  const bool exact =
      unscaled > -(static_cast<__int128>(1) << 53) && unscaled < (static_cast<__int128>(1) << 53);
  if (exact && scale <= 22) {
    static const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return u / kPow10[scale];  // both exact: one correctly rounded division
  }
  double v = 0;
  ParseNumber(DecimalText(unscaled, scale), &v);
  return v;
}

// Data pages kept as decompressed (WalkPages with a store): `size` bytes at
// `data`, at most `limit`; `full` once a page did not fit.
struct PageStore {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t limit = 0;
  bool full = false;
};

// A data page of a column read slice by slice: its rows in the row group and
// its values' bytes in the column's store (after the levels and, for
// dictionary indices, their bit width byte).
struct LazyPage {
  size_t first_row = 0, rows = 0;
  size_t begin = 0, end = 0;
  int bw = -1;  // dictionary indices of bw bits; -1: PLAIN numbers
};

// Where a slice's first row is: its page, and the state of that page's
// index stream there (a PLAIN page is addressed by the row).
struct LazyMark {
  size_t page = 0;
  HybridCursor h;
};

// How a PLAIN page's numbers are read.
enum class PlainKind : uint8_t { kInt32, kUInt32, kInt64, kFloat, kDouble };

// A numeric feature column (not kept) that the slices of its row group
// decode themselves, each its own rows, tile by tile, straight into the
// floats they transpose: its data pages (decompressed, kept for the row
// group), its dictionary (converted to the features' float32, padded to at
// least 256 entries, so that an index of up to 8 bits can be looked up
// before it is checked), and per slice a mark of where its first row is.
struct LazyColumn {
  bool on = false;
  PageStore store;
  std::vector<LazyPage> pages;
  std::vector<float> dict;
  size_t dict_values = 0;
  std::vector<LazyMark> marks;
  PlainKind plain = PlainKind::kInt64;
  const Float64Feature* exact = nullptr;
};

// What a slice has read of a lazy column so far.
struct LazyState {
  size_t page = 0;
  size_t row = 0;  // the next row, in the row group
  HybridCursor h;
};

}  // namespace

// Makes a row-group-sized buffer hold at least n elements, uninitialised: its
// contents are not kept (a new allocation never copies the old one, and has
// an eighth to spare, so row groups of about the same size share it). A new
// allocation of many megabytes is backed by huge pages where the kernel
// offers them on request (transparent huge pages in "madvise" mode): a row
// group's 30 MB of features is then faulted in as 15 pages, not 7,000, which
// on the seed workload cost more CPU than the decoding itself.
template <class V>
void GrowLarge(V* v, size_t n) {
  if (v->size() >= n) return;
  if (n > v->capacity()) {
    V().swap(*v);
    v->reserve(n + n / 8);
    constexpr uintptr_t kHuge = uintptr_t{2} << 20;
    const size_t bytes = v->capacity() * sizeof((*v)[0]);
    if (bytes >= 4 * kHuge) {
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(v->data()) + kHuge - 1) & ~(kHuge - 1);
      const uintptr_t end = (reinterpret_cast<uintptr_t>(v->data()) + bytes) & ~(kHuge - 1);
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // advice only
    }
  }
  v->resize(n);
}

// One row group on its way through the pipeline: its needed column chunks,
// read by NextChunk, and what its slices share of them: the first slices to
// be parsed prepare it together, column by column (each thread takes the
// next column not yet taken, then waits for the rest): a column read slice
// by slice (`lazy`) keeps its decompressed pages and marks, another is
// decoded whole.
struct ParquetGroup {
  int64_t row_group = -1;
  uint64_t first_row = 0;  // in the file, 0-based
  size_t rows = 0;
  std::vector<std::string> columns;  // per needed column: its column chunk's bytes

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next_column{0};  // the next needed column to decode
  size_t columns_done = 0;             // under mu
  bool decoded = false;                // under mu: every column decoded (or failed)
  std::vector<Status> column_error;    // per needed column
  Status error;                        // the first column's error, in column order
  bool failed_early = false;           // set by ReadGroup alone: an error before any decoding

  // Decoded, column-major, for a float slot (a numeric feature column) not
  // read slice by slice (`lazy` below): `rows` floats, or, for a column left
  // as dictionary bytes, `rows` bytes into index_dicts[slot]. Sized for
  // every float slot but written only for the columns decoded whole: mappings
  // of their own (MappedVector), so that their unwritten megabytes do not
  // take the heap's huge-page reservation from the blocks and the kernel's
  // scratch allocated after them.
  MappedVector<float> floats;
  MappedVector<uint8_t> indexes;
  std::vector<std::vector<float>> index_dicts;
  std::vector<uint8_t> slot_indexed;
  std::vector<std::vector<int32_t>> hot;  // per needed categorical column: per row its category, or -1
  std::vector<KeptValues> kept;           // per kept column, the group's rows
  std::vector<Values> prep_vals;          // models with preprocessing: per raw input
  std::vector<LazyColumn> lazy;           // per float slot: read slice by slice when `on`
  // The stores of the columns that may be read slice by slice, one after
  // another from pages_base (2 MiB aligned, backed by huge pages where the
  // kernel offers them: the row group's pages are then faulted in as one or
  // a few pages, not hundreds); per float slot its store's offset and bound.
  MappedVector<uint8_t> kept_pages;
  uint8_t* pages_base = nullptr;
  std::vector<size_t> store_at, store_limit;

  size_t Footprint() const {
    size_t n = floats.capacity() * sizeof(float) + indexes.capacity() + kept_pages.capacity();
    for (const LazyColumn& l : lazy)
      n += l.pages.capacity() * sizeof(LazyPage) + l.dict.capacity() * sizeof(float) +
           l.marks.capacity() * sizeof(LazyMark);
    for (const std::string& c : columns) n += c.capacity();
    for (const auto& h : hot) n += h.capacity() * sizeof(int32_t);
    for (const KeptValues& k : kept)
      n += k.ints.capacity() * 8 + k.doubles.capacity() * 8 + k.text.capacity() + k.ends.capacity() * 4 +
           k.valid.capacity();
    for (const Values& v : prep_vals)
      n += v.i.capacity() * 8 + v.d.capacity() * 8 + v.bytes.capacity() + v.ends.capacity() * 4 +
           v.valid.capacity();
    return n;
  }
};

namespace {

// Released row groups kept for reuse (their buffers are then not faulted in
// again for the next row group or file): at most kKeepGroups, each of at
// most kKeepGroupBytes.
constexpr size_t kKeepGroups = 2;
constexpr size_t kKeepGroupBytes = size_t{256} << 20;

struct GroupPool {
  std::mutex mu;
  std::vector<std::unique_ptr<ParquetGroup>> free;
};

GroupPool& Groups() {
  static GroupPool* pool = new GroupPool;  // never destroyed: groups may be released at exit
  return *pool;
}

void ReleaseGroup(ParquetGroup* p) {
  std::unique_ptr<ParquetGroup> g(p);
  if (g->Footprint() > kKeepGroupBytes) return;
  GroupPool& pool = Groups();
  std::lock_guard<std::mutex> lock(pool.mu);
  if (pool.free.size() < kKeepGroups) pool.free.push_back(std::move(g));
}

std::shared_ptr<ParquetGroup> AcquireGroup() {
  std::unique_ptr<ParquetGroup> g;
  {
    GroupPool& pool = Groups();
    std::lock_guard<std::mutex> lock(pool.mu);
    if (!pool.free.empty()) {
      g = std::move(pool.free.back());
      pool.free.pop_back();
    }
  }
  if (g == nullptr) g = std::make_unique<ParquetGroup>();
  return std::shared_ptr<ParquetGroup>(g.release(), ReleaseGroup);
}

// The rows [r0, r1) of a kept column's values.
void SliceKept(const KeptValues& in, size_t r0, size_t r1, KeptValues* out) {
  out->Clear();
  if (!in.ints.empty()) out->ints.assign(in.ints.begin() + r0, in.ints.begin() + r1);
  if (!in.doubles.empty()) out->doubles.assign(in.doubles.begin() + r0, in.doubles.begin() + r1);
  if (!in.ends.empty()) {
    const uint32_t from = r0 ? in.ends[r0 - 1] : 0;
    out->text.assign(in.text, from, in.ends[r1 - 1] - from);
    for (size_t r = r0; r < r1; ++r) out->ends.push_back(in.ends[r] - from);
  }
  out->valid.assign(in.valid.begin() + r0, in.valid.begin() + r1);
}

}  // namespace

bool IsParquetName(std::string_view name) {
  return EndsWithNoCase(name, ".parquet") || EndsWithNoCase(name, ".pq") || EndsWithNoCase(name, ".parq");
}

bool HasParquetMagic(std::string_view head) { return head.substr(0, 4) == "PAR1"; }

struct ParquetReader::Impl {
  std::shared_ptr<Storage> storage;
  std::string uri;
  CsvOptions opt;
  CsvSchema schema;
  parquet::FileMeta meta;
  ColumnMap map;
  std::vector<int32_t> needed;       // file columns read, ascending
  std::vector<int32_t> needed_slot;  // per file column: index in `needed`, or -1
  std::vector<int32_t> kept_needed;  // per kept column: index in `needed`
  std::vector<KeptColumnInfo> kept_info;
  std::vector<int32_t> prep_col;      // models with preprocessing: per raw input, its file column
  std::vector<uint8_t> fast_column;   // per needed column: a numeric feature, not kept (DecodeFloatColumn)
  size_t n_float_columns = 0;         // needed columns that are numeric, non-categorical features
  std::vector<int32_t> float_slot;    // per needed column: its slot among those, or -1
  std::vector<int32_t> slot_feature;  // per float slot: its feature
  std::vector<int32_t> slot_needed;   // per float slot: its needed column
  // The transposition's runs of consecutive slots of consecutive features
  // (at most 16 each), in slot order.
  std::vector<TransposeRun> transpose_runs;
  size_t slice_rows = 0;  // rows per slice: about chunk_bytes of features
  size_t next_group = 0;
  uint64_t next_first_row = 0;
  std::shared_ptr<ParquetGroup> current;  // the row group being handed out in slices
  size_t next_slice = 0;                  // its next slice's first row
  uint64_t rows_accounted = 0;
  std::atomic<uint64_t> bytes{0};
  ObjectInfo opened;  // the file's size and modification time when opened (CheckUnchanged)

  // Whether a numeric feature column may be decoded by DecodeFloatColumn:
  // integers (not decimals, not unsigned 64-bit) and floating point.
  static bool FloatPath(const Column& col);
  // A numeric feature column decoded straight into its float32 features
  // (exact: the model compares float64 inputs), `rows` of them at out: a
  // null as NaN. *special: a null or a value that is not finite was seen
  // (the caller then rereads the column by DecodeColumn for its checks).
  // With `index` not null, a column whose pages are all dictionary-encoded
  // without nulls, with at most 256 values, is left as one byte per row at
  // `index` into its converted dictionary `*index_dict` (*as_index true; a
  // quarter of the memory, gathered as the block is written), else decoded
  // into `out` (*as_index false).
  Status DecodeFloatColumn(const std::string& bytes, const Column& col, const parquet::ColumnChunk& cc,
                           int64_t rows, const Float64Feature* exact, float* out, bool* special,
                           uint8_t* index = nullptr, std::vector<float>* index_dict = nullptr,
                           bool* as_index = nullptr) const;
  Status DecodeColumn(const std::string& bytes, const Column& col, const parquet::ColumnChunk& cc,
                      int64_t rows, Values* out) const;
  // Reads row group g's needed column chunks into a group (from the pool).
  Result<std::shared_ptr<ParquetGroup>> ReadGroup(size_t g, uint64_t first_row);
  // Prepares the group's columns (DecodeOne), with any other threads doing
  // the same; returns once every column is (G.error: the first failure).
  void Decode(ParquetGroup& G) const;
  // Needed column k of the group made ready for its slices: prepared to be
  // read slice by slice (PrepareLazy), or else decoded whole.
  Status DecodeOne(ParquetGroup& G, size_t k) const;
  // Needed column k (a numeric feature, not kept) made ready to be read
  // slice by slice (G.lazy[its slot]): its data pages decompressed and kept,
  // its dictionary converted, its index streams checked and marked at every
  // slice's first row. *lazy false: the column holds what only the whole
  // column decoder reads (nulls, an encoding other than dictionary indices
  // or PLAIN numbers, a value the model refuses, pages larger than the
  // store's bound), and nothing of it is kept.
  Status PrepareLazy(ParquetGroup& G, size_t k, const Float64Feature* exact, bool* lazy) const;
  // The next n rows of a lazy column into out.
  static Status ReadLazy(const LazyColumn& L, LazyState& st, size_t n, float* out);
  // A slice of a decoded group into a block.
  Status Fill(const TableChunk& chunk, TableBlock* b) const;
  // Models with preprocessing: raw input `i` of row `r` (its column's values
  // in `v`) into the row's registers.
  Status SetPrepInput(size_t i, const Values& v, size_t r, PrepRow* prep, std::string* text) const;
  std::string Where(int64_t group, int32_t col) const {
    return "row group " + std::to_string(group) + ", column '" + meta.columns[col].name + "'";
  }
};

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetReader::~ParquetReader() = default;

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(std::shared_ptr<Storage> storage,
                                                           const std::string& uri, const CsvOptions& options,
                                                           const CsvSchema& schema) {
  // No features (and no model input columns): a reader of kept columns only
  // (the trainer reads its tables so: train/raw_table.h).
  if (schema.n_features < 0 ||
      (schema.n_features == 0 && (schema.preprocessing || !schema.input_columns.empty())))
    return InvalidArgument("the model has no features");
  auto m = std::make_unique<Impl>();
  m->storage = std::move(storage);
  m->uri = uri;
  m->opt = options;
  m->schema = schema;
  FB_ASSIGN_OR_RETURN(auto info, m->storage->Stat(uri));
  if (!info) return NotFound("no such file").At(uri);
  m->opened = *info;
  const uint64_t size = info->size;
  if (size < 12) return InvalidData("not a Parquet file: " + std::to_string(size) + " bytes").At(uri);
  const uint64_t tail_len = std::min(size, kTailBytes);
  FB_ASSIGN_OR_RETURN(std::string tail, m->storage->ReadRange(uri, size - tail_len, tail_len));
  m->bytes += tail.size();
  if (tail.size() != tail_len) return InvalidData("short read of the file's tail").At(uri);
  if (tail.compare(tail.size() - 4, 4, "PAR1") != 0)
    return InvalidData("not a Parquet file: it does not end with PAR1").At(uri);
  const uint64_t footer_len = Le32(tail.data() + tail.size() - 8);
  if (footer_len > size - 12) {
    return InvalidData("Parquet footer length " + std::to_string(footer_len) + " exceeds the file").At(uri);
  }
  std::string footer;
  if (footer_len + 8 <= tail.size()) {
    footer = tail.substr(tail.size() - 8 - footer_len, footer_len);
  } else {
    FB_ASSIGN_OR_RETURN(footer, m->storage->ReadRange(uri, size - 8 - footer_len, footer_len));
    m->bytes += footer.size();
    if (footer.size() != footer_len) return InvalidData("short read of the Parquet footer").At(uri);
  }
  auto meta = parquet::ParseFileMeta(footer, size - 8 - footer_len);
  if (!meta.ok()) return std::move(meta).take_status().At(uri);
  m->meta = std::move(meta).value();

  std::vector<std::string> names;
  for (const Column& c : m->meta.columns) names.push_back(c.name);
  if (options.keep_all_columns) m->opt.keep_columns = names;
  FB_ASSIGN_OR_RETURN(m->map, MapColumns(names, true, m->schema, m->opt.keep_columns, ',', uri, 0));
  const int32_t nc = static_cast<int32_t>(names.size());
  if (m->schema.preprocessing) {
    m->prep_col.assign(m->schema.preprocessing->inputs.size(), -1);
    for (int32_t c = 0; c < nc; ++c)
      if (m->map.col_input[c] >= 0) m->prep_col[m->map.col_input[c]] = c;
  }
  m->needed_slot.assign(nc, -1);
  std::vector<uint8_t> need(nc, 0);
  for (int32_t c = 0; c < nc; ++c)
    if (m->map.col_to_feature[c] != kIgnoredColumn) need[c] = 1;
  for (int32_t c : m->map.kept) need[c] = 1;
  for (int32_t c = 0; c < nc; ++c) {
    if (!need[c]) continue;
    const Column& col = m->meta.columns[c];
    if (col.nested || col.max_rep > 0) {
      return Unsupported("column '" + col.name + "' is nested or repeated; only flat columns can be read")
          .At(uri);
    }
    m->needed_slot[c] = static_cast<int32_t>(m->needed.size());
    m->needed.push_back(c);
  }
  m->fast_column.assign(m->needed.size(), 0);
  m->float_slot.assign(m->needed.size(), -1);
  for (size_t k = 0; k < m->needed.size(); ++k) {
    const int32_t c = m->needed[k];
    if (m->map.col_to_feature[c] >= 0) {
      m->float_slot[k] = static_cast<int32_t>(m->n_float_columns);
      m->slot_feature.push_back(m->map.col_to_feature[c]);
      m->slot_needed.push_back(static_cast<int32_t>(k));
    }
    m->n_float_columns += m->map.col_to_feature[c] >= 0;
    m->fast_column[k] = m->map.col_to_feature[c] >= 0 && Impl::FloatPath(m->meta.columns[c]) &&
                        std::find(m->map.kept.begin(), m->map.kept.end(), c) == m->map.kept.end();
  }
  for (size_t j = 0; j < m->slot_feature.size();) {
    const int32_t f = m->slot_feature[j];
    uint32_t width = 1;
    while (width < 16 && j + width < m->slot_feature.size() &&
           m->slot_feature[j + width] == f + int32_t(width))
      ++width;
    m->transpose_runs.push_back(TransposeRun{static_cast<uint32_t>(j), f, width});
    j += width;
  }
  for (size_t k = 0; k < m->map.kept.size(); ++k) {
    const int32_t c = m->map.kept[k];
    const Column& col = m->meta.columns[c];
    m->kept_needed.push_back(m->needed_slot[c]);
    KeptColumnInfo ki;
    ki.name = m->map.kept_names[k];
    switch (col.meaning) {
      case Meaning::kString: ki.type = KeptType::kString; break;
      case Meaning::kDecimal: ki.type = KeptType::kDecimal; break;
      case Meaning::kDate: ki.type = KeptType::kDate; break;
      case Meaning::kTimestamp: ki.type = KeptType::kTimestamp; break;
      case Meaning::kTime: ki.type = KeptType::kTime; break;
      case Meaning::kUnsignedInt: ki.type = KeptType::kUnsigned; break;
      default:
        switch (col.type) {
          case PhysicalType::kBoolean: ki.type = KeptType::kBool; break;
          case PhysicalType::kFloat: ki.type = KeptType::kFloat; break;
          case PhysicalType::kDouble: ki.type = KeptType::kDouble; break;
          case PhysicalType::kByteArray:
          case PhysicalType::kFixedLenByteArray: ki.type = KeptType::kString; break;
          default: ki.type = KeptType::kInt; break;
        }
    }
    ki.unit = col.unit == parquet::TimeUnit::kMillis  ? KeptUnit::kMillis
              : col.unit == parquet::TimeUnit::kNanos ? KeptUnit::kNanos
                                                      : KeptUnit::kMicros;
    ki.utc = col.utc;
    ki.bit_width = col.bit_width;
    if (ki.type == KeptType::kInt && col.type == PhysicalType::kInt32 && ki.bit_width == 0) ki.bit_width = 32;
    m->kept_info.push_back(std::move(ki));
  }
  m->slice_rows = std::max<size_t>(
      64,
      m->opt.chunk_bytes / (sizeof(float) * static_cast<size_t>(std::max<int32_t>(1, m->schema.n_features))));
  // Codecs and encodings of needed chunks are checked as pages are read; a
  // codec we cannot read is reported now, before any work.
  for (size_t g = 0; g < m->meta.row_groups.size(); ++g) {
    for (int32_t c : m->needed) {
      const int32_t codec = m->meta.row_groups[g].columns[c].codec;
      if (codec == 3 || codec == 4 || codec == 5 || codec < 0 || codec > 7) {
        return Unsupported(std::string("Parquet codec ") + parquet::CodecName(codec) + " in " +
                           m->Where(g, c) + " (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)")
            .At(uri);
      }
    }
  }
  return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(m)));
}

Result<bool> ParquetReader::NextChunk(TableChunk* chunk) {
  Impl& m = *impl_;
  chunk->group.reset();
  chunk->size = 0;
  if (m.current == nullptr || m.next_slice >= m.current->rows) {
    m.current.reset();  // its slices still in flight keep it
    // The next row group with rows (an empty one has nothing to hand out).
    size_t g = 0;
    uint64_t first_row = 0;
    for (;;) {
      if (m.next_group >= m.meta.row_groups.size()) return false;
      g = m.next_group++;
      first_row = m.next_first_row;
      m.next_first_row += static_cast<uint64_t>(m.meta.row_groups[g].num_rows);
      if (m.meta.row_groups[g].num_rows > 0) break;
    }
    FB_ASSIGN_OR_RETURN(m.current, m.ReadGroup(g, first_row));
    m.next_slice = 0;
  }
  ParquetGroup& G = *m.current;
  chunk->group = m.current;
  chunk->slice_begin = m.next_slice;
  // A row group that failed before decoding is one slice: its error.
  chunk->slice_end = G.failed_early ? G.rows : std::min(G.rows, m.next_slice + m.slice_rows);
  m.next_slice = chunk->slice_end;
  return true;
}

Result<std::shared_ptr<ParquetGroup>> ParquetReader::Impl::ReadGroup(size_t g, uint64_t first_row) {
  const parquet::RowGroup& rg = meta.row_groups[g];
  std::shared_ptr<ParquetGroup> group = AcquireGroup();
  ParquetGroup& G = *group;
  G.row_group = static_cast<int64_t>(g);
  G.first_row = first_row;
  G.rows = static_cast<size_t>(rg.num_rows);
  G.next_column.store(0);
  G.columns_done = 0;
  G.decoded = needed.empty();
  G.failed_early = false;
  G.error = Status::Ok();
  G.column_error.assign(needed.size(), Status::Ok());
  G.columns.resize(needed.size());
  const int32_t nf = schema.n_features;
  if (static_cast<uint64_t>(G.rows) * static_cast<uint64_t>(nf) * sizeof(float) > kMaxBlockBytes) {
    G.error = Unsupported("row group " + std::to_string(g) + " has " + std::to_string(G.rows) +
                          " rows: its features would need more than " + std::to_string(kMaxBlockBytes >> 30) +
                          " GiB (write the file with smaller row groups)")
                  .At(uri);
    G.decoded = true;
    G.failed_early = true;
    G.next_column.store(needed.size());  // nothing to decode
    return group;
  }
  // Needed chunks in file order; neighbours closer than kMergeGap share a read.
  std::vector<size_t> order(needed.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return rg.columns[needed[a]].start < rg.columns[needed[b]].start; });
  for (size_t i = 0; i < order.size();) {
    const parquet::ColumnChunk& first = rg.columns[needed[order[i]]];
    uint64_t begin = static_cast<uint64_t>(first.start);
    uint64_t end = begin + static_cast<uint64_t>(first.length);
    size_t j = i + 1;
    while (j < order.size()) {
      const parquet::ColumnChunk& c = rg.columns[needed[order[j]]];
      if (static_cast<uint64_t>(c.start) > end + kMergeGap) break;
      end = std::max(end, static_cast<uint64_t>(c.start + c.length));
      ++j;
    }
    FB_ASSIGN_OR_RETURN(std::string bytes, storage->ReadRange(uri, begin, end - begin));
    this->bytes += bytes.size();
    if (bytes.size() != end - begin)
      return InvalidData("short read of " + Where(g, needed[order[i]])).At(uri);
    for (size_t k = i; k < j; ++k) {
      const parquet::ColumnChunk& c = rg.columns[needed[order[k]]];
      G.columns[order[k]].assign(bytes, static_cast<uint64_t>(c.start) - begin,
                                 static_cast<size_t>(c.length));
    }
    i = j;
  }
  // Room for the decoded columns, sized before any thread decodes.
  const size_t rows = G.rows;
  GrowLarge(&G.floats, rows * n_float_columns);
  GrowLarge(&G.indexes, rows * n_float_columns);
  G.index_dicts.resize(n_float_columns);
  G.slot_indexed.assign(n_float_columns, 0);
  G.hot.resize(needed.size());
  G.lazy.resize(n_float_columns);
  for (LazyColumn& l : G.lazy) l.on = false;
  // The stores of the columns that may be read slice by slice: each as large
  // as its chunk's stated uncompressed size (headers and dictionary included:
  // more than its data pages take), at most 9 bytes a row (dictionary
  // indices take at most 4, PLAIN numbers 8) plus 64 KiB, and at most 64
  // times its compressed bytes plus 64 KiB (so that a small hostile file
  // cannot claim gigabytes). A column whose pages do not fit is decoded
  // whole, one page at a time.
  G.store_at.assign(n_float_columns, 0);
  G.store_limit.assign(n_float_columns, 0);
  size_t total = 0;
  for (size_t k = 0; k < needed.size(); ++k) {
    const int32_t slot = float_slot[k];
    if (slot < 0 || !fast_column[k]) continue;
    const parquet::ColumnChunk& cc = rg.columns[needed[k]];
    const size_t stated =
        cc.total_uncompressed_size > 0 ? static_cast<size_t>(cc.total_uncompressed_size) : 0;
    const size_t limit = std::min(
        {stated, 9 * rows + (size_t{64} << 10), 64 * static_cast<size_t>(cc.length) + (size_t{64} << 10)});
    G.store_at[slot] = total;
    G.store_limit[slot] = limit;
    total += (limit + 63) & ~size_t{63};
  }
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t span = (total + kHuge - 1) & ~(kHuge - 1);
  if (G.kept_pages.size() < span + kHuge) {
    MappedVector<uint8_t>().swap(G.kept_pages);
    G.kept_pages.resize(span + span / 8 + kHuge);
  }
  const uintptr_t at = reinterpret_cast<uintptr_t>(G.kept_pages.data());
  G.pages_base = G.kept_pages.data() + (((at + kHuge - 1) & ~(kHuge - 1)) - at);
  if (total >= kHuge / 2) madvise(G.pages_base, span, MADV_HUGEPAGE);  // advice only
  G.kept.resize(map.kept.size());
  G.prep_vals.resize(prep_col.size());
  return group;
}

namespace {

// The pages of one column chunk, in order: checks and decompresses each page,
// reads a data page's definition levels, and hands over its values.
//   on_dict(Cursor& c, size_t n): a dictionary page of n PLAIN values;
//   on_page(const PageHeader& h, Cursor& c, size_t n, size_t present,
//           const uint32_t* levels): a data page of n rows, `present` of
//           them with a value (levels[k] == max_def), its values at c.
// Stops with an error, or once the row group's rows are covered.
// With `keep`, the data pages are decompressed (or copied) one after another
// into keep->bytes, which keeps them for later reading; a page that would
// take it past keep->limit stops the walk (keep->full, with an error).
template <class OnDict, class OnPage>
Status WalkPages(const std::string& bytes, const Column& col, const parquet::ColumnChunk& cc, size_t n_rows,
                 OnDict&& on_dict, OnPage&& on_page, PageStore* keep = nullptr) {
  // Per-thread scratch, reused from column to column and row group to row group.
  thread_local std::string page;
  thread_local std::vector<uint32_t> levels;
  bool have_dict = false;
  const Compression codec = cc.codec == 1   ? Compression::kSnappy
                            : cc.codec == 2 ? Compression::kGzip
                            : cc.codec == 6 ? Compression::kZstd
                            : cc.codec == 7 ? Compression::kLz4Raw
                                            : Compression::kNone;
  size_t done = 0;
  size_t pos = 0;
  while (done < n_rows) {
    if (pos >= bytes.size()) {
      return Corrupt("the column chunk ends after " + std::to_string(done) + " of " + std::to_string(n_rows) +
                     " rows");
    }
    size_t hdr = 0;
    FB_ASSIGN_OR_RETURN(parquet::PageHeader h,
                        parquet::ParsePageHeader(std::string_view(bytes).substr(pos), &hdr));
    pos += hdr;
    if (static_cast<size_t>(h.compressed_size) > bytes.size() - pos)
      return Corrupt("a page runs past its column chunk");
    const std::string_view raw(bytes.data() + pos, static_cast<size_t>(h.compressed_size));
    pos += static_cast<size_t>(h.compressed_size);
    if (static_cast<size_t>(h.uncompressed_size) > kMaxPageBytes) {
      return Corrupt("a page of " + std::to_string(h.uncompressed_size) + " bytes (more than " +
                     std::to_string(kMaxPageBytes) + ")");
    }
    const auto type = static_cast<parquet::PageType>(h.type);
    if (type == parquet::PageType::kIndexPage) continue;
    if (type != parquet::PageType::kDataPage && type != parquet::PageType::kDictionaryPage &&
        type != parquet::PageType::kDataPageV2) {
      return Corrupt("unknown page type " + std::to_string(h.type));
    }
    // Levels of a v2 page are stored uncompressed in front of the values.
    size_t level_bytes = 0;
    if (type == parquet::PageType::kDataPageV2) {
      level_bytes = static_cast<size_t>(h.def_bytes) + static_cast<size_t>(h.rep_bytes);
      if (level_bytes > raw.size() || level_bytes > static_cast<size_t>(h.uncompressed_size))
        return Corrupt("page levels larger than the page");
    }
    const bool compressed = type != parquet::PageType::kDataPageV2 || h.is_compressed;
    Cursor c;
    if (keep != nullptr && type != parquet::PageType::kDictionaryPage) {
      // Kept: at the end of the store (the sizes checked as below).
      const size_t size = static_cast<size_t>(h.uncompressed_size);
      if (size > keep->limit - keep->size) {
        keep->full = true;
        return Corrupt("the column's pages exceed the store kept for them");
      }
      const size_t at = keep->size;
      keep->size += size;
      char* dst = reinterpret_cast<char*>(keep->data + at);
      if (!compressed || codec == Compression::kNone) {
        if (h.uncompressed_size != h.compressed_size)
          return Corrupt("an uncompressed page of " + std::to_string(h.compressed_size) + " bytes states " +
                         std::to_string(h.uncompressed_size));
        if (size) std::memcpy(dst, raw.data(), size);
      } else {
        if (level_bytes) std::memcpy(dst, raw.data(), level_bytes);
        FB_RETURN_IF_ERROR(
            DecompressExact(raw.substr(level_bytes), codec, dst + level_bytes, size - level_bytes));
      }
      c = Cursor{keep->data + at, keep->data + at + size};
    } else if (!compressed || codec == Compression::kNone) {
      // Stored as is: read in place (the sizes must agree, as when inflating).
      if (h.uncompressed_size != h.compressed_size)
        return Corrupt("an uncompressed page of " + std::to_string(h.compressed_size) + " bytes states " +
                       std::to_string(h.uncompressed_size));
      c = Cursor{reinterpret_cast<const uint8_t*>(raw.data()),
                 reinterpret_cast<const uint8_t*>(raw.data() + raw.size())};
    } else {
      page.resize(static_cast<size_t>(h.uncompressed_size));
      if (level_bytes) std::memcpy(page.data(), raw.data(), level_bytes);
      FB_RETURN_IF_ERROR(DecompressExact(raw.substr(level_bytes), codec, page.data() + level_bytes,
                                         page.size() - level_bytes));
      c = Cursor{reinterpret_cast<const uint8_t*>(page.data()),
                 reinterpret_cast<const uint8_t*>(page.data() + page.size())};
    }
    if (type == parquet::PageType::kDictionaryPage) {
      if (have_dict) return Corrupt("a second dictionary page");
      if (h.encoding != 0 && h.encoding != 2)
        return Unsupported(std::string("dictionary page encoding ") + parquet::EncodingName(h.encoding));
      FB_RETURN_IF_ERROR(on_dict(c, static_cast<size_t>(h.num_values)));
      have_dict = true;
      continue;
    }
    const size_t n = static_cast<size_t>(h.num_values);
    if (n > n_rows - done) {
      return Corrupt("a page holds " + std::to_string(n) + " values, more than the " +
                     std::to_string(n_rows - done) + " rows left in the row group");
    }
    if ((h.encoding == 2 || h.encoding == 8) && !have_dict)
      return Corrupt("dictionary-encoded page without a dictionary");
    // Definition levels: which of the page's n slots hold a value.
    size_t present = n;
    const uint32_t* lv = nullptr;
    if (col.max_def > 0) {
      const int bw = BitWidth(static_cast<uint64_t>(col.max_def));
      Cursor lc;
      if (type == parquet::PageType::kDataPageV2) {
        lc = Cursor{c.p + h.rep_bytes, c.p + h.rep_bytes + h.def_bytes};
      } else {
        if (h.def_encoding != 3)
          return Unsupported(std::string("definition levels encoded as ") +
                             parquet::EncodingName(h.def_encoding));
        if (c.left() < 4) return Corrupt("definition levels past the end");
        const uint32_t len = Le32(reinterpret_cast<const char*>(c.p));
        c.p += 4;
        if (len > c.left()) return Corrupt("definition levels past the end");
        lc = Cursor{c.p, c.p + len};
        c.p += len;
      }
      const uint32_t max_def = static_cast<uint32_t>(col.max_def);
      // A page without nulls usually says so in one RLE run: no per-row scan.
      if (!OneRun(lc, bw, n, max_def)) {
        levels.resize(n);
        FB_RETURN_IF_ERROR(Hybrid(lc, bw, n, levels.data()));
        uint32_t above = 0;
        present = 0;
        for (size_t k = 0; k < n; ++k) {
          above |= levels[k] > max_def;
          present += levels[k] == max_def;
        }
        if (above) return Corrupt("definition level above the column's maximum");
        if (present < n) lv = levels.data();
      }
    }
    if (type == parquet::PageType::kDataPageV2) c.p += level_bytes;
    FB_RETURN_IF_ERROR(on_page(h, c, n, present, lv));
    done += n;
  }
  return Status::Ok();
}

// A data page's `present` values in its encoding (dictionary indices
// resolved through `dict`), into out.
Status PageValues(const parquet::PageHeader& h, Cursor& c, const Column& col, size_t present,
                  const Dense& dict, Dense* out) {
  thread_local std::vector<uint32_t> idx;
  const Store st = StoreOf(col.type);
  out->Clear();
  switch (h.encoding) {
    case 0: FB_RETURN_IF_ERROR(Plain(c, col, present, out)); break;
    case 2:
    case 8: {
      if (present > 0) {
        if (c.left() < 1) return Corrupt("dictionary indices past the end");
        const int bw = *c.p++;
        idx.resize(present);
        FB_RETURN_IF_ERROR(Hybrid(c, bw, present, idx.data()));
        FB_RETURN_IF_ERROR(Gather(dict, col, idx.data(), present, out));
      }
      break;
    }
    case 3: {
      if (col.type != PhysicalType::kBoolean) return Unsupported("RLE values other than booleans");
      // Boolean RLE values always carry a 4-byte length (pages v1 and v2);
      // the runs themselves say where they end.
      if (c.left() < 4) return Corrupt("RLE booleans past the end");
      c.p += 4;
      idx.resize(present);
      FB_RETURN_IF_ERROR(Hybrid(c, 1, present, idx.data()));
      for (size_t k = 0; k < present; ++k) out->i.push_back(idx[k]);
      out->n = present;
      break;
    }
    case 5: {
      if (col.type != PhysicalType::kInt32 && col.type != PhysicalType::kInt64)
        return Corrupt("DELTA_BINARY_PACKED on a non-integer column");
      FB_RETURN_IF_ERROR(DeltaBinary(c, present, &out->i, col.type == PhysicalType::kInt32));
      if (out->i.size() != present) return Corrupt("DELTA_BINARY_PACKED holds fewer values than the page");
      if (col.meaning == Meaning::kUnsignedInt && col.type == PhysicalType::kInt32)
        for (int64_t& v : out->i) v = static_cast<uint32_t>(v);
      out->n = present;
      break;
    }
    case 6:
      if (col.type != PhysicalType::kByteArray)
        return Corrupt("DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
      FB_RETURN_IF_ERROR(DeltaLengthByteArray(c, present, out));
      break;
    case 7:
      if (st != Store::kBytes) return Corrupt("DELTA_BYTE_ARRAY on a non-byte-array column");
      FB_RETURN_IF_ERROR(DeltaByteArray(c, present, out));
      break;
    case 9: FB_RETURN_IF_ERROR(ByteStreamSplit(c, col, present, out)); break;
    default: return Unsupported(std::string("Parquet encoding ") + parquet::EncodingName(h.encoding));
  }
  if (out->n != present) return Corrupt("a page holds fewer values than its levels say");
  return Status::Ok();
}

}  // namespace

Status ParquetReader::Impl::DecodeColumn(const std::string& bytes, const Column& col,
                                         const parquet::ColumnChunk& cc, int64_t rows, Values* out) const {
  const Store st = StoreOf(col.type);
  out->i.clear();
  out->d.clear();
  out->bytes.clear();
  out->ends.clear();
  out->valid.clear();
  const size_t n_rows = static_cast<size_t>(rows);
  out->valid.reserve(n_rows);
  thread_local Dense dict, page_values;
  dict.Clear();
  auto on_dict = [&](Cursor& c, size_t n) { return Plain(c, col, n, &dict); };
  auto on_page = [&](const parquet::PageHeader& h, Cursor& c, size_t n, size_t present,
                     const uint32_t* levels) -> Status {
    FB_RETURN_IF_ERROR(PageValues(h, c, col, present, dict, &page_values));
    // Scatter into one slot per row (a plain copy when the page has no nulls).
    if (levels == nullptr && st != Store::kBytes) {
      out->valid.insert(out->valid.end(), n, 1);
      if (st == Store::kInt) {
        out->i.insert(out->i.end(), page_values.i.begin(), page_values.i.begin() + n);
      } else {
        out->d.insert(out->d.end(), page_values.d.begin(), page_values.d.begin() + n);
      }
      return Status::Ok();
    }
    const uint32_t max_def = static_cast<uint32_t>(col.max_def);
    size_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      const bool ok = levels == nullptr || levels[k] == max_def;
      out->valid.push_back(ok);
      switch (st) {
        case Store::kInt: out->i.push_back(ok ? page_values.i[v] : 0); break;
        case Store::kDouble: out->d.push_back(ok ? page_values.d[v] : 0.0); break;
        case Store::kBytes:
          if (ok) out->bytes.append(page_values.Str(v));
          out->ends.push_back(static_cast<uint32_t>(out->bytes.size()));
          break;
      }
      v += ok;
    }
    return Status::Ok();
  };
  return WalkPages(bytes, col, cc, n_rows, on_dict, on_page);
}

bool ParquetReader::Impl::FloatPath(const Column& col) {
  const Store st = StoreOf(col.type);
  if (st == Store::kDouble) return true;
  return st == Store::kInt && col.meaning != Meaning::kDecimal &&
         !(col.meaning == Meaning::kUnsignedInt && col.type == PhysicalType::kInt64);
}

Status ParquetReader::Impl::DecodeFloatColumn(const std::string& bytes, const Column& col,
                                              const parquet::ColumnChunk& cc, int64_t rows,
                                              const Float64Feature* exact, float* out, bool* special,
                                              uint8_t* index, std::vector<float>* index_dict,
                                              bool* as_index) const {
  const bool is_int = StoreOf(col.type) == Store::kInt;
  auto conv = [&](double v) {
    return exact != nullptr ? Float64FeatureValue(*exact, v) : static_cast<float>(v);
  };
  thread_local Dense dict, page_values;
  thread_local std::vector<float> fdict, tmp;
  thread_local std::vector<uint32_t> idx;
  bool dict_special = false;
  bool any_special = false;
  size_t at = 0;                    // rows written
  bool indexed = index != nullptr;  // rows so far are bytes at `index`
  // Leaves index mode: the rows so far become floats.
  auto demote = [&] {
    if (!indexed) return;
    indexed = false;
    for (size_t k = 0; k < at; ++k) out[k] = fdict[index[k]];
  };
  auto on_dict = [&](Cursor& c, size_t n) -> Status {
    dict.Clear();
    FB_RETURN_IF_ERROR(Plain(c, col, n, &dict));
    // Each dictionary value converted once, not once per row.
    fdict.resize(dict.n);
    for (size_t k = 0; k < dict.n; ++k) {
      fdict[k] = conv(is_int ? static_cast<double>(dict.i[k]) : dict.d[k]);
      dict_special |= !std::isfinite(fdict[k]);
    }
    if (fdict.size() > 256) demote();
    return Status::Ok();
  };
  auto on_page = [&](const parquet::PageHeader& h, Cursor& c, size_t n, size_t present,
                     const uint32_t* levels) -> Status {
    // Nulls, another encoding or indices wider than a byte: floats from here on.
    if (levels != nullptr || (h.encoding != 2 && h.encoding != 8) ||
        (present > 0 && c.left() > 0 && *c.p > 8))
      demote();
    if (indexed) {
      if (present > 0) {
        if (c.left() < 1) return Corrupt("dictionary indices past the end");
        const int bw = *c.p++;
        uint8_t* dst = index + at;
        FB_RETURN_IF_ERROR(Hybrid(c, bw, present, dst));
        uint8_t max_index = 0;
        for (size_t k = 0; k < present; ++k) max_index = std::max(max_index, dst[k]);
        if (max_index >= fdict.size()) {
          return Corrupt("dictionary index " + std::to_string(max_index) + " past the dictionary's " +
                         std::to_string(fdict.size()) + " values");
        }
        any_special |= dict_special;
      }
      at += n;
      return Status::Ok();
    }
    // Values land straight in `out` when the page has no nulls.
    float* dst = out + at;
    if (levels != nullptr) {
      tmp.resize(present);
      dst = tmp.data();
      any_special = true;  // a null
    }
    if (h.encoding == 2 || h.encoding == 8) {
      if (present > 0) {
        if (c.left() < 1) return Corrupt("dictionary indices past the end");
        const int bw = *c.p++;
        idx.resize(present);
        FB_RETURN_IF_ERROR(Hybrid(c, bw, present, idx.data()));
        uint32_t max_index = 0;
        for (size_t k = 0; k < present; ++k) max_index = std::max(max_index, idx[k]);
        if (max_index >= fdict.size()) {
          return Corrupt("dictionary index " + std::to_string(max_index) + " past the dictionary's " +
                         std::to_string(fdict.size()) + " values");
        }
        const float* fd = fdict.data();
        for (size_t k = 0; k < present; ++k) dst[k] = fd[idx[k]];
        any_special |= dict_special;
      }
    } else {
      FB_RETURN_IF_ERROR(PageValues(h, c, col, present, dict, &page_values));
      bool sp = false;
      if (is_int) {
        for (size_t k = 0; k < present; ++k) dst[k] = conv(static_cast<double>(page_values.i[k]));
      } else {
        for (size_t k = 0; k < present; ++k) {
          dst[k] = conv(page_values.d[k]);
          sp |= !std::isfinite(dst[k]);
        }
      }
      any_special |= sp;
    }
    if (levels != nullptr) {
      const uint32_t max_def = static_cast<uint32_t>(col.max_def);
      size_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        if (levels[k] == max_def) {
          out[at + k] = tmp[v++];
        } else {
          out[at + k] = std::numeric_limits<float>::quiet_NaN();
        }
      }
    }
    at += n;
    return Status::Ok();
  };
  FB_RETURN_IF_ERROR(WalkPages(bytes, col, cc, static_cast<size_t>(rows), on_dict, on_page));
  if (indexed && at > 0 && fdict.empty()) return Corrupt("dictionary-encoded page without a dictionary");
  if (as_index != nullptr) *as_index = indexed;
  if (indexed) index_dict->assign(fdict.begin(), fdict.end());
  *special = any_special;
  return Status::Ok();
}

namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  *y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y += (*m <= 2);
}

}  // namespace

std::string KeptDateText(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string KeptTimestampText(int64_t v, KeptUnit unit, bool utc, bool time_of_day) {
  const int64_t per_sec = unit == KeptUnit::kMillis ? 1000 : unit == KeptUnit::kMicros ? 1000000 : 1000000000;
  int64_t secs = v / per_sec, frac = v % per_sec;
  if (frac < 0) {
    frac += per_sec;
    --secs;
  }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  char buf[64];
  const int digits = unit == KeptUnit::kMillis ? 3 : unit == KeptUnit::kMicros ? 6 : 9;
  std::string date = time_of_day ? "" : KeptDateText(days) + "T";
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%0*lld", static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60), digits,
                static_cast<long long>(frac));
  return date + buf + (utc && !time_of_day ? "Z" : "");
}

void ParquetReader::Impl::Decode(ParquetGroup& G) const {
  const size_t n = needed.size();
  for (size_t k; (k = G.next_column.fetch_add(1)) < n;) {
    Status st = DecodeOne(G, k);
    std::lock_guard<std::mutex> lock(G.mu);
    G.column_error[k] = std::move(st);
    if (++G.columns_done == n) {
      for (const Status& e : G.column_error) {
        if (!e.ok()) {
          G.error = e;
          break;
        }
      }
      G.decoded = true;
      G.cv.notify_all();
    }
  }
  std::unique_lock<std::mutex> lock(G.mu);
  G.cv.wait(lock, [&G] { return G.decoded; });
}

Status ParquetReader::Impl::DecodeOne(ParquetGroup& G, size_t k) const {
  const int64_t g = G.row_group;
  const parquet::RowGroup& rg = meta.row_groups[static_cast<size_t>(g)];
  const size_t rows = G.rows;
  const int32_t c = needed[k];
  const Column& col = meta.columns[c];
  const int32_t prep_input = map.col_input.empty() ? -1 : map.col_input[c];
  const int32_t feature = map.col_to_feature[c];
  const int32_t slot = float_slot[k];
  float* fc = slot >= 0 ? G.floats.data() + static_cast<size_t>(slot) * rows : nullptr;
  if (feature >= 0 && fast_column[k]) {
    // A numeric feature that is not kept: read slice by slice where it can
    // be; else decoded straight into floats, or left as one byte per row
    // into its dictionary.
    const Float64Feature* exact =
        schema.float64_features.empty() ? nullptr : &schema.float64_features[feature];
    bool lazy = false;
    Status st = PrepareLazy(G, k, exact, &lazy);
    if (!st.ok()) {
      return Status(st.code(), Where(g, c) + ": " + st.message()).At(uri, 0, static_cast<uint64_t>(c) + 1);
    }
    if (lazy) return Status::Ok();
    bool special = false, as_index = false;
    st = DecodeFloatColumn(G.columns[k], col, rg.columns[c], rg.num_rows, exact, fc, &special,
                           G.indexes.data() + static_cast<size_t>(slot) * rows, &G.index_dicts[slot],
                           &as_index);
    if (!st.ok()) {
      return Status(st.code(), Where(g, c) + ": " + st.message()).At(uri, 0, static_cast<uint64_t>(c) + 1);
    }
    if (!special || !(opt.missing_is_error || opt.infinity_is_error)) {
      G.slot_indexed[slot] = as_index;
      return Status::Ok();
    }
    // A null or a value that is not finite, for a model that refuses one:
    // the general path below finds the row and says why.
  }
  // Values of a column that is not a raw preprocessing input live per thread
  // (the pool's threads decode one column after another).
  thread_local Values scratch_vals;
  Values& vals = prep_input >= 0 ? G.prep_vals[prep_input] : scratch_vals;
  Status st = DecodeColumn(G.columns[k], col, rg.columns[c], rg.num_rows, &vals);
  if (!st.ok()) {
    return Status(st.code(), Where(g, c) + ": " + st.message()).At(uri, 0, static_cast<uint64_t>(c) + 1);
  }
  const Store store = StoreOf(col.type);
  // Features.
  const int32_t f = map.col_to_feature[c];
  if (f >= 0 || f == kCategoricalColumn) {
    const ColumnMap::Categorical* cat =
        f == kCategoricalColumn ? &map.categorical[map.col_categorical[c]] : nullptr;
    int32_t* hot = nullptr;
    if (cat) {
      G.hot[k].assign(rows, -1);
      hot = G.hot[k].data();
    } else {
      G.slot_indexed[slot] = 0;
    }
    // A model comparing float64 inputs: the float stand-in of each double.
    const Float64Feature* exact =
        cat || schema.float64_features.empty() ? nullptr : &schema.float64_features[f];
    const bool plain_int = store == Store::kInt && col.meaning != Meaning::kDecimal &&
                           !(col.meaning == Meaning::kUnsignedInt && col.type == PhysicalType::kInt64);
    bool rows_done = false;  // (not `return`: the column may also be kept)
    if (!cat && (plain_int || store == Store::kDouble)) {
      // The common case, in tight loops: integers (through double, as their
      // decimal text would be) and floating point; then the checks.
      if (exact != nullptr) {
        for (size_t r = 0; r < rows; ++r)
          fc[r] = Float64FeatureValue(*exact, plain_int ? static_cast<double>(vals.i[r]) : vals.d[r]);
      } else if (plain_int) {
        for (size_t r = 0; r < rows; ++r) fc[r] = static_cast<float>(static_cast<double>(vals.i[r]));
      } else {
        for (size_t r = 0; r < rows; ++r) fc[r] = static_cast<float>(vals.d[r]);
      }
      bool all_valid = true;
      for (uint8_t v : vals.valid) all_valid &= v != 0;
      bool any_special = false;
      if (store == Store::kDouble || opt.infinity_is_error) {
        for (size_t r = 0; r < rows; ++r) any_special |= !std::isfinite(fc[r]);
      }
      rows_done = all_valid && !any_special;
    }
    for (size_t r = 0; r < rows && !rows_done; ++r) {
      auto place = [&](const std::string& why) {
        return InvalidData(why + " in " + Where(g, c))
            .At(uri, G.first_row + r + 1, static_cast<uint64_t>(c) + 1);
      };
      if (!vals.valid[r]) {
        if (cat) continue;
        if (opt.missing_is_error) {
          return place("Input X contains NaN: a null value; this model does not accept missing values");
        }
        fc[r] = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      double v = 0;
      if (store == Store::kBytes) {
        const uint32_t from = r ? vals.ends[r - 1] : 0;
        std::string_view s(vals.bytes.data() + from, vals.ends[r] - from);
        if (cat) {
          auto it = cat->index.find(TrimBlanks(s, ','));
          if (it != cat->index.end()) hot[r] = it->second;
          continue;
        }
        if (col.meaning == Meaning::kDecimal) {
          __int128 exact;
          if (!BigEndianToDouble(s, &v, &exact)) return place("a decimal wider than 16 bytes");
          v = DecimalValue(exact, col.scale);
        } else {
          std::string_view t = TrimBlanks(s, ',');
          if (IsMissingSpelling(t)) {
            v = std::numeric_limits<double>::quiet_NaN();
          } else if (!ParseNumber(t, &v)) {
            std::string shown(s.substr(0, 40));
            return place("not a number: '" + shown + "'");
          }
        }
      } else if (store == Store::kDouble) {
        v = vals.d[r];
      } else {
        const int64_t iv = vals.i[r];
        if (col.meaning == Meaning::kDecimal) {
          v = DecimalValue(iv, col.scale);
        } else if (col.meaning == Meaning::kUnsignedInt && col.type == PhysicalType::kInt64) {
          v = static_cast<double>(static_cast<uint64_t>(iv));
        } else {
          v = static_cast<double>(iv);
        }
        if (cat) {
          // A numeric column holding a categorical raw column: its text.
          auto it = cat->index.find(std::to_string(iv));
          if (it != cat->index.end()) hot[r] = it->second;
          continue;
        }
      }
      if (cat) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        auto it = cat->index.find(buf);
        if (it != cat->index.end()) hot[r] = it->second;
        continue;
      }
      const float fv = static_cast<float>(v);
      if (std::isnan(v)) {
        if (opt.missing_is_error)
          return place("Input X contains NaN: a NaN value; this model does not accept missing values");
      } else if (std::isinf(fv) && opt.infinity_is_error) {
        return place("Input X contains infinity or a value too large for dtype('float32')");
      }
      fc[r] = exact != nullptr ? Float64FeatureValue(*exact, v) : fv;
    }
  }
  // Kept columns: the group's values (each slice takes its rows).
  for (size_t kk = 0; kk < map.kept.size(); ++kk) {
    if (map.kept[kk] != c) continue;
    KeptValues& out = G.kept[kk];
    out.Clear();
    const KeptColumnInfo& info = kept_info[kk];
    out.valid = vals.valid;
    if (store == Store::kInt) {
      if (info.type == KeptType::kDecimal) {
        out.valid.clear();
        for (size_t r = 0; r < rows; ++r)
          out.AddText(vals.valid[r] ? DecimalText(vals.i[r], col.scale) : "", vals.valid[r]);
      } else {
        out.ints = vals.i;
      }
    } else if (store == Store::kDouble) {
      out.doubles = vals.d;
    } else {
      out.valid.clear();
      for (size_t r = 0; r < rows; ++r) {
        const uint32_t from = r ? vals.ends[r - 1] : 0;
        std::string_view s(vals.bytes.data() + from, vals.ends[r] - from);
        if (info.type == KeptType::kDecimal) {
          double unused;
          __int128 exact = 0;
          if (vals.valid[r] && !BigEndianToDouble(s, &unused, &exact)) {
            return InvalidData("a decimal wider than 16 bytes in " + Where(g, c))
                .At(uri, G.first_row + r + 1);
          }
          out.AddText(vals.valid[r] ? DecimalText(exact, col.scale) : "", vals.valid[r]);
        } else if (col.type == PhysicalType::kFixedLenByteArray) {
          out.AddText(vals.valid[r] ? Hex(s) : "", vals.valid[r]);
        } else {
          out.AddText(s, vals.valid[r]);
        }
      }
    }
  }
  return Status::Ok();
}

Status ParquetReader::Impl::PrepareLazy(ParquetGroup& G, size_t k, const Float64Feature* exact,
                                        bool* lazy) const {
  *lazy = false;
  LazyColumn& L = G.lazy[static_cast<size_t>(float_slot[k])];
  L.on = false;
  const int32_t c = needed[k];
  const Column& col = meta.columns[c];
  const parquet::ColumnChunk& cc = meta.row_groups[static_cast<size_t>(G.row_group)].columns[c];
  const bool is_int = StoreOf(col.type) == Store::kInt;
  const bool refuses = opt.missing_is_error || opt.infinity_is_error;
  switch (col.type) {
    case PhysicalType::kInt32:
      L.plain = col.meaning == Meaning::kUnsignedInt ? PlainKind::kUInt32 : PlainKind::kInt32;
      break;
    case PhysicalType::kInt64: L.plain = PlainKind::kInt64; break;
    case PhysicalType::kFloat: L.plain = PlainKind::kFloat; break;
    case PhysicalType::kDouble: L.plain = PlainKind::kDouble; break;
    default: break;
  }
  // PLAIN pages of these types only (and of floating point only for a model
  // that takes any value: one that refuses NaN or infinity has the whole
  // column decoder find the row).
  const bool plain_ok = col.type == PhysicalType::kInt32 || col.type == PhysicalType::kInt64 ||
                        ((col.type == PhysicalType::kFloat || col.type == PhysicalType::kDouble) && !refuses);
  const size_t plain_width = col.type == PhysicalType::kInt32 || col.type == PhysicalType::kFloat ? 4 : 8;
  L.exact = exact;
  const size_t slot = static_cast<size_t>(float_slot[k]);
  L.store.data = G.pages_base + G.store_at[slot];
  L.store.size = 0;
  L.store.limit = G.store_limit[slot];
  L.store.full = false;
  L.pages.clear();
  L.dict_values = 0;
  bool other = false;  // something only the whole column decoder reads
  size_t row = 0;
  thread_local Dense dict;
  auto on_dict = [&](Cursor& cur, size_t n) -> Status {
    dict.Clear();
    FB_RETURN_IF_ERROR(Plain(cur, col, n, &dict));
    L.dict.assign(std::max<size_t>(dict.n, 256), 0.0f);
    bool special = false;
    for (size_t i = 0; i < dict.n; ++i) {
      const double v = is_int ? static_cast<double>(dict.i[i]) : dict.d[i];
      L.dict[i] = exact != nullptr ? Float64FeatureValue(*exact, v) : static_cast<float>(v);
      special |= !std::isfinite(L.dict[i]);
    }
    L.dict_values = dict.n;
    if (special && refuses) {
      other = true;
      return Corrupt("a value the model refuses");
    }
    return Status::Ok();
  };
  auto on_page = [&](const parquet::PageHeader& h, Cursor& cur, size_t n, size_t /*present*/,
                     const uint32_t* levels) -> Status {
    if (levels != nullptr) {
      other = true;
      return Corrupt("nulls");
    }
    const uint8_t* base = L.store.data;
    if (h.encoding == 2 || h.encoding == 8) {
      int bw = 0;
      if (n > 0) {
        if (cur.left() < 1) return Corrupt("dictionary indices past the end");
        bw = *cur.p++;
        if (bw > 32) return Corrupt("bit width " + std::to_string(bw) + " out of range");
      }
      if (n > 0)
        L.pages.push_back(
            LazyPage{row, n, static_cast<size_t>(cur.p - base), static_cast<size_t>(cur.end - base), bw});
    } else if (h.encoding == 0 && plain_ok) {
      if (n > cur.left() / plain_width) return Corrupt("PLAIN values past the end");
      const size_t begin = static_cast<size_t>(cur.p - base);
      if (n > 0) L.pages.push_back(LazyPage{row, n, begin, begin + n * plain_width, -1});
    } else {
      other = true;
      return Corrupt("another encoding");
    }
    row += n;
    return Status::Ok();
  };
  // A chunk whose statistics state nulls goes to the whole column decoder
  // at once (its pages are not decompressed twice: here up to the first
  // page with nulls, then there). A statement of none is checked by the walk.
  if (cc.null_count > 0) return Status::Ok();
  Status st = WalkPages(G.columns[k], col, cc, G.rows, on_dict, on_page, &L.store);
  if (other || L.store.full) return Status::Ok();  // for the whole column decoder
  FB_RETURN_IF_ERROR(st);
  // Every slice's mark; every index stream's runs checked to its page's end.
  const size_t slices = (G.rows + slice_rows - 1) / slice_rows;
  L.marks.resize(slices);
  const uint8_t* base = L.store.data;
  size_t s = 0;
  for (size_t pi = 0; pi < L.pages.size(); ++pi) {
    const LazyPage& pg = L.pages[pi];
    HybridCursor h;
    h.p = base + pg.begin;
    h.end = base + pg.end;
    h.bw = pg.bw;
    size_t at = pg.first_row;
    for (; s < slices && s * slice_rows < pg.first_row + pg.rows; ++s) {
      if (pg.bw >= 0) FB_RETURN_IF_ERROR(h.Skip(s * slice_rows - at));
      at = s * slice_rows;
      L.marks[s].page = pi;
      L.marks[s].h = h;
    }
    if (pg.bw >= 0) FB_RETURN_IF_ERROR(h.Skip(pg.first_row + pg.rows - at));
  }
  if (s != slices) return Internal("slices without a page");
  L.on = true;
  *lazy = true;
  return Status::Ok();
}

Status ParquetReader::Impl::ReadLazy(const LazyColumn& L, LazyState& st, size_t n, float* out) {
  const uint8_t* base = L.store.data;
  while (n > 0) {
    const LazyPage* pg = &L.pages[st.page];
    if (st.row == pg->first_row + pg->rows) {
      if (st.page + 1 >= L.pages.size()) return Internal("rows past the column's pages");
      pg = &L.pages[++st.page];
      st.h = HybridCursor();
      st.h.p = base + pg->begin;
      st.h.end = base + pg->end;
      st.h.bw = pg->bw;
    }
    const size_t take = std::min(n, pg->first_row + pg->rows - st.row);
    if (pg->bw >= 0) {
      FB_RETURN_IF_ERROR(st.h.Lookup(take, L.dict.data(), L.dict_values, out));
    } else {
      const uint8_t* p = base + pg->begin;
      const size_t at = st.row - pg->first_row;
      auto conv = [&L](double v) {
        return L.exact != nullptr ? Float64FeatureValue(*L.exact, v) : static_cast<float>(v);
      };
      // One loop for every PLAIN width: the page's values from row `at` on.
      auto copy = [&]<typename T>(T) {
        for (size_t r = 0; r < take; ++r) {
          T v;
          std::memcpy(&v, p + sizeof(T) * (at + r), sizeof(T));
          out[r] = conv(static_cast<double>(v));
        }
      };
      switch (L.plain) {
        case PlainKind::kInt32: copy(int32_t{}); break;
        case PlainKind::kUInt32: copy(uint32_t{}); break;
        case PlainKind::kInt64: copy(int64_t{}); break;
        case PlainKind::kFloat: copy(float{}); break;
        case PlainKind::kDouble: copy(double{}); break;
      }
    }
    st.row += take;
    out += take;
    n -= take;
  }
  return Status::Ok();
}

Status ParquetReader::Impl::Fill(const TableChunk& chunk, TableBlock* b) const {
  b->rows = 0;
  b->lines = 0;
  if (chunk.group == nullptr) return Status::Ok();
  ParquetGroup& G = *chunk.group;
  Decode(G);
  if (!G.error.ok()) return G.error;
  const size_t r0 = chunk.slice_begin;
  const size_t rows = chunk.slice_end - r0;
  const size_t nf = static_cast<size_t>(schema.n_features);
  GrowLarge(&b->values, rows * nf);
  // Categorical indicators: each row's block written whole, so a row never
  // keeps an earlier row's 1.
  for (const ColumnMap::Categorical& cat : map.categorical)
    for (size_t r = 0; r < rows; ++r)
      std::fill_n(b->values.data() + r * nf + cat.first_feature, cat.width, 0.0f);
  for (size_t k = 0; k < needed.size(); ++k) {
    const int32_t c = needed[k];
    if (map.col_to_feature[c] != kCategoricalColumn) continue;
    const ColumnMap::Categorical& cat = map.categorical[map.col_categorical[c]];
    const int32_t* hot = G.hot[k].data() + r0;
    for (size_t r = 0; r < rows; ++r)
      if (hot[r] >= 0) b->values[r * nf + cat.first_feature + hot[r]] = 1.0f;
  }
  b->kept.resize(map.kept.size());
  for (size_t kk = 0; kk < map.kept.size(); ++kk) SliceKept(G.kept[kk], r0, r0 + rows, &b->kept[kk]);
  if (schema.preprocessing) {
    // The model's preprocessing, row by row, straight into the block.
    thread_local PrepRow prep;
    thread_local std::string text;
    schema.preprocessing->Prepare(&prep);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < prep_col.size(); ++i) {
        Status st = SetPrepInput(i, G.prep_vals[i], r0 + r, &prep, &text);
        if (!st.ok())
          return std::move(st).At(uri, G.first_row + r0 + r + 1, static_cast<uint64_t>(prep_col[i]) + 1);
      }
      Status st = RunPreprocessing(schema, opt, &prep, b->values.data() + r * nf);
      if (!st.ok()) return st.At(uri, G.first_row + r0 + r + 1);
    }
  }
  // The numeric columns into the row-major block, a tile of kTile rows at a
  // time: a column left as dictionary bytes is first looked up into a small
  // column-major tile (sequential writes; float columns are read in place),
  // then the tile is transposed by the chosen kernel set (io/parquet_simd.h:
  // bands of 4, 8 or 16 rows, runs of consecutive features transposed in
  // registers, each band's rows written whole before the next). A group's columns
  // decoded whole are read as many streams at once, more than the hardware
  // prefetcher follows: each is prefetched kAhead tiles ahead.
  constexpr size_t kTile = 64;
  constexpr size_t kAhead = 8;
  // Lazy columns are decoded kPiece rows at a time (column-major, in L2),
  // then transposed tile by tile from there.
  constexpr size_t kPiece = 512;
  const ParquetKernels& kernels = ChosenParquetKernels();
  thread_local std::vector<float> tile;
  thread_local DefaultInitVector<float> piece;
  thread_local std::vector<const float*> colp;
  thread_local std::vector<LazyState> lazy;
  tile.resize(kTile * n_float_columns);
  if (piece.size() < kPiece * n_float_columns) piece.resize(kPiece * n_float_columns);
  colp.resize(n_float_columns);
  lazy.resize(n_float_columns);
  const size_t slice = r0 / slice_rows;
  for (size_t j = 0; j < n_float_columns; ++j) {
    const LazyColumn& L = G.lazy[j];
    if (!L.on) continue;
    if (slice * slice_rows != r0 || slice >= L.marks.size())
      return Internal("a slice that starts off its mark");
    lazy[j].page = L.marks[slice].page;
    lazy[j].h = L.marks[slice].h;
    lazy[j].row = r0;
  }
  float* out = b->values.data();
  for (size_t t0 = 0; t0 < rows; t0 += kTile) {
    const size_t n = std::min(rows - t0, kTile);
    const bool ahead = r0 + t0 + (kAhead + 1) * kTile <= G.rows;
    if (t0 % kPiece == 0) {
      // This slice's next piece of each lazy column, decoded here.
      const size_t pn = std::min(rows - t0, kPiece);
      for (size_t j = 0; j < n_float_columns; ++j) {
        if (!G.lazy[j].on) continue;
        Status st = ReadLazy(G.lazy[j], lazy[j], pn, piece.data() + j * kPiece);
        if (!st.ok()) {
          const int32_t c = needed[static_cast<size_t>(slot_needed[j])];
          return Status(st.code(), Where(G.row_group, c) + ": " + st.message())
              .At(uri, 0, static_cast<uint64_t>(c) + 1);
        }
      }
    }
    for (size_t j = 0; j < n_float_columns; ++j) {
      if (G.lazy[j].on) {
        colp[j] = piece.data() + j * kPiece + t0 % kPiece;
      } else if (G.slot_indexed[j]) {
        const uint8_t* src = G.indexes.data() + j * G.rows + r0 + t0;
        const float* d = G.index_dicts[j].data();
        if (ahead) __builtin_prefetch(src + kAhead * kTile);
        float* tj = tile.data() + j * kTile;
        size_t r = 0;
        for (; r + 4 <= n; r += 4) {
          tj[r] = d[src[r]];
          tj[r + 1] = d[src[r + 1]];
          tj[r + 2] = d[src[r + 2]];
          tj[r + 3] = d[src[r + 3]];
        }
        for (; r < n; ++r) tj[r] = d[src[r]];
        colp[j] = tj;
      } else {
        const float* src = G.floats.data() + j * G.rows + r0 + t0;
        if (ahead)
          for (size_t l = 0; l < kTile; l += 64 / sizeof(float)) __builtin_prefetch(src + kAhead * kTile + l);
        colp[j] = src;
      }
    }
    // Band by band, each band's rows written from their start to their end
    // (the stores stream through the block as a parser's do).
    kernels.transpose(colp.data(), transpose_runs.data(), transpose_runs.size(), n, out + t0 * nf, nf,
                      rows - t0 - n);
  }
  b->rows = rows;
  return Status::Ok();
}

Status ParquetReader::Impl::SetPrepInput(size_t i, const Values& v, size_t r, PrepRow* prep,
                                         std::string* text) const {
  const PrepInput& in = schema.preprocessing->inputs[i];
  const int32_t c = prep_col[i];
  const Column& col = meta.columns[c];
  const Store store = StoreOf(col.type);
  const bool valid = v.valid[r] != 0;
  std::string_view bytes;
  if (store == Store::kBytes && valid) {
    const uint32_t from = r ? v.ends[r - 1] : 0;
    bytes = std::string_view(v.bytes.data() + from, v.ends[r] - from);
  }
  if (in.text) {
    // Categories are strings: a string column's value as it stands (as the
    // CSV reader takes a field: empty or a missing-value spelling is
    // missing); a typed column's value as its text (--keep-columns'
    // spelling: integers in decimal, floating point as Python prints it,
    // true/false, ISO dates and timestamps).
    if (!valid) {
      prep->SetText(static_cast<int32_t>(i), in.slot, "", true);
      return Status::Ok();
    }
    text->clear();
    if (store == Store::kBytes) {
      if (col.meaning == Meaning::kDecimal) {
        double unused;
        __int128 exact = 0;
        if (!BigEndianToDouble(bytes, &unused, &exact))
          return InvalidData("a decimal wider than 16 bytes in column '" + col.name + "'");
        *text = DecimalText(exact, col.scale);
      } else if (col.type == PhysicalType::kFixedLenByteArray) {
        *text = Hex(bytes);
      } else {
        text->assign(bytes);
      }
    } else if (store == Store::kDouble) {
      if (col.type == PhysicalType::kFloat && std::isfinite(v.d[r])) {
        // The shortest digits of the float32 (as numpy prints a float32).
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v.d[r]));
        text->assign(buf, static_cast<size_t>(res.ptr - buf));
        if (text->find_first_of(".eE") == std::string::npos) text->append(".0");
      } else {
        AppendPythonFloat(text, v.d[r]);
      }
    } else {
      const int64_t iv = v.i[r];
      switch (col.meaning) {
        case Meaning::kDecimal: *text = DecimalText(iv, col.scale); break;
        case Meaning::kDate: *text = KeptDateText(iv); break;
        case Meaning::kTimestamp:
        case Meaning::kTime: {
          const KeptUnit unit = col.type == PhysicalType::kInt96         ? KeptUnit::kNanos
                                : col.unit == parquet::TimeUnit::kMillis ? KeptUnit::kMillis
                                : col.unit == parquet::TimeUnit::kNanos  ? KeptUnit::kNanos
                                                                         : KeptUnit::kMicros;
          const bool tod = col.meaning == Meaning::kTime;
          *text = KeptTimestampText(iv, unit, col.utc && !tod, tod);
          break;
        }
        case Meaning::kUnsignedInt: *text = std::to_string(static_cast<uint64_t>(iv)); break;
        default: *text = col.type == PhysicalType::kBoolean ? (iv ? "true" : "false") : std::to_string(iv);
      }
    }
    prep->SetText(static_cast<int32_t>(i), in.slot, *text, text->empty() || IsMissingSpelling(*text));
    return Status::Ok();
  }
  // Numbers: a null is missing (NaN); strings parse as CSV fields do.
  double x = std::numeric_limits<double>::quiet_NaN();
  if (valid) {
    if (store == Store::kDouble) {
      x = v.d[r];
    } else if (store == Store::kInt) {
      const int64_t iv = v.i[r];
      if (col.meaning == Meaning::kDecimal) {
        x = DecimalValue(iv, col.scale);
      } else if (col.meaning == Meaning::kUnsignedInt && col.type == PhysicalType::kInt64) {
        x = static_cast<double>(static_cast<uint64_t>(iv));
      } else {
        x = static_cast<double>(iv);
      }
    } else if (col.meaning == Meaning::kDecimal) {
      __int128 exact = 0;
      if (!BigEndianToDouble(bytes, &x, &exact))
        return InvalidData("a decimal wider than 16 bytes in column '" + col.name + "'");
      x = DecimalValue(exact, col.scale);
    } else {
      const std::string_view t = TrimBlanks(bytes, ',');
      if (!IsMissingSpelling(t) && !ParseNumber(t, &x)) {
        return InvalidData("not a number: '" + EscapeForMessage(bytes.substr(0, 40)) + "' in column '" +
                           col.name + "', which the model's preprocessing reads as numbers");
      }
    }
    // Every scikit-learn transformer checks its input: infinity is refused.
    if (opt.infinity_is_error && std::isinf(x)) {
      return InvalidData("Input X contains infinity or a value too large for dtype('float64') in column '" +
                         col.name + "'");
    }
  }
  prep->num[in.slot] = x;
  return Status::Ok();
}

void ParquetReader::Parse(const TableChunk& chunk, TableBlock* block) const {
  block->error = impl_->Fill(chunk, block);
  if (!block->error.ok()) block->rows = 0;
}

Status ParquetReader::Account(const TableBlock& block) {
  if (!block.error.ok()) return block.error;
  impl_->rows_accounted += block.rows;
  return Status::Ok();
}

Status ParquetReader::Locate(Status status) const { return status.WithPath(impl_->uri); }
bool ParquetReader::at_end() const {
  return impl_->next_group >= impl_->meta.row_groups.size() &&
         (impl_->current == nullptr || impl_->next_slice >= impl_->current->rows);
}
uint64_t ParquetReader::rows_accounted() const { return impl_->rows_accounted; }
const std::vector<KeptColumnInfo>& ParquetReader::kept_columns() const { return impl_->kept_info; }
size_t ParquetReader::max_chunks_in_flight(int threads) const { return 2 * static_cast<size_t>(threads) + 2; }
uint64_t ParquetReader::bytes_read() const { return impl_->bytes.load(); }

Status ParquetReader::CheckUnchanged() {
  // Local files only: an S3 object's check would cost a request per file.
  const ObjectInfo& was = impl_->opened;
  if (IsS3Uri(impl_->uri) || was.mtime_ns == 0) return Status::Ok();
  FB_ASSIGN_OR_RETURN(auto now, impl_->storage->Stat(impl_->uri));
  if (!now) return IoError("the file was removed while it was read").At(impl_->uri);
  if (now->size != was.size || now->mtime_ns != was.mtime_ns)
    return IoError("the file changed while it was read").At(impl_->uri);
  return Status::Ok();
}
int64_t ParquetReader::num_rows() const { return impl_->meta.num_rows; }
size_t ParquetReader::num_row_groups() const { return impl_->meta.row_groups.size(); }

}  // namespace fb
