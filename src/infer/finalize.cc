#include <algorithm>
#include <cmath>
#include <limits>

#include "infer/predictor.h"

namespace fb {
namespace {

// numpy's pairwise summation (the float64 add.reduce along a contiguous
// axis): sequential below 8 items, eight interleaved partial sums up to 128,
// halves (a multiple of 8) above.
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

// XGBoost's links, in float32, as its CPU code computes them (XGBoost 1.7
// to 3.x: src/common/math.h Sigmoid and Softmax; expf for count:poisson,
// reg:gamma, reg:tweedie; binary:hinge's m > 0). m: the float32 margins of
// one row; p: the class probabilities or values (binary_single: p[1]).
void LinkFloat32(Link link, const float* m, int32_t no, bool binary_single, float* p) {
  switch (link) {
    case Link::kSigmoid:
      for (int32_t k = 0; k < no; ++k) {
        const float kEps = 1e-16f;  // XGBoost's "avoid 0 div", kept for its rounding
        const float x = std::min(-m[k], 88.7f);
        const float denom = std::exp(x) + 1.0f + kEps;
        p[binary_single ? 1 : k] = 1.0f / denom;
      }
      break;
    case Link::kExp:
      for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = std::exp(m[k]);
      break;
    case Link::kStep:
      for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = m[k] > 0.0f ? 1.0f : 0.0f;
      break;
    case Link::kSoftmax: {
      float wmax = m[0];
      for (int32_t k = 1; k < no; ++k) wmax = std::fmax(m[k], wmax);
      double wsum = 0.0;  // XGBoost sums the float32 exponentials in double
      for (int32_t k = 0; k < no; ++k) {
        p[k] = std::exp(m[k] - wmax);
        wsum += p[k];
      }
      for (int32_t k = 0; k < no; ++k) p[k] /= static_cast<float>(wsum);
      break;
    }
    default:  // kIdentity (BuildForest allows no other link with float32 sums)
      for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = m[k];
      break;
  }
  // The scikit-learn wrapper's predict_proba: 1.0 - p on a float32 array.
  if (binary_single) p[0] = 1.0f - p[1];
}

// One row's values into the output: one or two of them (binary and
// regression models, the common case) without a call to memcpy per row.
inline void CopyRow(const double* from, int32_t n, double* to) {
  if (n == 1) {
    to[0] = from[0];
  } else if (n == 2) {
    to[0] = from[0];
    to[1] = from[1];
  } else {
    std::copy(from, from + n, to);
  }
}

}  // namespace

void Finalize(const Forest& f, const double* raw, size_t n_rows, OutputKind kind, Predictions* out) {
  const int32_t no = f.n_outputs;
  const bool classifier = f.kind == ModelKind::kClassifier;
  const bool binary_single = classifier && no == 1 && f.class_labels.size() == 2;
  const int32_t nc = classifier ? (binary_single ? 2 : no) : no;
  out->n_rows = n_rows;
  out->n_cols = (kind == OutputKind::kMargin) ? no : nc;
  out->values.resize(n_rows * out->n_cols);
  out->label.resize(classifier ? n_rows : 0);  // every path below writes every row's label
  const double n_trees = static_cast<double>(f.trees.size());
  std::vector<double> m(no), p(nc), tmp(no), averaged(no);
  std::vector<float> m32(no), p32(nc);
  // multi:softmax predicts the first largest margin (XGBoost's FindMaxIndex).
  const bool label_on_margin =
      f.link == Link::kSoftmaxLse || (f.float32_sums && f.info.objective == "multi:softmax");
  // kSumMean: each output's sum is divided by the number of trees that add
  // to it (LightGBM's average_output divides by the iteration count).
  std::vector<double> per_output;
  if (f.aggregate == Aggregate::kSumMean) {
    per_output.assign(no, f.leaf_width == 1 ? 0.0 : n_trees);
    if (f.leaf_width == 1)
      for (const Tree& t : f.trees) per_output[t.output] += 1.0;
  }

  // XGBoost's binary:logistic probabilities, the common case: the loop
  // below for one output, float32 sums and the sigmoid, without its per-row
  // vectors and switches (the same operations in the same order).
  if (f.float32_sums && binary_single && f.link == Link::kSigmoid && f.aggregate == Aggregate::kSum &&
      kind != OutputKind::kMargin && !label_on_margin) {
    double* o = out->values.data();
    for (size_t r = 0; r < n_rows; ++r, o += 2) {
      const float margin = static_cast<float>(raw[r]);
      float q[2];
      LinkFloat32(Link::kSigmoid, &margin, 1, /*binary_single=*/true, q);
      o[0] = q[0];
      o[1] = q[1];
      out->label[r] = o[1] > o[0] ? 1 : 0;
    }
    return;
  }

  // Sums or means as they are (scikit-learn's forests: the trees' class
  // probabilities or values averaged), the common case: the loop below for
  // the identity link in double, without its per-row vectors and switches
  // (the same division, values and argmax).
  if (!f.float32_sums && f.link == Link::kIdentity && !binary_single &&
      (f.aggregate == Aggregate::kMean || f.aggregate == Aggregate::kSum)) {
    const bool mean = f.aggregate == Aggregate::kMean;
    double* o = out->values.data();  // n_cols == no: margins and values are the same here
    int32_t* label = out->label.data();
    if (no == 2) {
      for (size_t r = 0; r < n_rows; ++r, o += 2) {
        o[0] = mean ? raw[2 * r] / n_trees : raw[2 * r];
        o[1] = mean ? raw[2 * r + 1] / n_trees : raw[2 * r + 1];
        if (classifier) label[r] = o[1] > o[0] ? 1 : 0;
      }
      return;
    }
    for (size_t r = 0; r < n_rows; ++r, o += no) {
      const double* s = raw + r * no;
      for (int32_t k = 0; k < no; ++k) o[k] = mean ? s[k] / n_trees : s[k];
      if (classifier) {
        int32_t best = 0;
        for (int32_t k = 1; k < no; ++k)
          if (o[k] > o[best]) best = k;
        label[r] = best;
      }
    }
    return;
  }

  for (size_t r = 0; r < n_rows; ++r) {
    const double* s = raw + r * no;
    for (int32_t k = 0; k < no; ++k) {
      // scikit-learn sums then divides by the tree count (forest.py); boosted
      // sums started at the base margin already (InitAccumulators).
      m[k] = f.aggregate == Aggregate::kMean ? s[k] / n_trees : s[k];
    }
    // The link's input: the margin, or (kSumMean) the margin averaged.
    const std::vector<double>* in = &m;
    if (f.aggregate == Aggregate::kSumMean) {
      for (int32_t k = 0; k < no; ++k) averaged[k] = m[k] / per_output[k];
      in = &averaged;
    }
    const std::vector<double>& a = *in;
    // Link.
    if (f.float32_sums) {
      for (int32_t k = 0; k < no; ++k) m32[k] = static_cast<float>(a[k]);
      LinkFloat32(f.link, m32.data(), no, binary_single, p32.data());
      for (int32_t k = 0; k < nc; ++k) p[k] = p32[k];
    } else {
      switch (f.link) {
        case Link::kIdentity:
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = a[k];
          break;
        case Link::kSigmoid:
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = 1.0 / (1.0 + std::exp(-a[k]));
          break;
        case Link::kExp:
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = std::exp(a[k]);
          break;
        case Link::kStep:  // binary:hinge
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = a[k] > 0.0 ? 1.0 : 0.0;
          break;
        case Link::kSoftmax: {
          double mx = *std::max_element(a.begin(), a.end());
          double z = 0;
          for (int32_t k = 0; k < no; ++k) z += std::exp(a[k] - mx);
          for (int32_t k = 0; k < no; ++k) p[k] = std::exp(a[k] - mx) / z;
          break;
        }
        case Link::kSoftmaxNumpy: {
          // X -= max; np.exp(X, X); X /= np.sum(X, axis=1).
          const double mx = *std::max_element(m.begin(), m.end());
          for (int32_t k = 0; k < no; ++k) tmp[k] = std::exp(m[k] - mx);
          const double z = PairwiseSum(tmp.data(), tmp.size());
          for (int32_t k = 0; k < no; ++k) p[k] = tmp[k] / z;
          break;
        }
        case Link::kSoftmaxLse: {
          // scikit-learn: np.nan_to_num(np.exp(m - logsumexp(m))), scipy's
          // logsumexp: a_max (0 when not finite), log(sum(exp(m - a_max))) + a_max.
          double mx = *std::max_element(a.begin(), a.end());
          if (!std::isfinite(mx)) mx = 0.0;
          for (int32_t k = 0; k < no; ++k) tmp[k] = std::exp(a[k] - mx);
          const double lse = std::log(PairwiseSum(tmp.data(), tmp.size())) + mx;
          for (int32_t k = 0; k < no; ++k) {
            double e = std::exp(a[k] - lse);
            p[k] = std::isnan(e) ? 0.0 : e;
          }
          break;
        }
        case Link::kIsolation: {
          // IsolationForest._compute_score_samples: 2 ** -(depths / denominator)
          // (np.divide with where=denominator != 0 leaves 1), negated by
          // score_samples; decision_function subtracts offset_.
          const double denominator = f.link_params[0];
          const double ratio = denominator != 0.0 ? a[0] / denominator : 1.0;
          p[0] = -std::pow(2.0, -ratio);
          p[1] = p[0] - f.link_params[1];
          break;
        }
        case Link::kScaledSigmoid:  // LightGBM: 1.0f / (1.0f + std::exp(-sigmoid_ * input[i])), in double
          for (int32_t k = 0; k < no; ++k)
            p[binary_single ? 1 : k] = 1.0 / (1.0 + std::exp(-f.link_params[0] * a[k]));
          break;
        case Link::kSoftplus:  // LightGBM cross_entropy_lambda
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = std::log1p(std::exp(a[k]));
          break;
        case Link::kSignedSquare:  // LightGBM regression sqrt: Common::Sign(x) * x * x
          for (int32_t k = 0; k < no; ++k)
            p[binary_single ? 1 : k] = static_cast<double>((a[k] > 0.0) - (a[k] < 0.0)) * a[k] * a[k];
          break;
        case Link::kSigmoid2x:
          for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = 1.0 / (1.0 + std::exp(-2.0 * a[k]));
          break;
      }
      if (binary_single && f.link != Link::kIsolation) p[0] = 1.0 - p[1];
    }
    double* o = out->values.data() + r * out->n_cols;
    if (kind == OutputKind::kMargin) {
      CopyRow(m.data(), no, o);
    } else {
      CopyRow(p.data(), nc, o);
    }
    if (classifier) {
      // scikit-learn's gradient boosting decides on the raw scores: argmax
      // (multinomial) or m >= 0 (exponential loss); everything else on the
      // probabilities. Ties go to the first class.
      const std::vector<double>& score = label_on_margin ? m : p;
      int32_t best = 0;
      if (f.link == Link::kSigmoid2x && binary_single) {
        best = m[0] >= 0.0 ? 1 : 0;
      } else if (f.link == Link::kIsolation) {
        best = p[1] < 0.0 ? 0 : 1;  // IsolationForest.predict: -1 where decision_function < 0
      } else {
        for (int32_t k = 1; k < nc; ++k)
          if (score[k] > score[best]) best = k;
      }
      out->label[r] = best;
    }
  }
}

}  // namespace fb

