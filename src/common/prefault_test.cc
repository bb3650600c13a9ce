#include "common/prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/mapped_vector.h"

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

// The VmFlags of the mapping that holds `p` (/proc/self/smaps), or "".
std::string VmFlagsAt(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto a = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  std::string line;
  while (std::getline(smaps, line)) {
    unsigned long begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = a >= begin && a < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool HasFlag(const std::string& vm_flags, const char* flag) {
  return vm_flags.find(std::string(" ") + flag) != std::string::npos;
}

// A fresh private anonymous mapping (no page of it touched yet), or nullptr.
char* FreshPages(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

// The kernel's transparent huge page setting ("always [madvise] never"), or
// "" where there is none.
std::string TransparentHugePages() {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string setting;
  std::getline(thp, setting);
  return setting;
}

TEST(PrefaultTest, HugePagesAreAskedForTheWholeAlignedBlocksOfBigBuffers) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = 5 * kHuge;
  char* p = FreshPages(bytes);
  ASSERT_NE(p, nullptr);
  std::memset(p, 7, 4096);
  char* first = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
  AdviseHugePages(p + 1, bytes - 1);
  const std::string advised = VmFlagsAt(first + kHuge);
  const std::string before = VmFlagsAt(p);
  const char* const untouched = first == p ? nullptr : p;  // below the first whole block
  EXPECT_EQ(p[0], 7);
  EXPECT_EQ(p[4095], 7);
  ::munmap(p, bytes);
  ASSERT_FALSE(advised.empty()) << "no /proc/self/smaps";
  if (const std::string thp = TransparentHugePages(); thp.empty() || thp.find("[never]") != std::string::npos)
    GTEST_SKIP() << "no transparent huge pages here: " << thp;
  EXPECT_TRUE(HasFlag(advised, "hg")) << advised;
  if (untouched != nullptr) {
    EXPECT_FALSE(HasFlag(before, "hg")) << before;
  }

  // Under 4 MiB: left alone.
  char* q = static_cast<char*>(
      ::mmap(nullptr, 3 * kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(q, MAP_FAILED);
  AdviseHugePages(q, 2 * kHuge - 1);
  AdviseHugePages(nullptr, 8 * kHuge);
  const std::string small = VmFlagsAt(q + kHuge);
  ::munmap(q, 3 * kHuge);
  EXPECT_FALSE(HasFlag(small, "hg")) << small;
}

TEST(PrefaultTest, BigBuffersArePopulatedWithHugePages) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = 3 * kHuge;
  char* p = FreshPages(bytes);
  ASSERT_NE(p, nullptr);
  PrefaultForWrite(p, bytes);
  char* first = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
  const std::string flags = VmFlagsAt(first);
  const size_t resident = ResidentPages(p, bytes);
  ::munmap(p, bytes);
  if (resident == 0) GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (before Linux 5.14)";
  EXPECT_EQ(resident, bytes / static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
  if (const std::string thp = TransparentHugePages(); thp.empty() || thp.find("[never]") != std::string::npos)
    GTEST_SKIP() << "no transparent huge pages here: " << thp;
  EXPECT_TRUE(HasFlag(flags, "hg")) << flags;
}

TEST(PrefaultTest, HugePageHeapServesLaterAllocations) {
  constexpr size_t kHuge = size_t{2} << 20;
  UseBatchHeap();  // as main() does first: the thresholds, and 30 MiB reserved
  const size_t advised = ReserveHugePageHeap(16 * kHuge / 2);
  EXPECT_EQ(ReserveHugePageHeap(kHuge), 0u);  // too small to hold a whole aligned block
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  EXPECT_EQ(advised, 0u);  // a sanitizer's allocator is not glibc's heap
#else
  // 16 MiB from an address anywhere in a 2 MiB block: 7 or 8 whole blocks.
  EXPECT_GE(advised, 7 * kHuge);
  EXPECT_LE(advised, 8 * kHuge);
  // The next block comes from the reserved heap, starting on its first 2 MiB
  // boundary, and can be written and freed as any other.
  char* p = static_cast<char*>(std::malloc(4 * kHuge));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHuge, 0u);
  std::memset(p, 1, 4 * kHuge);
  const std::string flags = VmFlagsAt(p + kHuge);
  std::free(p);
  if (const std::string thp = TransparentHugePages(); thp.empty() || thp.find("[never]") != std::string::npos)
    GTEST_SKIP() << "no transparent huge pages here: " << thp;
  EXPECT_TRUE(HasFlag(flags, "hg")) << flags;
#endif
}

TEST(PrefaultTest, MappedVectorsBigBuffersAreMappingsOfTheirOwn) {
  // Grown element by element across the mapping threshold: every value kept
  // through each reallocation (a mapping copied into a bigger mapping).
  MappedVector<uint32_t> v;
  const size_t n = 3 * kMapBufferBytes / sizeof(uint32_t);
  for (size_t k = 0; k < n; ++k) v.push_back(static_cast<uint32_t>(k * 2654435761u));
  for (size_t k = 0; k < n; k += 4099) ASSERT_EQ(v[k], static_cast<uint32_t>(k * 2654435761u)) << k;
  EXPECT_EQ(v.back(), static_cast<uint32_t>((n - 1) * 2654435761u));
  // A small one is malloc's, as any vector's.
  MappedVector<float> small(1000, 1.5f);
  EXPECT_EQ(small[999], 1.5f);
  // A size past any mapping is refused, not rounded up past the end of
  // size_t into a small mapping.
  EXPECT_EQ(MapBuffer(std::numeric_limits<size_t>::max() - 100, true), nullptr);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // One the kernel refuses (past the address space) is std::bad_alloc, as
  // any vector's. (A sanitizer's allocator aborts the test instead.)
  EXPECT_THROW(MappedVector<uint8_t>().reserve(size_t{1} << 50), std::bad_alloc);
  constexpr size_t kHuge = size_t{2} << 20;
  // A big one starts on a 2 MiB boundary, outside the heap, on huge pages
  // where the kernel offers them; resize leaves its fresh pages unwritten.
  MappedVector<float> big;
  big.resize(kMapBufferBytes / sizeof(float) + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % kHuge, 0u);
  EXPECT_EQ(ResidentPages(big.data(), kMapBufferBytes), 0u);
  const std::string flags = VmFlagsAt(big.data());
  EXPECT_FALSE(flags.empty());
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<uintptr_t>(big.data());
  for (std::string line; std::getline(maps, line);) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream(line) >> std::hex >> lo >> dash >> hi;
    if (at >= lo && at < hi) {
      EXPECT_EQ(line.find("[heap]"), std::string::npos) << line;
    }
  }
  big[big.size() - 1] = 2.0f;  // the last element, past the aligned 4 MiB, is writable
  EXPECT_EQ(big.back(), 2.0f);
  if (const std::string thp = TransparentHugePages(); thp.empty() || thp.find("[never]") != std::string::npos)
    GTEST_SKIP() << "no transparent huge pages here: " << thp;
  EXPECT_TRUE(HasFlag(flags, "hg")) << flags;
#endif
}

}  // namespace
}  // namespace fb
