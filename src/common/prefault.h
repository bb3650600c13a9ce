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

}  // namespace fb
