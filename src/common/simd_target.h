// Target regions for the per-target kernel files (bitvector_kernel_<target>.cc,
// complete_kernel_<target>.cc):
//
//   #include "common/simd_target.h"   // with the library headers, before
//   FB_TARGET_BEGIN("avx2,bmi")
//   ... everything here is compiled for AVX2 (and BMI) ...
//   FB_TARGET_END()
//
// GCC's target pragma, or clang's attribute push, so that each file states
// its instruction set once. Code in a region has internal linkage (an
// anonymous namespace), apart from the kernel's entry point, and includes
// nothing: no inline library code is compiled for a target by accident and
// taken for another target's copy at link time.
#pragma once

#define FB_PRAGMA(x) _Pragma(#x)

#if defined(__clang__)
#define FB_TARGET_BEGIN(targets) \
  FB_PRAGMA(clang attribute push(__attribute__((target(targets))), apply_to = function))
#define FB_TARGET_END() FB_PRAGMA(clang attribute pop)
#else
#define FB_TARGET_BEGIN(targets) FB_PRAGMA(GCC push_options) FB_PRAGMA(GCC target(targets))
#define FB_TARGET_END() FB_PRAGMA(GCC pop_options)
#endif
