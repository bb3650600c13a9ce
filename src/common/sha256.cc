#include "common/sha256.h"

#include <openssl/evp.h>

#include <new>

namespace fb {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // OpenSSL fails only to allocate: out of memory, as for any container.
  if (ctx_ == nullptr) throw std::bad_alloc();
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

std::string Sha256::HexDigest() {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx_, d, &n);
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kHex[d[i] >> 4]);
    s.push_back(kHex[d[i] & 15]);
  }
  return s;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.HexDigest();
}

}  // namespace fb
