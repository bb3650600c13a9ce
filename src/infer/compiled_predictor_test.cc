// Differential tests: every compiled layout on every SIMD target this CPU
// supports must give bit-identical sums to the reference predictor.
#include "infer/compiled_predictor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "infer/compiled_forest.h"
#include "infer/complete_kernels.h"
#include "model/forest_builder.h"

namespace fb {
namespace {

struct Shape {
  int n_features = 5;
  int n_outputs = 1;
  int leaf_width = 1;
  int n_trees = 10;
  int min_depth = 0;  // of the spine: one path reaches max_depth
  int max_depth = 5;
  double split_p = 0.7;  // chance an off-spine node splits
  double cat_p = 0.0;    // chance a split is categorical
  double default_left_p = 0.5;
  int max_nodes = 4000;
  bool fine_thresholds = false;  // continuous thresholds: few repeat
  // XGBoost-style: float32 leaf values and base margins, float32 sums.
  bool float32_sums = false;
};

class ForestGen {
 public:
  explicit ForestGen(uint32_t seed) : rng_(seed) {}

  float Threshold(bool fine) {
    if (fine && Uniform() > 0.02) return static_cast<float>(Normal() * 4.0);
    static const float kSpecial[] = {std::numeric_limits<float>::infinity(),
                                     -std::numeric_limits<float>::infinity(),
                                     FLT_MAX,
                                     -FLT_MAX,
                                     FLT_MIN,
                                     -FLT_MIN,
                                     std::numeric_limits<float>::denorm_min(),
                                     0.0f,
                                     -0.0f,
                                     1.0f};
    if (Uniform() < 0.1) return kSpecial[rng_() % 10];
    return static_cast<float>(std::round(Normal() * 8.0) / 4.0);  // coarse: rows hit it exactly
  }

  std::shared_ptr<const Forest> Make(const Shape& s) {
    Forest f;
    f.kind = ModelKind::kRegressor;
    f.n_features = s.n_features;
    f.n_outputs = s.n_outputs;
    f.leaf_width = s.leaf_width;
    for (int t = 0; t < s.n_trees; ++t) {
      int depth = s.min_depth + static_cast<int>(rng_() % (s.max_depth - s.min_depth + 1));
      f.trees.push_back(MakeTree(s, depth, &f));
    }
    if (s.float32_sums) {
      f.float32_sums = true;
      f.aggregate = Aggregate::kSum;
      for (int k = 0; k < s.n_outputs; ++k) f.base_margin.push_back(static_cast<float>(Normal()));
      for (Tree& t : f.trees)
        for (double& v : t.values) v = static_cast<float>(v);
    }
    thresholds_.clear();
    for (const Tree& t : f.trees)
      for (const Node& n : t.nodes)
        if (!n.is_leaf() && !n.categorical) thresholds_.push_back(n.threshold);
    auto r = BuildForest(std::move(f));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::make_shared<const Forest>(std::move(r).value());
  }

