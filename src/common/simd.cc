#include "common/simd.h"

#include <cstdio>
#include <cstdlib>

namespace fb {

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
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    // libgcc's cpu model also checks XCR0, so an OS that does not save the
    // YMM/ZMM state reports the feature as absent.
    case SimdTarget::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
    case SimdTarget::kAvx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2");
#endif
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
