#include "common/prefault.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace fb {
namespace {

// The lead of the huge-page heap (ReserveHugePageHeap), held for good;
// reachable from here, so not a leak. (Unused under a sanitizer's allocator.)
[[maybe_unused]] void* g_held_lead = nullptr;

constexpr uintptr_t kHuge = uintptr_t{2} << 20;
constexpr size_t kMinHugeBytes = 2 * kHuge;  // smaller buffers are left alone

// The whole 2 MiB blocks inside [p, p + bytes) of a buffer of kMinHugeBytes
// or more (end <= begin: none).
struct HugeBlocks {
  uintptr_t begin = 0, end = 0;
};
HugeBlocks WholeHugeBlocks(const void* p, size_t bytes) {
  if (p == nullptr || bytes < kMinHugeBytes) return {};
  const auto at = reinterpret_cast<uintptr_t>(p);
  return {(at + kHuge - 1) & ~(kHuge - 1), (at + bytes) & ~(kHuge - 1)};
}

}  // namespace

void PrefaultForWrite(void* p, size_t bytes) {
  constexpr size_t kMinBytes = size_t{64} << 10;
  if (p == nullptr || bytes < kMinBytes) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  if (end <= begin) return;
  AdviseHugePages(p, bytes);
  // Errors (an old kernel: EINVAL; no memory: the writer faults as usual) are ignored.
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

void AdviseHugePages(void* p, size_t bytes) {
  const HugeBlocks b = WholeHugeBlocks(p, bytes);
  if (b.end <= b.begin) return;
  // Errors (no transparent huge pages in this kernel: EINVAL) are ignored.
  (void)::madvise(reinterpret_cast<void*>(b.begin), b.end - b.begin, MADV_HUGEPAGE);
}

size_t ReserveHugePageHeap(size_t bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)bytes;
  return 0;
#else
  if (bytes < kMinHugeBytes) return 0;
  char* p = static_cast<char*>(std::malloc(bytes));
  if (p == nullptr) return 0;
  const HugeBlocks b = WholeHugeBlocks(p, bytes);
  AdviseHugePages(p, bytes);
  // glibc's chunks: a block of n user bytes spans (n + 8) rounded up to 16,
  // and the next block's user bytes begin right after it. Shrinking the
  // block to lead - 8 bytes, in place, frees the rest, which rejoins the free
  // top of the heap, so that the next allocation begins at `begin`.
  const size_t lead = b.begin - reinterpret_cast<uintptr_t>(p);
  if (lead >= 64) {
    g_held_lead = std::realloc(p, lead - 8);
  } else {
    std::free(p);
  }
  return b.end - b.begin;
#endif
}

void* MapBuffer(size_t bytes, bool huge) {
  // No mapping is that big, and rounding such a size up to 2 MiB below would
  // wrap around to a small one.
  if (bytes > std::numeric_limits<size_t>::max() / 2) return nullptr;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)huge;
  return ::operator new(bytes, std::nothrow);
#else
  // Map 2 MiB more than asked and unmap what lies outside the aligned span.
  const size_t span = (bytes + kHuge - 1) & ~(kHuge - 1);
  void* m = ::mmap(nullptr, span + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  const auto at = reinterpret_cast<uintptr_t>(m);
  const uintptr_t begin = (at + kHuge - 1) & ~(kHuge - 1);
  if (begin > at) ::munmap(m, begin - at);
  const uintptr_t tail = at + span + kHuge - (begin + span);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(begin + span), tail);
  if (huge) AdviseHugePages(reinterpret_cast<void*>(begin), span);
  return reinterpret_cast<void*>(begin);
#endif
}

void UnmapBuffer(void* p, size_t bytes) {
  if (p == nullptr) return;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)bytes;
  ::operator delete(p);
#else
  (void)::munmap(p, (bytes + kHuge - 1) & ~(kHuge - 1));
#endif
}

void UseBatchHeap() {
  constexpr int kMmapThreshold = 32 << 20, kTrimThreshold = 64 << 20;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  mallopt(M_ARENA_MAX, 1);
  ReserveHugePageHeap(size_t{30} << 20);
}

}  // namespace fb
