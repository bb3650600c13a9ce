// Forest: the format-neutral tree ensemble every importer produces and every
// predictor consumes.
//
// Decision rule (one for all formats): an internal numeric node sends a row
// LEFT when `x <= threshold`, compared in float32. Importers convert their
// library's rule into this one without changing any decision:
//   - scikit-learn (`(double)x <= t`, t float64): threshold = the largest
//     float32 <= t (round toward -inf);
//   - XGBoost (`x < c`, c float32): threshold = nextafter(c, -inf).
// A NaN value goes to `default_left ? left : right`. A categorical node
// (XGBoost) sends a row RIGHT when its value, as an integer category, is in
// the node's category list, LEFT otherwise (and NaN per default_left). The
// integer category of a value v is trunc(v) (toward zero, as XGBoost's
// static_cast); a negative v (including -0.5, but not -0.0) or v >= 2^24 is
// in no list. Lists hold integers in [0, 2^24), sorted ascending.
//
// Outputs: each row has `n_outputs` accumulators, set to zero
// (Aggregate::kMean) or to base_margin (kSum: boosting libraries start from
// the base score and add the trees to it, and the order of the additions
// decides the last bits). Every tree, in order, adds its leaf's values: all
// `n_outputs` of them when leaf_width == n_outputs, or its single value to
// accumulator `tree.output` when leaf_width == 1. Accumulation is in double,
// in tree order, unless `float32_sums` is set (XGBoost models: XGBoost's CPU
// predictor keeps float32 accumulators): then each addition is a float32
// addition (the leaf values and base margin are float32 values) and the sums
// stay float32 values held in doubles. The reference predictor defines the
// exact result. Then Finalize (infer/) turns the sums into predictions:
// divide by the tree count (kMean) or by the number of trees that add to the
// output (kSumMean), then apply the link (in float32, with XGBoost's
// formulas, when float32_sums is set).
//
// Ownership: plain value type; immutable after ForestBuilder::Build, so any
// number of threads may read it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/float64_features.h"
#include "common/preprocessing.h"

namespace fb {

enum class ModelKind : uint8_t { kClassifier, kRegressor };
// kMean: scikit-learn forests (the margin is the mean). kSum: boosting (the
// margin is the sum). kSumMean: LightGBM's random-forest mode
// (average_output): summed like kSum, and the margin is that sum (LightGBM's
// raw score), but predictions divide each output's sum by the number of
// trees that add to it before the link.
enum class Aggregate : uint8_t { kMean, kSum, kSumMean };
enum class Link : uint8_t {
  kIdentity,  // output = sum
  kSigmoid,   // 1 / (1 + exp(-m)) (binary:logistic, reg:logistic)
  kSoftmax,   // over outputs (multi:softprob / softmax)
  kExp,       // exp(m) (count:poisson, reg:gamma, reg:tweedie)
  kStep,      // m > 0 ? 1 : 0 (binary:hinge)
  // scikit-learn's multinomial deviance (GradientBoostingClassifier):
  // exp(m_k - logsumexp(m)), with logsumexp as scipy computes it
  // (max, exp, numpy's pairwise sum, log, + max); the label is argmax m.
  kSoftmaxLse,
  // scikit-learn's exponential loss: 1 / (1 + exp(-2m)); the label is
  // labels[1] when m >= 0 (GradientBoostingClassifier.predict).
  kSigmoid2x,
  // scikit-learn's IsolationForest: the sum m is the trees' path lengths
  // (each leaf holds depth + 1 + c(n_node_samples) - 1, c the average path
  // length); score_samples = -2^(-(m / link_params[0])) (m / 0 taken as 1),
  // decision_function = score_samples - link_params[1] (offset_). Values:
  // {score_samples, decision_function}; the label is labels[1] ("1") when
  // decision_function >= 0, labels[0] ("-1") otherwise.
  kIsolation,
  // LightGBM binary / multiclassova with sigmoid:s (s != 1):
  // 1 / (1 + exp(-s * m)) per output, s = link_params[0].
  kScaledSigmoid,
  // LightGBM cross_entropy_lambda: log1p(exp(m)).
  kSoftplus,
  // LightGBM regression with reg_sqrt ("regression sqrt"): sign(m) * m * m.
  kSignedSquare,
  // scikit-learn's softmax (utils.extmath.softmax, HistGradientBoosting-
  // Classifier from 1.1): e_k = exp(m_k - max m), p_k = e_k / sum(e) with
  // numpy's pairwise sum; the label is argmax p.
  kSoftmaxNumpy,
};

const char* ModelKindName(ModelKind kind);
const char* LinkName(Link link);

struct Node {
  static constexpr int32_t kLeaf = -1;
  int32_t left = kLeaf;  // child index, or kLeaf for a leaf
  int32_t right = kLeaf;
  int32_t feature = -1;       // feature index for internal nodes
  float threshold = 0.0f;     // go left when x <= threshold (numeric nodes)
  bool default_left = true;   // where NaN goes
  bool categorical = false;   // categorical split (see file comment)
  uint32_t cat_begin = 0;     // categorical: categories[cat_begin, cat_begin + cat_count)
  uint32_t cat_count = 0;     //   of Forest::categories, sorted ascending
  bool zero_missing = false;  // numeric: values in [-kZeroBand, kZeroBand] go where NaN goes
  bool cat_truncate = false;  // categorical: -1 < v < 0 is category 0 (LightGBM)

