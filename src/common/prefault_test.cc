#include "common/prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace fb {
namespace {

size_t ResidentPages(void* p, size_t bytes) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((bytes + page - 1) / page);
  if (::mincore(p, bytes, in.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n;
}

TEST(PrefaultTest, MapsEveryWholePageOfAFreshBuffer) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t bytes = 256 * page;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(ResidentPages(p, bytes), 0u);
  // Unaligned ends: only the whole pages inside are mapped.
  PrefaultForWrite(static_cast<char*>(p) + 1, bytes - 2);
  const size_t resident = ResidentPages(p, bytes);
  ::munmap(p, bytes);
  if (resident == 0) GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (before Linux 5.14)";
  EXPECT_EQ(resident, 254u);
}

TEST(PrefaultTest, LeavesContentsAndSmallBuffersAlone) {
  std::vector<uint32_t> v(1 << 20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint32_t>(i * 2654435761u);
  PrefaultForWrite(v.data() + 3, (v.size() - 7) * sizeof(uint32_t));
  PrefaultForWrite(v.data(), 100);
  PrefaultForWrite(nullptr, 1 << 20);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], static_cast<uint32_t>(i * 2654435761u)) << i;

  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* p = ::mmap(nullptr, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  PrefaultForWrite(p, 8 * page);  // under 64 KiB: left to fault as usual
  EXPECT_EQ(ResidentPages(p, 8 * page), 0u);
  ::munmap(p, 8 * page);
}

}  // namespace
}  // namespace fb