  // Rows mixing exact thresholds, their neighbours, NaN, infinities, small
  // integers (categories) and noise.
  std::vector<float> Rows(size_t n, int nf, double nan_p) {
    std::vector<float> x(n * nf);
    for (float& v : x) {
      double u = Uniform();
      if (u < nan_p) {
        v = NAN;
      } else if (u < 0.45 && !thresholds_.empty()) {
        v = thresholds_[rng_() % thresholds_.size()];
        int k = rng_() % 3;
        if (k == 1) v = std::nextafter(v, INFINITY);
        if (k == 2) v = std::nextafter(v, -INFINITY);
      } else if (u < 0.5) {
        v = (rng_() & 1) ? INFINITY : -INFINITY;
      } else if (u < 0.7) {
        v = static_cast<float>(static_cast<int>(rng_() % 12) - 1) + ((rng_() % 8 == 0) ? 0.5f : 0.0f);
      } else {
        v = static_cast<float>(Normal() * 4.0);
      }
    }
    return x;
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  double Normal() { return std::normal_distribution<double>(0, 1)(rng_); }

  Tree MakeTree(const Shape& s, int depth, Forest* f) {
    Tree t;
    t.output = static_cast<int32_t>(rng_() % s.n_outputs);
    t.nodes.push_back(Node{});
    struct Item {
      int32_t node, depth;
      bool spine;
    };
    std::vector<Item> work{{0, 0, true}};
    while (!work.empty()) {
      Item it = work.back();
      work.pop_back();
      bool split = it.depth < depth && static_cast<int>(t.nodes.size()) + 2 <= s.max_nodes &&
                   (it.spine || Uniform() < s.split_p);
      if (!split) continue;
      Node n;
      n.feature = static_cast<int32_t>(rng_() % s.n_features);
      n.default_left = Uniform() < s.default_left_p;
      if (Uniform() < s.cat_p) {
        n.categorical = true;
        std::vector<int32_t> cats;
        for (int c = 0; c < 10; ++c)
          if (rng_() % 3 == 0) cats.push_back(c);
        n.cat_begin = static_cast<uint32_t>(f->categories.size());
        n.cat_count = static_cast<uint32_t>(cats.size());
        f->categories.insert(f->categories.end(), cats.begin(), cats.end());
      } else {
        n.threshold = Threshold(s.fine_thresholds);
      }
      n.left = static_cast<int32_t>(t.nodes.size());
      n.right = n.left + 1;
      t.nodes.push_back(Node{});
      t.nodes.push_back(Node{});
      t.nodes[it.node] = n;
      bool spine_left = rng_() & 1;
      work.push_back({n.left, it.depth + 1, it.spine && spine_left});
      work.push_back({n.right, it.depth + 1, it.spine && !spine_left});
    }
    // Shuffle node ids (root stays 0): layouts must not rely on the order.
    const size_t nn = t.nodes.size();
    std::vector<int32_t> perm(nn);
    for (size_t i = 0; i < nn; ++i) perm[i] = static_cast<int32_t>(i);
    std::shuffle(perm.begin() + 1, perm.end(), rng_);
    std::vector<Node> nodes(nn);
    for (size_t i = 0; i < nn; ++i) {
      Node n = t.nodes[i];
      if (!n.is_leaf()) n.left = perm[n.left], n.right = perm[n.right];
      nodes[perm[i]] = n;
    }
    t.nodes = std::move(nodes);
    t.values.resize(nn * s.leaf_width);
    for (double& v : t.values) v = Normal() * std::pow(10.0, static_cast<int>(rng_() % 7) - 3);
    return t;
  }

  std::mt19937 rng_;
  std::vector<float> thresholds_;
};

// Runs every supported target on `x` and compares bit for bit.
void ExpectIdentical(const std::shared_ptr<const Forest>& f, const std::vector<float>& x, size_t n_rows,
                     size_t offset = 0) {
  const size_t no = f->n_outputs;
  // `offset` misaligns the input (odd addresses relative to SIMD widths).
  std::vector<float> shifted(offset + x.size());
  std::copy(x.begin(), x.end(), shifted.begin() + offset);
  std::vector<double> want(n_rows * no + 1, -1.0);
  MakeReferencePredictor(f)->PredictRaw(shifted.data() + offset, n_rows, want.data());
  for (SimdTarget target : SupportedSimdTargets()) {
    auto p = MakeCompiledPredictor(f, target);
    std::vector<double> got(n_rows * no + 1, -1.0);
    p->PredictRaw(shifted.data() + offset, n_rows, got.data());
    ASSERT_EQ(got.back(), -1.0) << "wrote past the end";
    for (size_t i = 0; i < n_rows * no; ++i) {
      if (std::memcmp(&got[i], &want[i], sizeof(double)) != 0) {
        FAIL() << p->name() << ": row " << i / no << " output " << i % no << ": " << got[i]
               << " != " << want[i];
      }
    }
  }
}

void CheckShape(const Shape& s, uint32_t seed, double nan_p = 0.05) {
  ForestGen g(seed);
  auto f = g.Make(s);
  // Tile edges: 64-row vectors and words, 128-row byte tiles, 256-row (AVX2)
  // and 512-row (AVX-512) bit tiles, full and not.
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{17}, size_t{64}, size_t{65}, size_t{129},
                   size_t{255}, size_t{257}, size_t{512}, size_t{513}, size_t{1100}}) {
    SCOPED_TRACE("rows " + std::to_string(n));
    ExpectIdentical(f, g.Rows(n, s.n_features, nan_p), n, n % 3);
  }
}

TEST(CompiledPredictorTest, TargetsIncludeScalar) {
  auto t = SupportedSimdTargets();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.front(), SimdTarget::kScalar);
  SimdTarget parsed;
  EXPECT_TRUE(ParseSimdTarget("avx2", &parsed));
  EXPECT_EQ(parsed, SimdTarget::kAvx2);
  EXPECT_FALSE(ParseSimdTarget("sse9", &parsed));
  for (SimdTarget x : t) std::printf("supported SIMD target: %s\n", SimdTargetName(x));
}