  bool is_leaf() const { return left == kLeaf; }
};

struct Tree {
  std::vector<Node> nodes;     // nodes[0] is the root
  std::vector<double> values;  // leaf_width values per node; only leaves' are used
  int32_t output = 0;          // accumulator this tree adds to when leaf_width == 1
};

// Where the model came from and what it was; shown by `model inspect`.
struct ModelInfo {
  std::string source_format;    // "sklearn-pickle", "joblib", "xgboost-json", "xgboost-ubjson", "native"
  std::string estimator;        // e.g. "RandomForestClassifier", "XGBoost gbtree"
  std::string wrappers;         // e.g. "GridSearchCV.best_estimator_" or empty
  std::string library_version;  // version recorded in the file, if any
  std::string objective;        // XGBoost objective, empty otherwise
};

// How raw input columns become the model's features (models trained by
// `forestbatch train` from raw CSV). Empty `columns`: the input columns are
// the features, in order. Otherwise each raw column, found by name in the
// input header, fills features [first_feature, first_feature + width):
//   - numeric (no categories): width 1, the parsed value (missing -> NaN);
//   - categorical: width = categories.size(), one 0/1 indicator per category
//     (pandas get_dummies). A missing value or a category not seen in
//     training sets every indicator to 0.
// See model/input_encoding.h for the function that applies it.
struct InputColumn {
  std::string name;
  int32_t first_feature = 0;
  std::vector<std::string> categories;  // empty: numeric column

  bool categorical() const { return !categories.empty(); }
  int32_t width() const { return categorical() ? static_cast<int32_t>(categories.size()) : 1; }
};

struct InputEncoding {
  std::vector<InputColumn> columns;

