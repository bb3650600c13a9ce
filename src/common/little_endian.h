// Appending fixed-size values to a byte string in little-endian order, as
// the Parquet writer and the native model format lay them out.
#pragma once

#include <bit>
#include <cstring>
#include <string>
#include <type_traits>

namespace fb {

static_assert(std::endian::native == std::endian::little,
              "the Parquet and .fbm writers assume a little-endian host");

// Appends the sizeof(T) bytes of `v` (an arithmetic value) to `out`.
template <typename T>
void PutLe(std::string* out, T v) {
  static_assert(std::is_arithmetic_v<T>);
  char raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  out->append(raw, sizeof(T));
}

}  // namespace fb