TEST(CompiledPredictorTest, ShallowTreesEveryDepth) {
  for (int d = 0; d <= 5; ++d) {
    SCOPED_TRACE("depth " + std::to_string(d));
    Shape s;
    s.min_depth = d;
    s.max_depth = d;
    s.split_p = 1.0;  // complete trees
    CheckShape(s, 100 + d);
    s.split_p = 0.5;
    CheckShape(s, 200 + d);
  }
}

TEST(CompiledPredictorTest, SeedLikeForestUsesCompleteLayout) {
  Shape s;
  s.n_features = 59;
  s.n_trees = 200;
  s.min_depth = 5;
  s.max_depth = 5;
  s.split_p = 0.9;
  ForestGen g(7);
  auto f = g.Make(s);
  CompiledForest cf = CompileForest(f);
  ASSERT_EQ(cf.runs.size(), 1u);
  EXPECT_EQ(cf.runs[0].layout, TreeLayout::kComplete);
  for (double nan_p : {0.0, 0.01}) ExpectIdentical(f, g.Rows(1000, 59, nan_p), 1000);
}

// Depth 6 (XGBoost's default) is the deepest complete layout; every row
// count around the 8-row blocks and the tiles.
TEST(CompiledPredictorTest, CompleteLayoutDepthSixAndTileEdges) {
  Shape s;
  s.n_features = 12;
  s.n_trees = 30;
  s.min_depth = 6;
  s.max_depth = 6;
  s.split_p = 0.8;
  ForestGen g(31);
  auto f = g.Make(s);
  CompiledForest cf = CompileForest(f);
  ASSERT_EQ(cf.runs.size(), 1u);
  EXPECT_EQ(cf.runs[0].layout, TreeLayout::kComplete);
  for (size_t n :
       {size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{64}, size_t{71}, size_t{128}, size_t{200}}) {
    SCOPED_TRACE("rows " + std::to_string(n));
    ExpectIdentical(f, g.Rows(n, s.n_features, 0.05), n, n % 5);
  }
}

