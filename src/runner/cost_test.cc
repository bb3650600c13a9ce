#include "runner/cost.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

TEST(Cost, FiguresFromVcpuSecondsAndPrice) {
  JobCost c{7200.0, 500, 2'000'000, 0.05};
  EXPECT_DOUBLE_EQ(*c.Cost(), 0.10);  // 2 vCPU-hours at 0.05
  EXPECT_DOUBLE_EQ(*c.PerThousandFiles(), 0.20);
  EXPECT_DOUBLE_EQ(*c.PerMillionRows(), 0.05);
  EXPECT_EQ(
      CostLine(c),
      "7200.0 vCPU-seconds, at 0.0500 per vCPU-hour: 0.100, 0.200 per 1,000 files, 0.0500 per million rows");
}

TEST(Cost, NoPriceNoUnitsNoFigures) {
  JobCost c{12.5, 0, 0, std::nullopt};
  EXPECT_FALSE(c.Cost());
  EXPECT_FALSE(c.PerThousandFiles());
  EXPECT_EQ(CostLine(c), "12.5 vCPU-seconds");
  c.price_per_vcpu_hour = 1.0;
  EXPECT_TRUE(c.Cost());
  EXPECT_FALSE(c.PerThousandFiles());  // no files made: no per-file figure, not a division by zero
  EXPECT_FALSE(c.PerMillionRows());
}

TEST(Cost, ParsePriceAcceptsPlainDecimalsOnly) {
  EXPECT_DOUBLE_EQ(*ParsePrice("0.0425", "x"), 0.0425);
  EXPECT_DOUBLE_EQ(*ParsePrice("3", "x"), 3.0);
  EXPECT_DOUBLE_EQ(*ParsePrice(".5", "x"), 0.5);
  for (const char* bad : {"", "-1", "+1", "1e3", "inf", "nan", "0x10", "1.2.3", ".", "1,5", " 1", "1 "}) {
    auto r = ParsePrice(bad, "FORESTBATCH_PRICE");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().ToString().find("FORESTBATCH_PRICE"), std::string::npos);
  }
}

TEST(Cost, FlagWinsOverEnvironment) {
  EXPECT_DOUBLE_EQ(**ResolvePrice("0.1", "0.2"), 0.1);
  EXPECT_DOUBLE_EQ(**ResolvePrice("", "0.2"), 0.2);
  EXPECT_FALSE(*ResolvePrice("", nullptr));
  EXPECT_FALSE(*ResolvePrice("", ""));
  EXPECT_FALSE(ResolvePrice("", "abc").ok());
  EXPECT_FALSE(ResolvePrice("abc", "0.2").ok());
}

TEST(Cost, FormatAmount) {
  EXPECT_EQ(FormatAmount(0), "0");
  EXPECT_EQ(FormatAmount(12.4), "12.40");
  EXPECT_EQ(FormatAmount(0.000137), "0.000137");
  EXPECT_EQ(FormatAmount(0.5), "0.500");
}

}  // namespace
}  // namespace fb