namespace fb {

void Predictor::PredictLabelMargins(const float*, size_t n_rows, double* d) const {
  std::fill(d, d + n_rows, std::numeric_limits<double>::quiet_NaN());
}

void PredictLabels(const Predictor& p, const Forest& forest, const float* x, size_t n_rows, LabelScratch* s,
                   Predictions* out) {
  const double bound = p.LabelMarginBound();
  const size_t nf = static_cast<size_t>(forest.n_features), no = static_cast<size_t>(forest.n_outputs);
  auto every_row_exactly = [&] {
    s->sums.resize(n_rows * no);
    if (n_rows > 0) p.PredictRaw(x, n_rows, s->sums.data());
    Finalize(forest, s->sums.data(), n_rows, OutputKind::kPrediction, out);
  };
  if (bound < 0) return every_row_exactly();
  out->n_rows = n_rows;
  out->n_cols = 2;
  out->values.clear();
  out->label.resize(n_rows);
  s->sums.resize(n_rows);
  p.PredictLabelMargins(x, n_rows, s->sums.data());
  s->near.clear();
  int32_t* label = out->label.data();
  for (size_t r = 0; r < n_rows; ++r) {
    const double d = s->sums[r];
    label[r] = d > 0 ? 1 : 0;
    if (!(std::fabs(d) > bound)) s->near.push_back(static_cast<uint32_t>(r));  // NaN too
  }
  const size_t k = s->near.size();
  if (k == 0) return;
  // Every row (a call too small for margins): the rows as they are, not a copy.
  if (k == n_rows) return every_row_exactly();
  s->rows.resize(k * nf);
  for (size_t i = 0; i < k; ++i)
    std::copy_n(x + static_cast<size_t>(s->near[i]) * nf, nf, s->rows.data() + i * nf);
  s->sums.resize(k * no);
  p.PredictRaw(s->rows.data(), k, s->sums.data());
  Finalize(forest, s->sums.data(), k, OutputKind::kPrediction, &s->exact);
  for (size_t i = 0; i < k; ++i) label[s->near[i]] = s->exact.label[i];
}

}  // namespace fb
