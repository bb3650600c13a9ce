#include "common/simd.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// CpuHas reads cpuid itself (the binary must not link libgcc's CPU model,
// simd.h): it agrees with GCC's __builtin_cpu_supports, which this test may
// use, on every feature, on whatever CPU runs the tests.
TEST(CpuHas, AgreesWithGccOnEveryFeature) {
  __builtin_cpu_init();
  EXPECT_EQ(CpuHas(CpuFeature::kSse41), __builtin_cpu_supports("sse4.1") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kPclmul), __builtin_cpu_supports("pclmul") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kBmi), __builtin_cpu_supports("bmi") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kBmi2), __builtin_cpu_supports("bmi2") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx2), __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512f), __builtin_cpu_supports("avx512f") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512dq), __builtin_cpu_supports("avx512dq") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512cd), __builtin_cpu_supports("avx512cd") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512bw), __builtin_cpu_supports("avx512bw") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512vl), __builtin_cpu_supports("avx512vl") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512vbmi), __builtin_cpu_supports("avx512vbmi") != 0);
  EXPECT_EQ(CpuHas(CpuFeature::kAvx512vbmi2), __builtin_cpu_supports("avx512vbmi2") != 0);
}

TEST(CpuHas, TargetsFollowTheirFeatures) {
  EXPECT_TRUE(SimdTargetSupported(SimdTarget::kScalar));
  EXPECT_EQ(SimdTargetSupported(SimdTarget::kAvx2), CpuHas(CpuFeature::kAvx2) && CpuHas(CpuFeature::kBmi));
  EXPECT_EQ(SimdTargetSupported(SimdTarget::kAvx512),
            CpuHas(CpuFeature::kAvx512f) && CpuHas(CpuFeature::kAvx2));
  // Every AVX-512 subset implies the foundation.
  for (CpuFeature f : {CpuFeature::kAvx512dq, CpuFeature::kAvx512cd, CpuFeature::kAvx512bw,
                       CpuFeature::kAvx512vl, CpuFeature::kAvx512vbmi, CpuFeature::kAvx512vbmi2}) {
    if (CpuHas(f)) {
      EXPECT_TRUE(CpuHas(CpuFeature::kAvx512f)) << static_cast<int>(f);
    }
  }
}
#endif

}  // namespace
}  // namespace fb