// Two outputs of leaf_width 2 (scikit-learn binary classifiers) with
// double sums: on AVX-512, chunks of 16 trees all of depth <= 5 add their
// leaves by in-register lookups in blocks of 32 rows; the rows past the last
// block, any chunk with a deeper tree and fewer rows than a block by the
// plain pair additions. Every depth 1 to
// 5 alone, depths 0 to 5 mixed in a chunk, depth 6 (falls back) alone and
// mixed with shallower trees; unranked (bit tiles) and ranked (byte tiles)
// runs; row counts around the blocks and tiles.
TEST(CompiledPredictorTest, CompletePairsEveryDepth) {
  struct Case {
    int min_depth, max_depth, n_trees;
    bool fine;  // continuous thresholds: an unranked run
  };
  const Case cases[] = {{1, 1, 20, true},   {2, 2, 20, true},  {3, 3, 20, true}, {4, 4, 20, true},
                        {5, 5, 40, true},   {0, 5, 37, true},  {6, 6, 20, true}, {4, 6, 40, true},
                        {5, 5, 300, false}, {1, 6, 300, false}};
  uint32_t seed = 1400;
  for (const Case& c : cases) {
    SCOPED_TRACE("depths " + std::to_string(c.min_depth) + ".." + std::to_string(c.max_depth) +
                 (c.fine ? " unranked" : " ranked"));
    Shape s;
    s.n_features = 9;
    s.n_outputs = 2;
    s.leaf_width = 2;
    s.min_depth = c.min_depth;
    s.max_depth = c.max_depth;
    s.n_trees = c.n_trees;
    s.split_p = 0.85;
    s.fine_thresholds = c.fine;
    ForestGen g(seed++);
    auto f = g.Make(s);
    CompiledForest cf = CompileForest(f);
    ASSERT_EQ(cf.runs.size(), 1u);
    ASSERT_EQ(cf.runs[0].layout, TreeLayout::kComplete);
    ASSERT_EQ(cf.complete_runs.size(), 1u);
    EXPECT_EQ(cf.complete_runs[0].ranked, !c.fine);
    for (size_t n : {size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{63}, size_t{95}, size_t{127},
                     size_t{129}, size_t{511}, size_t{513}, size_t{1100}}) {
      SCOPED_TRACE("rows " + std::to_string(n));
      ExpectIdentical(f, g.Rows(n, s.n_features, 0.05), n, n % 3);
    }
  }
}

// More distinct tests than one predicate table holds: several groups.
TEST(CompiledPredictorTest, CompleteLayoutSplitsPredicateGroups) {
  Shape s;
  s.n_features = 40;
  s.n_trees = 120;
  s.min_depth = 4;
  s.max_depth = 6;
  ForestGen g(32);
  auto f = g.Make(s);
  CompiledForest cf = CompileForest(f);
  ASSERT_EQ(cf.runs.size(), 1u);
  ASSERT_EQ(cf.complete_runs.size(), 1u);
  EXPECT_GT(cf.complete_groups.size(), 1u);
  for (const PredicateGroup& grp : cf.complete_groups) EXPECT_LT(grp.pred_count, kGroupSlots);
  ExpectIdentical(f, g.Rows(700, s.n_features, 0.05), 700, 1);
}

// Many more tests than features: ranked runs (values ranked among each
// column's thresholds, tests as rank compares), with NaN both ways and
// values equal to thresholds; more than 255 distinct thresholds in a column
// keep float tests.
TEST(CompiledPredictorTest, CompleteLayoutRankedRuns) {
  for (bool fine : {false, true}) {
    SCOPED_TRACE(fine ? "fine thresholds" : "coarse thresholds");
    Shape s;
    s.n_features = 8;
    s.n_trees = 400;
    s.min_depth = 4;
    s.max_depth = 6;
    s.fine_thresholds = fine;
    ForestGen g(36 + fine);
    auto f = g.Make(s);
    CompiledForest cf = CompileForest(f);
    ASSERT_EQ(cf.complete_runs.size(), 1u);
    EXPECT_EQ(cf.complete_runs[0].ranked, !fine);
    for (size_t n : {size_t{8}, size_t{64}, size_t{333}})
      ExpectIdentical(f, g.Rows(n, s.n_features, 0.1), n, 1);
  }
}

