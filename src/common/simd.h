// SIMD targets of the compiled forest engine's kernels (infer/) and of the
// Parquet reader's (io/parquet_simd.h), and how one is chosen at run time.
//
// One binary carries a kernel per target (compiled with per-function target
// attributes, never -march=native) and picks the best one the CPU supports.
// FORESTBATCH_SIMD=scalar|avx2|avx512 forces a target (a forced target the
// CPU lacks falls back to the best supported one, with a note on stderr).
//
// Thread safety: all functions are safe to call from any thread.
#pragma once

#include <string>
#include <vector>

namespace fb {

enum class SimdTarget : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* SimdTargetName(SimdTarget t);

// True when this CPU (and OS) can run `t`'s kernel.
bool SimdTargetSupported(SimdTarget t);

// Every target this CPU supports, scalar first.
std::vector<SimdTarget> SupportedSimdTargets();

// The target MakeBestPredictor uses: FORESTBATCH_SIMD if set and supported,
// else the best supported one.
SimdTarget ChosenSimdTarget();

// Parses "scalar", "avx2" or "avx512"; false for anything else.
bool ParseSimdTarget(const std::string& s, SimdTarget* out);

// CPU features the kernels choose by, as GCC's __builtin_cpu_supports reports
// them (the AVX ones only where the OS saves their registers: XCR0), read by
// cpuid once, on first use. Use this, never __builtin_cpu_supports: that one
// links libgcc's __cpu_indicator_init, a constructor that runs about a dozen
// cpuid instructions at every process start, 70 us on a virtual machine
// where each is an exit to the hypervisor (about 5 us); the test
// forestbatch_has_no_cpu_indicator_init checks the binary has none.
enum class CpuFeature : int {
  kSse41,
  kPclmul,
  kBmi,
  kBmi2,
  kAvx2,
  kAvx512f,
  kAvx512dq,
  kAvx512cd,
  kAvx512bw,
  kAvx512vl,
  kAvx512vbmi,
  kAvx512vbmi2,
};
bool CpuHas(CpuFeature f);

}  // namespace fb
