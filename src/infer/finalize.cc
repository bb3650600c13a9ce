#include <algorithm>
#include <cmath>

#include "infer/predictor.h"

namespace fb {

void Finalize(const Forest& f, const double* raw, size_t n_rows, OutputKind kind, Predictions* out) {
  const int32_t no = f.n_outputs;
  const bool classifier = f.kind == ModelKind::kClassifier;
  const bool binary_single = classifier && no == 1 && f.class_labels.size() == 2;
  const int32_t nc = classifier ? (binary_single ? 2 : no) : no;
  out->n_rows = n_rows;
  out->n_cols = (kind == OutputKind::kMargin) ? no : nc;
  out->values.resize(n_rows * out->n_cols);
  out->label.assign(classifier ? n_rows : 0, 0);
  const double n_trees = static_cast<double>(f.trees.size());
  std::vector<double> m(no), p(nc);

  for (size_t r = 0; r < n_rows; ++r) {
    const double* s = raw + r * no;
    for (int32_t k = 0; k < no; ++k) {
      // scikit-learn sums then divides by the tree count (forest.py); boosted
      // sums started at the base margin already (InitAccumulators).
      m[k] = f.aggregate == Aggregate::kMean ? s[k] / n_trees : s[k];
    }
    // Link.
    switch (f.link) {
      case Link::kIdentity:
        for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = m[k];
        break;
      case Link::kSigmoid:
        for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = 1.0 / (1.0 + std::exp(-m[k]));
        break;
      case Link::kExp:
        for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = std::exp(m[k]);
        break;
      case Link::kStep:  // binary:hinge
        for (int32_t k = 0; k < no; ++k) p[binary_single ? 1 : k] = m[k] > 0.0 ? 1.0 : 0.0;
        break;
      case Link::kSoftmax: {
        double mx = *std::max_element(m.begin(), m.end());
        double z = 0;
        for (int32_t k = 0; k < no; ++k) z += std::exp(m[k] - mx);
        for (int32_t k = 0; k < no; ++k) p[k] = std::exp(m[k] - mx) / z;
        break;
      }
    }
    if (binary_single) p[0] = 1.0 - p[1];
    double* o = out->values.data() + r * out->n_cols;
    if (kind == OutputKind::kMargin) {
      std::copy(m.begin(), m.end(), o);
    } else {
      std::copy(p.begin(), p.end(), o);
    }
    if (classifier) {
      int32_t best = 0;
      for (int32_t k = 1; k < nc; ++k)
        if (p[k] > p[best]) best = k;
      out->label[r] = best;
    }
  }
}

}  // namespace fb
