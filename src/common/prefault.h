// PrefaultForWrite: maps the pages of a freshly allocated buffer in one
// system call (madvise MADV_POPULATE_WRITE, Linux 5.14+) instead of one page
// fault per 4 KiB page on its first write. Page faults are expensive on
// virtual machines (an exit per fault); a big buffer that is about to be
// written in full is mapped several times faster this way.
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

}  // namespace fb