// A run reading a few features of a wide input gathers only those
// (not dense); one reading most of a range copies the whole range.
TEST(CompiledPredictorTest, CompleteLayoutSparseAndDenseFeatures) {
  for (int nf : {3000, 64}) {
    SCOPED_TRACE("features " + std::to_string(nf));
    Shape s;
    s.n_features = nf;
    s.n_trees = 8;
    s.min_depth = 2;
    s.max_depth = 5;
    ForestGen g(33 + nf);
    auto f = g.Make(s);
    CompiledForest cf = CompileForest(f);
    ASSERT_EQ(cf.complete_runs.size(), 1u);
    EXPECT_EQ(cf.complete_runs[0].dense, nf == 64);
    ExpectIdentical(f, g.Rows(150, nf, 0.02), 150, 2);
  }
}

// Trees deeper than the complete layout with at most 32 leaves.
TEST(CompiledPredictorTest, BitvectorLayoutForDeepSparseTrees) {
  Shape s;
  s.min_depth = 7;
  s.max_depth = 12;
  s.split_p = 0.15;
  s.n_trees = 20;
  ForestGen g(34);
  auto f = g.Make(s);
  CompiledForest cf = CompileForest(f);
  EXPECT_FALSE(cf.bv_trees.empty());
  CheckShape(s, 35);
  ExpectIdentical(f, g.Rows(300, s.n_features, 0.05), 300);
}

TEST(CompiledPredictorTest, DeepTreesUpToDepth40) {
  for (int d : {6, 8, 12, 20, 40}) {
    SCOPED_TRACE("depth " + std::to_string(d));
    Shape s;
    s.min_depth = d;
    s.max_depth = d;
    s.split_p = d <= 8 ? 0.9 : 0.6;
    s.n_features = 9;
    CheckShape(s, 300 + d);
  }
}

TEST(CompiledPredictorTest, MixedLayoutsKeepTreeOrder) {
  Shape s;
  s.min_depth = 0;
  s.max_depth = 14;
  s.n_trees = 40;
  s.cat_p = 0.03;  // some trees become generic
  ForestGen g(11);
  auto f = g.Make(s);
  CompiledForest cf = CompileForest(f);
  EXPECT_GE(cf.runs.size(), 3u);
  for (size_t n : {size_t{1}, size_t{17}, size_t{1100}}) ExpectIdentical(f, g.Rows(n, s.n_features, 0.05), n);
}

TEST(CompiledPredictorTest, MultiOutputWideLeaves) {
  for (int d : {3, 5, 10}) {
    Shape s;
    s.n_outputs = 3;
    s.leaf_width = 3;
    s.min_depth = d;
    s.max_depth = d;
    CheckShape(s, 400 + d);
  }
}

TEST(CompiledPredictorTest, ScalarLeavesToSeveralOutputs) {
  for (int d : {2, 5, 9}) {
    Shape s;
    s.n_outputs = 4;
    s.leaf_width = 1;
    s.n_trees = 24;
    s.min_depth = 1;
    s.max_depth = d;
    CheckShape(s, 500 + d);
  }
}

TEST(CompiledPredictorTest, CategoricalSplits) {
  Shape s;
  s.cat_p = 0.4;
  s.max_depth = 7;
  CheckShape(s, 600);
}

TEST(CompiledPredictorTest, AllNanAndNoNanInputs) {
  Shape s;
  s.max_depth = 9;
  CheckShape(s, 700, 1.0);
  CheckShape(s, 701, 0.0);
}

TEST(CompiledPredictorTest, ManyFeaturesAndSingleFeature) {
  Shape wide;
  wide.n_features = 3000;  // beyond the deep layout's feature limit: generic
  wide.min_depth = 3;
  wide.max_depth = 8;
  CheckShape(wide, 800);
  Shape narrow;
  narrow.n_features = 1;
  narrow.max_depth = 12;
  CheckShape(narrow, 801);
}

