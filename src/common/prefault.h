// PrefaultForWrite: maps the pages of a freshly allocated buffer in one
// system call (madvise MADV_POPULATE_WRITE, Linux 5.14+) instead of one page
// fault per 4 KiB page on its first write. Page faults are expensive on
// virtual machines (an exit per fault); a big buffer that is about to be
// written in full is mapped several times faster this way.
//
// The whole 2 MiB blocks of a buffer of 4 MiB or more are asked for as
// transparent huge pages first (AdviseHugePages): populating them then
// clears 2 MiB pages, not 512 small ones (rf-regressor's joblib, 405 MB,
// loaded in 499 ms of CPU instead of 614 on the Zen 5 virtual machine).
//
// Only whole pages inside [p, p + bytes) are touched, and their contents are
// left as they are (populating never changes what a page holds), so any
// live buffer may be passed. Buffers under 64 KiB, and kernels without the
// call, are left to fault as usual: it is only ever an optimisation.
//
// Thread safety: safe from any thread.
#pragma once

#include <cstddef>

namespace fb {

void PrefaultForWrite(void* p, size_t bytes);

// AdviseHugePages: asks for transparent huge pages (madvise MADV_HUGEPAGE)
// for the whole 2 MiB-aligned blocks inside [p, p + bytes) of a buffer not
// yet written: each such block then costs one fault and one 2 MiB clear
// instead of 512 faults (about 0.8 ms a MB of fresh 4 KiB pages on the
// Zen 5 virtual machine, 0.1 ms with huge pages). Buffers under 4 MiB and
// kernels or settings without transparent huge pages ("never") are left as
// they are; contents never change. Only for buffers that are written
// through in full, and soon: a huge page is cleared whole.
void AdviseHugePages(void* p, size_t bytes);

// ReserveHugePageHeap: grows malloc's main heap by about `bytes` at once,
// asks for transparent huge pages for it (AdviseHugePages) and gives it back
// to malloc, starting on a 2 MiB boundary: the process's later allocations
// (a model's arrays, a file's chunk buffers) are then carved from 2 MiB pages,
// one fault each, instead of a fault per 4 KiB as the heap is first touched.
// The part before the first boundary (under 2 MiB, never touched) stays
// allocated for good. Returns the bytes advised (0: nothing done).
//
// Call it once, first thing in main(), after M_MMAP_THRESHOLD and
// M_TRIM_THRESHOLD were raised past `bytes` (a block over the first is a
// mapping of its own, not heap; a free top over the second is given back to
// the kernel, advice and all). Only glibc's allocator is shaped this way:
// under a sanitizer's allocator it does nothing. Not thread-safe (no other
// thread may allocate meanwhile).
size_t ReserveHugePageHeap(size_t bytes);

// MapBuffer / UnmapBuffer: a big buffer (kMapBufferBytes or more) as a
// mapping of its own instead of a block of malloc's heap, starting on a
// 2 MiB boundary and, with `huge`, asked for as transparent huge pages
// (AdviseHugePages). For buffers sized for a whole input unit (a Parquet
// row group's decoded columns) that are mostly left unwritten: as heap blocks
// they used up the huge-page reservation (ReserveHugePageHeap), and the
// blocks and scratch allocated after them came from heap grown 4 KiB page by
// 4 KiB page (the seed file as Parquet: 1,200 faults, BENCHMARKS.md session
// 16). MapBuffer returns nullptr when the kernel refuses (no memory) or the
// size is past any mapping's; pass UnmapBuffer the same size. Under a
// sanitizer both go through operator new/delete, so the sanitizer still
// checks every access. Thread-safe.
inline constexpr size_t kMapBufferBytes = size_t{4} << 20;
void* MapBuffer(size_t bytes, bool huge);
void UnmapBuffer(void* p, size_t bytes);

// UseBatchHeap: malloc's policy for a batch process (forestbatch's main(),
// the benchmarks that measure it), set once, first thing in main():
// - freed memory stays with the process for the next file: glibc otherwise
//   unmaps freed blocks of 128 KiB and more and trims heaps whose free top
//   passes 128 KiB, so a worker first-touched its chunk buffers again for
//   every file (78 page faults a 10,000-row file in `run`, 13 without;
//   BENCHMARKS.md, session 11). Blocks over 32 MiB still come from and go
//   back to the kernel, so a big model's load does not stay resident;
// - one heap for every thread: a pool thread's own arena would first-touch
//   fresh 4 KiB pages for its buffers;
// - its first 30 MiB on transparent huge pages (ReserveHugePageHeap): the
//   seed file's `predict -j 2` took 1,553 page faults and 58.8 ms of CPU,
//   221 and 41.3 ms with this (BENCHMARKS.md, session 15). Nothing is
//   resident until used; a partly used 2 MiB page is resident whole (a
//   `run` worker: 13.5 -> 15.3 MiB).
// Not thread-safe: before any other thread starts.
void UseBatchHeap();

}  // namespace fb
