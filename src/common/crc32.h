// Crc32: the CRC-32 of zlib, gzip and the .fbm format (polynomial
// 0x04C11DB7, reflected, initial and final XOR 0xFFFFFFFF), equal to zlib's
// crc32() for every input. On x86-64 CPUs with PCLMULQDQ and SSE4.1 (every
// x86-64 CPU since about 2010; chosen at run time) the bulk of the input is
// folded 64 bytes at a time by carry-less multiplication (Gopal et al., "Fast
// CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction",
// Intel, 2009; the constants of the Linux kernel's and Chromium's zlib's
// crc32-pclmul), the rest by zlib: about 10x zlib 1.2.13's speed, which made
// the checksum half of the instructions of loading a large .fbm.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string_view>

namespace fb {

// The CRC-32 of `bytes` continued from `crc` (0 for a new checksum), as
// zlib's crc32(crc, bytes, size).
uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

// The same by zlib alone (the reference the fast path is tested against).
uint32_t Crc32Zlib(std::string_view bytes, uint32_t crc = 0);

}  // namespace fb
