#include "common/format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace fb {
namespace {

TEST(PythonFloatTest, MatchesPythonRepr) {
  // Expected strings are Python 3's repr(float).
  EXPECT_EQ(PythonFloat(0.0), "0.0");
  EXPECT_EQ(PythonFloat(-0.0), "-0.0");
  EXPECT_EQ(PythonFloat(1.0), "1.0");
  EXPECT_EQ(PythonFloat(0.1), "0.1");
  EXPECT_EQ(PythonFloat(0.115), "0.115");
  EXPECT_EQ(PythonFloat(123456.5), "123456.5");
  EXPECT_EQ(PythonFloat(1e-05), "1e-05");
  EXPECT_EQ(PythonFloat(0.0001), "0.0001");
  EXPECT_EQ(PythonFloat(1.5e-07), "1.5e-07");
  EXPECT_EQ(PythonFloat(1e16), "1e+16");
  EXPECT_EQ(PythonFloat(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(PythonFloat(2.5e+100), "2.5e+100");
  EXPECT_EQ(PythonFloat(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(PythonFloat(std::nan("")), "nan");
  EXPECT_EQ(PythonFloat(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace fb
