#include "common/simd.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define FB_X86_CPUID 1
#endif

namespace fb {

namespace {

// Bit i set when CpuFeature i is present.
uint32_t ReadCpuFeatures() {
  uint32_t out = 0;
#ifdef FB_X86_CPUID
  auto set = [&out](CpuFeature f, bool on) {
    if (on) out |= 1u << static_cast<int>(f);
  };
  unsigned a = 0, b = 0, c = 0, d = 0;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return 0;
  __cpuid(1, a, b, c, d);
  set(CpuFeature::kSse41, c & bit_SSE4_1);
  set(CpuFeature::kPclmul, c & bit_PCLMUL);
  // As libgcc: AVX registers usable only where the OS saves them (XCR0):
  // SSE and YMM state for AVX2; also the opmask and both ZMM states for AVX-512.
  bool avx_ok = false, avx512_ok = false;
  if ((c & bit_OSXSAVE) != 0) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    avx_ok = (lo & 0x6) == 0x6;
    avx512_ok = (lo & 0xe6) == 0xe6;
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    set(CpuFeature::kBmi, b & bit_BMI);
    set(CpuFeature::kBmi2, b & bit_BMI2);
    set(CpuFeature::kAvx2, avx_ok && (b & bit_AVX2));
    set(CpuFeature::kAvx512f, avx512_ok && (b & bit_AVX512F));
    set(CpuFeature::kAvx512dq, avx512_ok && (b & bit_AVX512DQ));
    set(CpuFeature::kAvx512cd, avx512_ok && (b & bit_AVX512CD));
    set(CpuFeature::kAvx512bw, avx512_ok && (b & bit_AVX512BW));
    set(CpuFeature::kAvx512vl, avx512_ok && (b & bit_AVX512VL));
    set(CpuFeature::kAvx512vbmi, avx512_ok && (c & bit_AVX512VBMI));
    set(CpuFeature::kAvx512vbmi2, avx512_ok && (c & bit_AVX512VBMI2));
  }
#endif
  return out;
}

}  // namespace

bool CpuHas(CpuFeature f) {
  static const uint32_t features = ReadCpuFeatures();
  return (features >> static_cast<int>(f)) & 1;
}

const char* SimdTargetName(SimdTarget t) {
  switch (t) {
    case SimdTarget::kScalar: return "scalar";
    case SimdTarget::kAvx2: return "avx2";
    case SimdTarget::kAvx512: return "avx512";
  }
  return "?";
}

bool SimdTargetSupported(SimdTarget t) {
  switch (t) {
    case SimdTarget::kScalar: return true;
    // CpuHas also checks XCR0, so an OS that does not save the YMM/ZMM state
    // reports the feature as absent.
    case SimdTarget::kAvx2: return CpuHas(CpuFeature::kAvx2) && CpuHas(CpuFeature::kBmi);
    case SimdTarget::kAvx512: return CpuHas(CpuFeature::kAvx512f) && CpuHas(CpuFeature::kAvx2);
    default: return false;
  }
}

std::vector<SimdTarget> SupportedSimdTargets() {
  std::vector<SimdTarget> out;
  for (SimdTarget t : {SimdTarget::kScalar, SimdTarget::kAvx2, SimdTarget::kAvx512})
    if (SimdTargetSupported(t)) out.push_back(t);
  return out;
}

bool ParseSimdTarget(const std::string& s, SimdTarget* out) {
  for (SimdTarget t : {SimdTarget::kScalar, SimdTarget::kAvx2, SimdTarget::kAvx512}) {
    if (s == SimdTargetName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

namespace {
SimdTarget Choose() {
  SimdTarget best = SupportedSimdTargets().back();
  const char* env = std::getenv("FORESTBATCH_SIMD");
  if (env == nullptr || *env == '\0') return best;
  SimdTarget forced;
  if (!ParseSimdTarget(env, &forced)) {
    std::fprintf(stderr, "forestbatch: ignoring FORESTBATCH_SIMD=%s (want scalar, avx2 or avx512)\n", env);
    return best;
  }
  if (!SimdTargetSupported(forced)) {
    std::fprintf(stderr, "forestbatch: FORESTBATCH_SIMD=%s is not supported by this CPU; using %s\n", env,
                 SimdTargetName(best));
    return best;
  }
  return forced;
}
}  // namespace

SimdTarget ChosenSimdTarget() {
  static const SimdTarget chosen = Choose();
  return chosen;
}

}  // namespace fb
