#include "common/sha256.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose
// provider machinery is what costs a process its start (sha256.h); they stay
// in every 3.x release.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstring>

namespace fb {
namespace {
static_assert(sizeof(SHA256_CTX) <= 128 && alignof(SHA256_CTX) <= 8, "Sha256::ctx_ is too small");
SHA256_CTX* Ctx(unsigned char* p) { return reinterpret_cast<SHA256_CTX*>(p); }
}  // namespace

Sha256::Sha256() { SHA256_Init(Ctx(ctx_)); }

void Sha256::Update(std::string_view bytes) { SHA256_Update(Ctx(ctx_), bytes.data(), bytes.size()); }

std::array<uint8_t, 32> Sha256::Digest() {
  std::array<uint8_t, 32> d;
  SHA256_Final(d.data(), Ctx(ctx_));
  SHA256_Init(Ctx(ctx_));
  return d;
}

std::string Sha256::HexDigest() {
  const std::array<uint8_t, 32> d = Digest();
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(2 * d.size());
  for (uint8_t b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.HexDigest();
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    Sha256 h;
    h.Update(key);
    const std::array<uint8_t, 32> d = h.Digest();
    std::memcpy(k, d.data(), d.size());
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  Sha256 inner;
  inner.Update(std::string_view(reinterpret_cast<const char*>(pad), kBlock));
  inner.Update(data);
  const std::array<uint8_t, 32> in = inner.Digest();
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  Sha256 outer;
  outer.Update(std::string_view(reinterpret_cast<const char*>(pad), kBlock));
  outer.Update(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));
  const std::array<uint8_t, 32> mac = outer.Digest();
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

}  // namespace fb
