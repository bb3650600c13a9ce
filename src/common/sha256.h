// SHA-256 (OpenSSL libcrypto): the digest forestbatch uses for output
// checksums, model digests and AWS request signing.
//
// Not thread-safe: one Sha256 object per thread. Construction throws
// std::bad_alloc when OpenSSL cannot allocate its context (out of memory).
#pragma once

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace fb {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lower-case hex digest of everything added; the object is then reset.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace fb
