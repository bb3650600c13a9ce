// LightGBM decisions on inputs at the edges of its double comparisons, with
// expected outputs worked out by hand from LightGBM's source (commit
// bae0b7ba, fixtures/LIGHTGBM_COMMIT):
//   include/LightGBM/tree.h   NumericalDecision:
//       if (std::isnan(fval) && missing_type != MissingType::NaN) fval = 0.0f;
//       if ((missing_type == MissingType::Zero && IsZero(fval))
//           || (missing_type == MissingType::NaN && std::isnan(fval)))
//         -> default side (kDefaultLeftMask)
//       if (fval <= threshold_[node]) -> left else -> right
//   include/LightGBM/tree.h   IsZero: fval >= -kZeroThreshold && fval <= kZeroThreshold
//   include/LightGBM/meta.h   const double kZeroThreshold = 1e-35f;
//                             (= 1.0000000180025095e-35 as a double)
//   include/LightGBM/tree.h   CategoricalDecision:
//       NaN -> right; int_fval = static_cast<int>(fval); int_fval < 0 -> right;
//       in the node's bitset -> left, else right
//   src/io/parser.hpp         CSVParser::ParseOneLine keeps a value only when
//       std::fabs(val) > kZeroThreshold || std::isnan(val): the zero band is 0.
// The inputs are doubles that float32 cannot separate from a threshold (the
// threshold itself, one double ulp either side, values within one float32
// rounding), the zero band's edges, and categories that truncate, are
// negative or overflow an int. They go through the CSV reader (FilePredictor),
// whose float64 input map must keep every decision; the reference predictor,
// every compiled engine and the .fbm round trip must agree.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/format.h"
#include "common/simd.h"
#include "common/test_dir.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "pipeline/file_predictor.h"