  bool empty() const { return columns.empty(); }
};

// How a native model was trained; shown by `model inspect`. Empty for
// imported models.
struct TrainingInfo {
  // Hyperparameters as name/value text, in a fixed order, e.g.
  // {"n_estimators", "100"}, {"max_depth", "none"}.
  std::vector<std::pair<std::string, std::string>> params;
  // Mean decrease in impurity per feature (scikit-learn's
  // feature_importances_): empty, or n_features values summing to 1.
  std::vector<double> feature_importances;
  int64_t n_samples = 0;  // training rows
};

// Section ids a .fbm file (format 1.5 and later) gives the compiled layout
// of its forest: the arrays infer/'s CompileForest would build, stored so
// that a load need not compile (docs/formats/fbm.md, infer/compiled_io.h).
inline constexpr uint32_t kFirstLayoutSection = 14;
inline constexpr uint32_t kLastLayoutSection = 63;

// The layout sections of a loaded .fbm file, as its bytes: the importer keeps
// them, unread, for infer/compiled_io.h to check and use. The Forest never
// interprets them.
struct StoredLayout {
  struct Section {
    uint32_t id;
    std::string_view bytes;  // each 8-byte aligned in memory
  };
  std::vector<Section> sections;
  std::string origin;                 // the model file's name, for error messages
  std::shared_ptr<const void> owner;  // keeps the bytes alive: the file's mapping, or a copy
};

// A Forest whose trees' nodes and values are not decoded: a .fbm file loaded
// for prediction from its stored compiled layout (LoadModelFile with
// ModelLoad::kTreesOnDemand, model/import/model_loader.h), whose predictor
// reads only the layout. Each tree's `output` is set; its `nodes` and
// `values` are EMPTY, and its node count is node_counts[t]. Whatever needs
// nodes or values gets them through DecodeTrees / DecodedForest
// (model/forest_builder.h), which decode and validate them from the file
// (an error naming the file when they do not hold); the predictors' and
// writers' entry points do so themselves. Code that reads Tree::nodes
// directly must first check Forest::trees_decoded().
struct Forest;
class TreeDecoder {
 public:
  virtual ~TreeDecoder() = default;
  // Fills the nodes and values of every tree of `forest` (the forest this
  // decoder was made for; each tree's nodes empty). Returns "" on success,
  // else what is wrong (the caller adds the file's name).
  virtual std::string Decode(Forest* forest) const = 0;
};

struct UndecodedTrees {
  std::vector<uint32_t> node_counts;  // one per tree, each >= 1
  std::shared_ptr<const TreeDecoder> decoder;
  std::string origin;  // the model file's name, for error messages
};

struct Forest {
  ModelKind kind = ModelKind::kClassifier;
  int32_t n_features = 0;
  std::vector<std::string> feature_names;  // empty, or n_features names

  int32_t n_outputs = 1;   // accumulators per row
  int32_t leaf_width = 1;  // 1 or n_outputs
  std::vector<Tree> trees;
  std::vector<int32_t> categories;  // pooled category lists of categorical nodes

  Aggregate aggregate = Aggregate::kMean;
  std::vector<double> base_margin;  // kSum: added per output before the link; size n_outputs
  Link link = Link::kIdentity;
  // The link's parameters (kIsolation: {denominator, offset}); empty for the others.
  std::vector<double> link_params;
  // Names of the finalized value columns when they are not class
  // probabilities (kIsolation: "score_samples", "decision_function"); empty
  // otherwise. Writers use them instead of "proba_<label>".
  std::vector<std::string> value_names;

  // Classifiers: the labels in the model's class order, spelled as Python
  // prints them (ints "-1", floats "1.0", strings as is). With n_outputs == 1
  // and two labels, the finalized output is P(labels[1]).
  std::vector<std::string> class_labels;
  // True when every label is an integer (outputs may then print them bare in
  // JSON); false for strings and floats.
  bool labels_are_integers = false;
  // False when the source library rejects NaN input for this model
  // (scikit-learn before 1.3): predictors then report NaN as an error.
  bool missing_values_supported = true;
  // Empty, or one entry per feature: the model compares float64 inputs
  // (scikit-learn's HistGradientBoosting*, LightGBM), and the table readers turn each
  // parsed double into the float the trees compare through
  // Float64FeatureValue (common/float64_features.h) instead of casting it.
  // The trees' thresholds are then cut indices, and their categorical nodes
  // list the known categories that go right.
  std::vector<Float64Feature> float64_features;

  ModelInfo info;
  InputEncoding encoding;  // raw columns -> features; empty for imported models
  // Imported scikit-learn Pipelines: the transforms in front of the trees
  // (common/preprocessing.h), applied to the raw input columns, whose
  // outputs are the n_features features. Null when the input columns are
  // the features. Shared and immutable.
  std::shared_ptr<const Preprocessing> preprocessing;
  TrainingInfo training;  // empty for imported models