// Float32 sums (XGBoost models) on every layout and leaf shape: complete
// trees (one output, pairs, several outputs), bitvector, deep, generic
// (categorical), and mixed runs. The sums must be float32 values, and must
// differ from double sums somewhere (else the test proves nothing).
TEST(CompiledPredictorTest, Float32SumsEveryLayout) {
  struct Case {
    const char* what;
    int n_outputs, leaf_width, min_depth, max_depth, n_trees;
    double split_p, cat_p;
    TreeLayout layout;  // that the first tree gets (kGeneric: mixed, not checked)
  };
  const Case cases[] = {
      {"complete single", 1, 1, 4, 6, 60, 0.8, 0.0, TreeLayout::kComplete},
      // Depths 0 to 6 within one chunk of trees (AVX-512 looks leaves up in
      // zero-padded 64-leaf tables).
      {"complete single every depth", 1, 1, 0, 6, 50, 0.8, 0.0, TreeLayout::kComplete},
      {"complete pairs", 2, 2, 3, 5, 40, 0.8, 0.0, TreeLayout::kComplete},
      {"complete several outputs", 3, 1, 2, 6, 45, 0.8, 0.0, TreeLayout::kComplete},
      {"complete wide leaves", 3, 3, 2, 5, 20, 0.8, 0.0, TreeLayout::kComplete},
      {"bitvector", 1, 1, 9, 12, 30, 0.05, 0.0, TreeLayout::kBitvector},
      {"bitvector wide leaves", 3, 3, 9, 12, 20, 0.05, 0.0, TreeLayout::kBitvector},
      {"deep", 1, 1, 10, 14, 20, 0.9, 0.0, TreeLayout::kDeep},
      {"deep several outputs", 3, 1, 10, 14, 21, 0.9, 0.0, TreeLayout::kDeep},
      {"mixed with categorical", 2, 1, 0, 12, 60, 0.6, 0.05, TreeLayout::kGeneric},
  };
  uint32_t seed = 900;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Shape s;
    s.n_features = 7;
    s.n_outputs = c.n_outputs;
    s.leaf_width = c.leaf_width;
    s.min_depth = c.min_depth;
    s.max_depth = c.max_depth;
    s.n_trees = c.n_trees;
    s.split_p = c.split_p;
    s.cat_p = c.cat_p;
    s.float32_sums = true;
    ForestGen g(seed++);
    auto f = g.Make(s);
    if (c.layout != TreeLayout::kGeneric) {
      EXPECT_EQ(ChooseLayout(*f, f->trees[0]), c.layout);
    }
    for (size_t n : {size_t{1}, size_t{9}, size_t{64}, size_t{130}, size_t{700}, size_t{1100}}) {
      SCOPED_TRACE("rows " + std::to_string(n));
      const std::vector<float> x = g.Rows(n, s.n_features, 0.05);
      ExpectIdentical(f, x, n, n % 3);
      // Float32 values, and not what double sums give.
      auto as_double = std::make_shared<Forest>(*f);
      as_double->float32_sums = false;
      std::vector<double> a(n * s.n_outputs), b(a.size());
      MakeReferencePredictor(f)->PredictRaw(x.data(), n, a.data());
      MakeReferencePredictor(as_double)->PredictRaw(x.data(), n, b.data());
      size_t differ = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(static_cast<double>(static_cast<float>(a[i])), a[i]) << "sum " << i << " is not a float32";
        differ += a[i] != b[i];
      }
      if (n >= 64) {
        EXPECT_GT(differ, 0u) << "float32 and double sums agree everywhere";
      }
    }
  }
}