namespace fb {
namespace {

// Seven one-split trees; tree k's right leaf is 2^k and its left leaf 0, so
// a row's raw score is the set of trees in which it went right.
//   tree 0: f0 <= 0.1 (0.10000000000000001 as LightGBM prints it), missing
//           type NaN (decision_type 8), default right: NaN -> right.
//   tree 1: f0 <= 0.5, missing type Zero (4), default right: the zero band
//           and NaN (read as 0) -> right.
//   tree 2: f0 <= -5e-36 (inside the zero band), missing type None (0): NaN
//           is 0, and 0 > -5e-36 -> right.
//   tree 3: f0 <= kZeroThreshold (LightGBM's usual threshold between 0 and
//           positive values), missing type NaN, default left (10).
//   tree 4: f1 categorical (1), categories {0, 3, 33} (cat_threshold words
//           1 | 1 << 3 and 1 << 1) -> left, any other -> right.
//   tree 5: f2 <= 0.5, missing type Zero, default right.
//   tree 6: f2 <= -0.5, missing type None.
// f0's trees send 0 and NaN apart (tree 0: NaN right, 0 <= 0.1 left), so
// tree 1 needs the zero-as-missing test; f2's never do.
std::string TreeText(int i, int feature, const char* threshold, int decision_type, const char* cat = "") {
  std::string s =
      "Tree=" + std::to_string(i) + "\nnum_leaves=2\nnum_cat=" + (*cat ? "1" : "0") +
      "\nsplit_feature=" + std::to_string(feature) + "\nsplit_gain=1\nthreshold=" + threshold +
      "\ndecision_type=" + std::to_string(decision_type) + "\nleft_child=-1\nright_child=-2\nleaf_value=0 " +
      std::to_string(1 << i) +
      "\nleaf_weight=1 1\nleaf_count=1 1\ninternal_value=0\ninternal_weight=0\ninternal_count=2\n" + cat +
      "is_linear=0\nshrinkage=1\n\n\n";
  return s;
}

std::string EdgeModel() {
  std::string trees = TreeText(0, 0, "0.10000000000000001", 8) + TreeText(1, 0, "0.5", 4) +
                      TreeText(2, 0, "-5.0000000000000001e-36", 0) +
                      TreeText(3, 0, "1.0000000180025095e-35", 10) +
                      TreeText(4, 1, "0", 1, "cat_boundaries=0 2\ncat_threshold=9 2\n") +
                      TreeText(5, 2, "0.5", 4) + TreeText(6, 2, "-0.5", 0);
  return "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=2\n"
         "objective=regression\nfeature_names=f0 f1 f2\nfeature_infos=[-1:1] 0:3:33 [-1:1]\n\n" +
         trees + "end of trees\n";
}

struct EdgeRow {
  const char* f0;
  const char* f1;
  const char* f2;
  int want;  // trees that send the row right: 1 tree 0, 2 tree 1, 4 tree 2, ..., 64 tree 6
};

// f1 = 0 is in the category set (tree 4 left) and f2 = -1 goes left in
// trees 5 and 6, unless a row probes them.
const EdgeRow kRows[] = {
    // At and around 0.1 (tree 0). float(0.1) = 0.100000001 > 0.1, so a
    // float32 comparison sent the first, second and fourth rows right.
    {"0.1", "0", "-1", 4 + 8},                      // 0.1 <= 0.1: left; > -5e-36 and > kZeroThreshold: right
    {"0.09999999999999999", "0", "-1", 4 + 8},      // one double ulp below: left
    {"0.10000000000000002", "0", "-1", 1 + 4 + 8},  // one double ulp above: right
    {"0.0999999985", "0", "-1", 4 + 8},             // rounds to float(0.1), still < 0.1: left
    // 0.5 (tree 1, missing type Zero: only zeros take the default).
    {"0.5", "0", "-1", 1 + 4 + 8},  // 0.5 <= 0.5: left in tree 1
    {"0.5000000000000001", "0", "-1", 1 + 2 + 4 + 8},
    // The zero band: every |v| <= kZeroThreshold is 0 (parser), which is
    // missing for tree 1 (right), > -5e-36 for tree 2 (right), <= the
    // threshold of tree 3 (left).
    {"0", "0", "-1", 2 + 4},
    {"-0", "0", "-1", 2 + 4},
    {"1e-35", "0", "-1", 2 + 4},                    // 1e-35 < 1.0000000180025095e-35
    {"1.0000000180025095e-35", "0", "-1", 2 + 4},   // the band's edge is inside
    {"-1.0000000180025095e-35", "0", "-1", 2 + 4},  // as is the negative edge
    {"-6e-36", "0", "-1", 2 + 4},                   // read as 0, so not <= -5e-36
    {"1.0000000180025096e-35", "0", "-1", 4 + 8},   // one ulp past the edge: not zero; > kZeroThreshold
    {"-1.0000000180025096e-35", "0", "-1", 0},      // not zero; <= -5e-36; <= the rest
    // NaN: tree 0 default right; tree 1 NaN -> 0 -> zero -> default right;
    // tree 2 NaN -> 0 -> right; tree 3 default left.
    {"nan", "0", "-1", 1 + 2 + 4},
    {"inf", "0", "-1", 1 + 2 + 4 + 8},
    {"-inf", "0", "-1", 0},
    // Categories (tree 4), f0 = 0.25 (1 + 4 + 8): static_cast<int> truncates.
    {"0.25", "3", "-1", 1 + 4 + 8},
    {"0.25", "2.9999999999999996", "-1", 1 + 4 + 8 + 16},  // int 2 (float32 would read 3.0)
    {"0.25", "3.9999999999999996", "-1", 1 + 4 + 8},       // int 3 (float32 would read 4.0)
    {"0.25", "32.99999999999999", "-1", 1 + 4 + 8 + 16},   // int 32 (float32 would read 33.0)
    {"0.25", "33.5", "-1", 1 + 4 + 8},                     // int 33
    {"0.25", "-0.5", "-1", 1 + 4 + 8},                     // int 0: in the set
    {"0.25", "-0.9999999999999999", "-1", 1 + 4 + 8},      // int 0 (float32 would read -1.0)
    {"0.25", "0.9999999999999999", "-1", 1 + 4 + 8},       // int 0 (float32 would read 1.0)
    {"0.25", "-1", "-1", 1 + 4 + 8 + 16},                  // negative: right
    {"0.25", "nan", "-1", 1 + 4 + 8 + 16},                 // NaN: right
    {"0.25", "1e-36", "-1", 1 + 4 + 8},                    // the zero band: 0
    {"0.25", "2147483648", "-1", 1 + 4 + 8 + 16},          // past INT_MAX: INT_MIN on x86-64, negative
    {"0.25", "4294967299", "-1", 1 + 4 + 8 + 16},          // 2^32 + 3: INT_MIN too (not 3)
    {"0.25", "inf", "-1", 1 + 4 + 8 + 16},
    {"0.25", "-inf", "-1", 1 + 4 + 8 + 16},
    // f2 (trees 5 and 6: missing types Zero and None, so 0 and NaN always
    // go together; the map reads the zero band as NaN), f0 = 0.25.
    {"0.25", "0", "0", 1 + 4 + 8 + 32 + 64},                   // zero: tree 5 default right; 0 > -0.5
    {"0.25", "0", "nan", 1 + 4 + 8 + 32 + 64},                 // NaN is read as 0 by both trees
    {"0.25", "0", "1e-35", 1 + 4 + 8 + 32 + 64},               // the zero band is 0
    {"0.25", "0", "1.0000000180025096e-35", 1 + 4 + 8 + 64},   // not zero: <= 0.5; > -0.5
    {"0.25", "0", "-1.0000000180025096e-35", 1 + 4 + 8 + 64},  // not zero: <= 0.5; > -0.5
    {"0.25", "0", "0.5", 1 + 4 + 8 + 64},
    {"0.25", "0", "0.5000000000000001", 1 + 4 + 8 + 32 + 64},
    {"0.25", "0", "-0.5", 1 + 4 + 8},                       // -0.5 <= -0.5: left in both
    {"0.25", "0", "-0.49999999999999994", 1 + 4 + 8 + 64},  // one double ulp above -0.5
};

class LightgbmEdges : public testing::TestDirTest {};

TEST_F(LightgbmEdges, EveryDoubleDecisionIsLightgbms) {
  auto loaded = LoadModelBytes(EdgeModel(), "edges.txt");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto forest = std::make_shared<const Forest>(std::move(loaded).value());
  ASSERT_EQ(forest->float64_features.size(), 3u);
  EXPECT_TRUE(forest->float64_features[0].lightgbm);
  EXPECT_FALSE(forest->float64_features[0].zero_is_missing);
  EXPECT_TRUE(forest->trees[1].nodes[0].zero_missing);
  EXPECT_TRUE(forest->float64_features[1].categorical);
  EXPECT_TRUE(forest->float64_features[2].zero_is_missing);
  EXPECT_FALSE(forest->trees[5].nodes[0].zero_missing);

  // The CSV reader's parse and map, end to end.
  std::string csv = "f0,f1,f2\n", want = "prediction\n";
  for (const EdgeRow& r : kRows) {
    csv += std::string(r.f0) + "," + r.f1 + "," + r.f2 + "\n";
    want += PythonFloat(static_cast<double>(r.want)) + "\n";
  }
  std::ofstream(Path("x.csv")) << csv;
  PredictOptions o;
  auto fp = FilePredictor::Create(forest, o);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  auto st = (*fp)->Run(Path("x.csv"), Path("out.csv"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::ifstream in(Path("out.csv"));
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), want);

  // The same rows mapped here: reference, every engine, the .fbm round trip.
  const size_t n = std::size(kRows);
  std::vector<float> x;
  for (const EdgeRow& r : kRows) {
    x.push_back(Float64FeatureValue(forest->float64_features[0], std::strtod(r.f0, nullptr)));
    x.push_back(Float64FeatureValue(forest->float64_features[1], std::strtod(r.f1, nullptr)));
    x.push_back(Float64FeatureValue(forest->float64_features[2], std::strtod(r.f2, nullptr)));
  }
  std::vector<double> raw(n);
  MakeReferencePredictor(forest)->PredictRaw(x.data(), n, raw.data());
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(raw[i], kRows[i].want) << "row " << i << ": f0=" << kRows[i].f0 << " f1=" << kRows[i].f1
                                     << " f2=" << kRows[i].f2;
  for (SimdTarget target : SupportedSimdTargets()) {
    std::vector<double> engine(n);
    MakeCompiledPredictor(forest, target)->PredictRaw(x.data(), n, engine.data());
    EXPECT_EQ(engine, raw) << SimdTargetName(target);
  }
  auto bytes = SerializeNativeModel(*forest);
  ASSERT_TRUE(bytes.ok());
  auto back = LoadModelBytes(*bytes, "edges.fbm");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  std::vector<double> again(n);
  MakeReferencePredictor(std::make_shared<const Forest>(std::move(back).value()))
      ->PredictRaw(x.data(), n, again.data());
  EXPECT_EQ(again, raw);
}

}  // namespace
}  // namespace fb