  // Boosted models (XGBoost): the trees come in rounds ("iterations") of
  // trees_per_iteration consecutive trees (num_parallel_tree x output
  // groups), so that trees.size() is a multiple of it. 0 when the model has
  // no such structure (scikit-learn forests); iteration ranges need it.
  int32_t trees_per_iteration = 0;
  // The best round recorded by early stopping, or -1 when none is recorded.
  int32_t best_iteration = -1;
  // True when the source library sums in float32 (XGBoost): every leaf value
  // and base margin is a float32 value, each addition to an accumulator is
  // rounded to float32 (AddToSum) and Finalize applies the link in float32.
  // False: sums and links in double (scikit-learn, native training).
  bool float32_sums = false;
  // True when the source library predicts with rounds [0, best_iteration]
  // only, by default (XGBoost's scikit-learn wrapper); false when it uses
  // every tree (XGBoost's Booster.predict). See model/iterations.h.
  bool predict_uses_best_iteration = false;

  // A .fbm file's stored compiled layout (null for every other model, and
  // for a .fbm written without it). It describes exactly these trees:
  // whatever changes the trees (SelectIterations) drops it.
  std::shared_ptr<const StoredLayout> stored_layout;

  // Null once the trees' nodes and values are there (always, except for a
  // .fbm loaded with ModelLoad::kTreesOnDemand: see UndecodedTrees).
  std::shared_ptr<const UndecodedTrees> undecoded;

  bool trees_decoded() const { return undecoded == nullptr; }
  // Tree t's node count, decoded or not.
  size_t node_count(size_t t) const { return undecoded ? undecoded->node_counts[t] : trees[t].nodes.size(); }

  int32_t n_classes() const { return static_cast<int32_t>(class_labels.size()); }
};

// LightGBM's kZeroThreshold (1e-35f): its "zero" is [-kZeroBand, kZeroBand].
inline constexpr float kZeroBand = 1e-35f;

// Sets one row's `n_outputs` accumulators to their starting values (see the
// file comment): base_margin for Aggregate::kSum and kSumMean, zero for kMean.
inline void InitAccumulators(const Forest& f, double* acc) {
  for (int32_t k = 0; k < f.n_outputs; ++k) acc[k] = f.aggregate != Aggregate::kMean ? f.base_margin[k] : 0.0;
}

// One addition to a sum: in double, or a float32 addition when `float32`
// (Forest::float32_sums). Both operands are then float32 values, and
// rounding their exact double sum to float32 gives the float32 sum: double
// rounding is innocuous for + since 53 >= 2 * 24 + 2 (Figueroa, "When is
// double rounding innocuous?", 1995).
inline double AddToSum(bool float32, double acc, double v) {
  return float32 ? static_cast<double>(static_cast<float>(acc) + static_cast<float>(v)) : acc + v;
}

// The decision rule of the file comment, for one internal node: true when a
// row whose value of nd.feature is `v` goes left. The one definition that
// every predictor's generic path uses.
inline bool GoesLeft(const Forest& f, const Node& nd, float v) {
  if (std::isnan(v)) return nd.default_left;
  if (!nd.categorical) {
    if (nd.zero_missing && v >= -kZeroBand && v <= kZeroBand) return nd.default_left;
    return v <= nd.threshold;
  }
  // Negative values (cat_truncate: values <= -1) and values >= 2^24 are in
  // no list; others are truncated toward zero (1.5 is category 1), as
  // XGBoost and LightGBM do.
  if (!(nd.cat_truncate ? v > -1.0f : v >= 0.0f) || v >= 16777216.0f) return true;
  const int32_t* b = f.categories.data() + nd.cat_begin;
  return !std::binary_search(b, b + nd.cat_count, static_cast<int32_t>(v));
}

// The leaf a row reaches in `t` (node index). Precondition: the forest
// passed BuildForest.
inline int32_t FindLeaf(const Forest& f, const Tree& t, const float* row) {
  int32_t i = 0;
  while (!t.nodes[i].is_leaf()) {
    const Node& nd = t.nodes[i];
    i = GoesLeft(f, nd, row[nd.feature]) ? nd.left : nd.right;
  }
  return i;
}

}  // namespace fb
