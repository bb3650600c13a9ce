#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <random>

namespace fb {

uint64_t RandomBits() {
  uint64_t v = 0;
  for (;;) {
    const ssize_t got = ::getrandom(&v, sizeof v, GRND_NONBLOCK);
    if (got == static_cast<ssize_t>(sizeof v)) return v;
    if (got < 0 && errno == EINTR) continue;
    break;
  }
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string RandomHex(int bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * static_cast<size_t>(bytes > 0 ? bytes : 0));
  uint64_t bits = 0;
  for (int i = 0; i < bytes; ++i) {
    if (i % 8 == 0) bits = RandomBits();
    const unsigned v = bits & 0xff;
    bits >>= 8;
    out.push_back(kHex[v >> 4]);
    out.push_back(kHex[v & 15]);
  }
  return out;
}

}  // namespace fb