TEST(CompiledPredictorTest, ClassifierLabelsMatch) {
  Shape s;
  s.n_outputs = 3;
  s.leaf_width = 3;
  s.max_depth = 7;
  ForestGen g(900);
  auto base = g.Make(s);
  Forest f = *base;
  f.kind = ModelKind::kClassifier;
  f.class_labels = {"a", "b", "c"};
  auto fp = std::make_shared<const Forest>(std::move(f));
  auto x = g.Rows(300, s.n_features, 0.05);
  std::vector<double> want(900), got(900);
  MakeReferencePredictor(fp)->PredictRaw(x.data(), 300, want.data());
  MakeBestPredictor(fp)->PredictRaw(x.data(), 300, got.data());
  Predictions pw, pg;
  Finalize(*fp, want.data(), 300, OutputKind::kPrediction, &pw);
  Finalize(*fp, got.data(), 300, OutputKind::kPrediction, &pg);
  EXPECT_EQ(pw.label, pg.label);
  EXPECT_EQ(pw.values, pg.values);
}

// A two-class classifier averaging its trees (scikit-learn's forests) made
// from `s`'s trees: leaf values (1 - q, q), q drawn from `qs`.
std::shared_ptr<const Forest> TwoClassForest(ForestGen& g, const Shape& s, const std::vector<double>& qs,
                                             uint32_t seed) {
  Shape two = s;
  two.n_outputs = 2;
  two.leaf_width = 2;
  Forest f = *g.Make(two);
  std::mt19937 rng(seed);
  for (Tree& t : f.trees)
    for (size_t i = 0; i + 1 < t.values.size(); i += 2) {
      const double q = qs[rng() % qs.size()];
      t.values[i] = 1 - q;
      t.values[i + 1] = q;
    }
  f.kind = ModelKind::kClassifier;
  f.class_labels = {"0", "1"};
  f.aggregate = Aggregate::kMean;
  f.link = Link::kIdentity;
  return std::make_shared<const Forest>(std::move(f));
}

// PredictLabels on every target: the labels of Finalize(reference sums).
// Returns how many rows the margins left to the exact sums (on the last
// target with margins).
size_t ExpectSameLabels(const std::shared_ptr<const Forest>& f, const std::vector<float>& x, size_t n_rows,
                        bool margins) {
  std::vector<double> raw(n_rows * 2);
  MakeReferencePredictor(f)->PredictRaw(x.data(), n_rows, raw.data());
  Predictions want;
  Finalize(*f, raw.data(), n_rows, OutputKind::kPrediction, &want);
  size_t near = 0;
  for (SimdTarget target : SupportedSimdTargets()) {
    auto p = MakeCompiledPredictor(f, target);
    const bool has = margins && CompleteKernelHasLabelMargins(target);
    EXPECT_EQ(p->LabelMarginBound() >= 0, has) << p->name();
    LabelScratch scratch;
    Predictions got;
    got.label.assign(n_rows + 3, -7);  // every row overwritten, the size set
    PredictLabels(*p, *f, x.data(), n_rows, &scratch, &got);
    EXPECT_EQ(got.label, want.label) << p->name() << ", " << n_rows << " rows";
    if (has) {
      std::vector<double> d(n_rows + 1, -1.0);
      p->PredictLabelMargins(x.data(), n_rows, d.data());
      EXPECT_EQ(d.back(), -1.0) << "wrote past the end";
      near = 0;
      for (size_t r = 0; r < n_rows; ++r) near += !(std::fabs(d[r]) > p->LabelMarginBound());
    }
  }
  return near;
}

TEST(CompiledPredictorTest, LabelMarginsGiveTheExactLabels) {
  // Probabilities that tie often (halves, quarters) or sum with rounding
  // (thirds, tenths); depth 1 to 6, complete and not, with NaN.
  const std::vector<double> qs = {0.0, 0.25, 0.5, 0.75, 1.0, 1.0 / 3, 2.0 / 3, 0.1, 0.9, 0.3, 0.7};
  size_t near = 0;
  for (int d = 1; d <= 6; ++d) {
    SCOPED_TRACE("depth " + std::to_string(d));
    Shape s;
    s.n_features = 9;
    s.n_trees = 3 + 9 * d;
    s.min_depth = d;
    s.max_depth = d;
    s.split_p = d % 2 ? 1.0 : 0.6;
    s.default_left_p = 0.5;
    ForestGen g(400 + d);
    auto f = TwoClassForest(g, s, qs, 17 + d);
    for (size_t n :
         {size_t{1}, size_t{7}, size_t{8}, size_t{63}, size_t{64}, size_t{65}, size_t{513}, size_t{2000}}) {
      SCOPED_TRACE("rows " + std::to_string(n));
      near += ExpectSameLabels(f, g.Rows(n, s.n_features, 0.05), n, true);
    }
  }
  // Exact ties (label 0, the first) and rounding near them are there to decide.
  if (CompleteKernelHasLabelMargins(SupportedSimdTargets().back())) {
    EXPECT_GT(near, 50u);
  }
}

