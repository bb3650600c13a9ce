// SHA-256: the digest forestbatch uses for output checksums, model digests
// and AWS request signing (HMAC-SHA256). OpenSSL libcrypto's SHA-256 (its
// assembly: SHA-NI, AVX2 or SSSE3, chosen at run time), linked statically
// where Debian's libssl-dev has libcrypto.a (CMakeLists.txt): that SHA-256
// alone is some 40 KB, while loading the shared libcrypto and initialising
// its EVP layer cost every process about 2 ms at start.
//
// Not thread-safe: one Sha256 object per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fb {

class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The 32-byte digest of everything added; the object is then reset.
  std::array<uint8_t, 32> Digest();
  // Lower-case hex digest of everything added; the object is then reset.
  std::string HexDigest();

 private:
  // libcrypto's SHA256_CTX (112 bytes), kept here so that this header needs
  // no OpenSSL header; sha256.cc checks the size.
  alignas(8) unsigned char ctx_[128];
};

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// HMAC-SHA256 (RFC 2104) of `data` under `key`: the 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace fb