// Equal and opposite trees: every row's classes tie exactly, whatever the
// float32 margins round to; the label is the first class.
TEST(CompiledPredictorTest, LabelMarginsLeaveTiesToTheExactSums) {
  Shape s;
  s.n_features = 4;
  s.n_trees = 1;
  s.min_depth = 5;
  s.max_depth = 5;
  s.split_p = 1.0;
  ForestGen g(77);
  auto one = TwoClassForest(g, s, {0.1, 0.3, 1.0 / 3, 0.7, 0.9}, 5);
  Forest f = *one;
  Tree mirror = f.trees[0];
  for (size_t i = 0; i + 1 < mirror.values.size(); i += 2) std::swap(mirror.values[i], mirror.values[i + 1]);
  f.trees = {f.trees[0], mirror, f.trees[0], mirror};
  auto fp = std::make_shared<const Forest>(std::move(f));
  const size_t n = 700;
  auto x = g.Rows(n, s.n_features, 0.0);
  const size_t near = ExpectSameLabels(fp, x, n, true);
  if (CompleteKernelHasLabelMargins(SupportedSimdTargets().back())) {
    EXPECT_EQ(near, n);
  }
  LabelScratch scratch;
  Predictions got;
  PredictLabels(*MakeBestPredictor(fp), *fp, x.data(), n, &scratch, &got);
  EXPECT_EQ(got.label, std::vector<int32_t>(n, 0));
}

// Forests without label margins still get Finalize's labels.
TEST(CompiledPredictorTest, LabelMarginsOnlyWhereTheyHold) {
  const std::vector<double> qs = {0.2, 0.5, 0.8};
  auto check = [&](const Shape& s, uint32_t seed, auto change) {
    ForestGen g(seed);
    auto base = TwoClassForest(g, s, qs, seed);
    Forest f = *base;
    change(f);
    auto fp = std::make_shared<const Forest>(std::move(f));
    ExpectSameLabels(fp, g.Rows(300, s.n_features, 0.0), 300, false);
  };
  Shape s;
  s.min_depth = 5;
  s.max_depth = 5;
  s.split_p = 1.0;
  Shape deep = s;
  deep.min_depth = deep.max_depth = 7;
  check(deep, 1, [](Forest&) {});  // deeper than complete trees: another layout
  check(s, 2, [](Forest& f) { f.aggregate = Aggregate::kSum; });   // sums, not means
  check(s, 3, [](Forest& f) { f.class_labels.push_back("2"); });   // not two classes
  check(s, 4, [](Forest& f) { f.kind = ModelKind::kRegressor; });  // no labels
  Shape mixed = s;
  mixed.min_depth = 1;
  mixed.max_depth = 12;
  mixed.split_p = 0.3;
  mixed.n_trees = 20;
  check(mixed, 5, [](Forest&) {});  // runs other than complete ones
}

TEST(CompiledPredictorTest, BestPredictorIsCompiled) {
  ForestGen g(1000);
  auto p = MakeBestPredictor(g.Make(Shape{}));
  EXPECT_EQ(p->name(), std::string("compiled-") + SimdTargetName(ChosenSimdTarget()));
}

}  // namespace
}  // namespace fb
