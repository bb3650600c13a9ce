#include "train/tree_grower.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "train/rng.h"

namespace fb::train {
namespace {

constexpr int kMaxBinSlots = 256;  // 255 value bins + the missing bin at most

// Weighted statistics of a set of rows: total weight, row count, and per
// class weights (classification) or {sum w*y, sum w*y*y} (regression).
struct Stats {
  double w = 0;
  int64_t n = 0;
  std::vector<double> c;
};

struct Split {
  int32_t feature = -1;
  int32_t cut = 0;  // left: value bins <= cut
  bool missing_left = false;
  double proxy = -std::numeric_limits<double>::infinity();
};

struct Pending {
  int32_t node;
  int64_t begin, end;
  int32_t depth;
  Stats stats;
};

class Grower {
 public:
  Grower(const GrowShared& s, int32_t tree_index)
      : s_(s), rng_(Rng::ForStream(s.seed, static_cast<uint64_t>(tree_index))) {
    k_ = s.n_classes > 0 ? s.n_classes : 2;
    const int64_t n = s.binned->n_rows;
    n_features_ = static_cast<int32_t>(s.binned->features.size());
    weight_.assign(n, 0.0f);
    if (s.bootstrap) {
      // n draws with replacement: a row's weight is how often it was drawn.
      for (int64_t i = 0; i < n; ++i) weight_[rng_.Below(n)] += 1.0f;
    } else {
      std::fill(weight_.begin(), weight_.end(), 1.0f);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (weight_[i] == 0) continue;
      if (s.n_classes > 0) weight_[i] *= static_cast<float>(s.class_weight[s.y_class[i]]);
      order_.push_back(static_cast<int32_t>(i));
    }
    scratch_.resize(order_.size());
    hist_.assign(static_cast<size_t>(kMaxBinSlots) * k_, 0.0);
    count_.assign(kMaxBinSlots, 0);
    features_.resize(n_features_);
    for (int32_t f = 0; f < n_features_; ++f) features_[f] = f;
    importances_.assign(n_features_, 0.0);
  }

  GrownTree Grow() {
    Stats root = StatsOf(0, static_cast<int64_t>(order_.size()));
    NewNode();
    std::vector<Pending> stack;
    stack.push_back({0, 0, static_cast<int64_t>(order_.size()), 0, std::move(root)});
    while (!stack.empty()) {
      Pending p = std::move(stack.back());
      stack.pop_back();
      const double impurity = Impurity(p.stats);
      Split best;
      const int64_t n = p.end - p.begin;
      bool leaf = (s_.max_depth > 0 && p.depth >= s_.max_depth) || n < s_.min_samples_split ||
                  n < 2 * s_.min_samples_leaf || impurity <= PureBound(p.stats);
      if (!leaf) {
        best = FindSplit(p);
        leaf = best.feature < 0;
      }
      if (leaf) {
        SetLeaf(p.node, p.stats);
        continue;
      }
      const int64_t mid = Partition(p.begin, p.end, best);
      // Exact child statistics (histogram sums differ in rounding).
      Stats left = StatsOf(p.begin, mid), right = StatsOf(mid, p.end);
      const FeatureBins& fb = s_.binned->features[best.feature];
      int32_t l = NewNode(), r = NewNode();
      Node& nd = tree_.nodes[p.node];
      nd.left = l;
      nd.right = r;
      nd.feature = best.feature;
      nd.threshold = fb.thresholds[best.cut];
      // No missing values in training here: send NaN where most rows went.
      nd.default_left = best.missing_left;
      importances_[best.feature] +=
          p.stats.w * impurity - left.w * Impurity(left) - right.w * Impurity(right);
      stack.push_back({r, mid, p.end, p.depth + 1, std::move(right)});
      stack.push_back({l, p.begin, mid, p.depth + 1, std::move(left)});
    }
    GrownTree out;
    out.tree = std::move(tree_);
    double total = 0;
    for (double v : importances_) total += v;
    for (double& v : importances_) v = total > 0 ? v / total : 0.0;
    out.importances = std::move(importances_);
    return out;
  }

 private:
  bool classification() const { return s_.n_classes > 0; }

  int32_t NewNode() {
    tree_.nodes.emplace_back();
    tree_.values.resize(tree_.values.size() + (classification() ? k_ : 1), 0.0);
    return static_cast<int32_t>(tree_.nodes.size() - 1);
  }

  void SetLeaf(int32_t node, const Stats& st) {
    if (classification()) {
      for (int k = 0; k < k_; ++k) tree_.values[static_cast<size_t>(node) * k_ + k] = st.c[k] / st.w;
    } else {
      tree_.values[node] = st.c[0] / st.w;
    }
  }

  Stats StatsOf(int64_t b, int64_t e) const {
    Stats st;
    st.c.assign(k_, 0.0);
    for (int64_t p = b; p < e; ++p) {
      int32_t r = order_[p];
      double w = weight_[r];
      st.w += w;
      if (classification()) {
        st.c[s_.y_class[r]] += w;
      } else {
        st.c[0] += w * s_.y_value[r];
        st.c[1] += w * s_.y_value[r] * s_.y_value[r];
      }
    }
    st.n = e - b;
    return st;
  }

  double Impurity(const Stats& st) const {
    if (st.w <= 0) return 0;
    switch (s_.criterion) {
      case Criterion::kGini: {
        double sq = 0;
        for (double c : st.c) sq += c * c;
        return 1.0 - sq / (st.w * st.w);
      }
      case Criterion::kEntropy: {
        double h = 0;
        for (double c : st.c)
          if (c > 0) h -= (c / st.w) * std::log2(c / st.w);
        return h;
      }
      default: {
        double mean = st.c[0] / st.w;
        return std::max(0.0, st.c[1] / st.w - mean * mean);
      }
    }
  }

  // Impurity at or below which a node counts as pure. Classification: exact
  // up to rounding. Regression: relative to the squared mean, since the
  // variance is computed as E[y^2] - E[y]^2.
  double PureBound(const Stats& st) const {
    if (classification()) return 1e-12;
    double mean = st.c[0] / st.w;
    return 1e-12 * std::max(1.0, mean * mean);
  }

  // Weighted impurity decrease up to a constant: larger is better.
  double Proxy(const double* lc, double lw, const double* rc, double rw) const {
    switch (s_.criterion) {
      case Criterion::kGini: {
        double l = 0, r = 0;
        for (int k = 0; k < k_; ++k) {
          l += lc[k] * lc[k];
          r += rc[k] * rc[k];
        }
        return l / lw + r / rw;
      }
      case Criterion::kEntropy: {
        // -(w_l H_l + w_r H_r), with w H = w log w - sum c log c.
        double v = -(lw * std::log(lw) + rw * std::log(rw));
        for (int k = 0; k < k_; ++k) {
          if (lc[k] > 0) v += lc[k] * std::log(lc[k]);
          if (rc[k] > 0) v += rc[k] * std::log(rc[k]);
        }
        return v;
      }
      default: return lc[0] * lc[0] / lw + rc[0] * rc[0] / rw;
    }
  }

  Split FindSplit(const Pending& p) {
    Split best;
    int32_t visited = 0;
    const int32_t nf = n_features_;
    std::vector<double> left(k_), right(k_);
    lc_side_.resize(k_);
    for (int32_t i = 0; i < nf && visited < s_.max_features; ++i) {
      int32_t j = i + static_cast<int32_t>(rng_.Below(static_cast<uint64_t>(nf - i)));
      std::swap(features_[i], features_[j]);
      const int32_t f = features_[i];
      const FeatureBins& fb = s_.binned->features[f];
      const int32_t miss = fb.missing_bin();
      // Histogram of the node's rows over the feature's bins.
      const uint8_t* col = s_.binned->column(f);
      int32_t lo = kMaxBinSlots, hi = -1;
      if (classification()) {
        for (int64_t q = p.begin; q < p.end; ++q) {
          int32_t r = order_[q];
          int32_t b = col[r];
          hist_[static_cast<size_t>(b) * k_ + s_.y_class[r]] += weight_[r];
          ++count_[b];
          lo = std::min(lo, b);
          hi = std::max(hi, b);
        }
      } else {
        for (int64_t q = p.begin; q < p.end; ++q) {
          int32_t r = order_[q];
          int32_t b = col[r];
          hist_[2 * b] += weight_[r];
          hist_[2 * b + 1] += weight_[r] * s_.y_value[r];
          ++count_[b];
          lo = std::min(lo, b);
          hi = std::max(hi, b);
        }
      }
      const int32_t top = hi;  // for clearing
      if (hi == miss) {
        --hi;
        while (hi >= lo && count_[hi] == 0) --hi;
      }
      // [lo, hi] now spans the value bins present (empty when hi < lo).
      if (hi > lo) {
        ++visited;
        EvaluateFeature(p, f, lo, hi, miss, &best, left.data(), right.data());
      }
      ClearBins(lo, top);
    }
    return best;
  }

  void ClearBins(int32_t lo, int32_t hi) {
    if (hi < lo) return;
    const int w = classification() ? k_ : 2;
    std::fill(hist_.begin() + static_cast<size_t>(lo) * w, hist_.begin() + static_cast<size_t>(hi + 1) * w,
              0.0);
    std::fill(count_.begin() + lo, count_.begin() + hi + 1, 0);
  }

  // Per-bin statistics in the Stats layout (class weights, or {w y, w}).
  const double* BinStats(int32_t b) const {
    return hist_.data() + static_cast<size_t>(b) * (classification() ? k_ : 2);
  }

  void EvaluateFeature(const Pending& p, int32_t f, int32_t lo, int32_t hi, int32_t miss, Split* best,
                       double* lc, double* rc) {
    const FeatureBins& fb = s_.binned->features[f];
    const int m = classification() ? k_ : 1;
    // Missing rows' statistics.
    double miss_w = 0;
    int64_t miss_n = count_[miss];
    std::vector<double> mc(m, 0.0);
    if (miss_n > 0) {
      const double* h = BinStats(miss);
      if (classification()) {
        for (int k = 0; k < m; ++k) mc[k] = h[k], miss_w += h[k];
      } else {
        miss_w = h[0];
        mc[0] = h[1];
      }
    }
    int32_t first_cut = lo, last_cut = hi - 1;
    if (s_.extra_trees) {
      // One random threshold between the node's smallest and largest value.
      double a = fb.bin_min[lo], b = fb.bin_max[hi];
      double t = a + rng_.Uniform() * (b - a);
      int32_t c = BinOf(fb, static_cast<float>(t));
      c = std::clamp(c, lo, hi - 1);
      first_cut = last_cut = c;
    }
    // Prefix sums over value bins lo..cut; node totals without missing.
    std::vector<double> tot(m);
    double tot_w = p.stats.w - miss_w;
    for (int k = 0; k < m; ++k) tot[k] = (classification() ? p.stats.c[k] : p.stats.c[0]) - mc[k];
    double lw = 0;
    int64_t ln = 0;
    std::fill(lc, lc + m, 0.0);
    double* lcs = lc_side_.data();
    double* rcs = rc;
    for (int32_t b = lo; b < first_cut; ++b) Accumulate(b, lc, &lw, &ln);
    for (int32_t cut = first_cut; cut <= last_cut; ++cut) {
      Accumulate(cut, lc, &lw, &ln);
      for (int side = 0; side < (miss_n > 0 ? 2 : 1); ++side) {
        const bool miss_left = side == 1;
        double w_l = lw + (miss_left ? miss_w : 0), w_r = tot_w - lw + (miss_left ? 0 : miss_w);
        int64_t n_l = ln + (miss_left ? miss_n : 0), n_r = p.stats.n - n_l;
        if (n_l < s_.min_samples_leaf || n_r < s_.min_samples_leaf || w_l <= 0 || w_r <= 0) continue;
        for (int k = 0; k < m; ++k) {
          lcs[k] = lc[k] + (miss_left ? mc[k] : 0);
          rcs[k] = tot[k] - lc[k] + (miss_left ? 0 : mc[k]);
        }
        double proxy = Proxy(lcs, w_l, rcs, w_r);
        if (proxy > best->proxy) {
          best->proxy = proxy;
          best->feature = f;
          best->cut = cut;
          // Without missing rows in the node, NaN follows the majority.
          best->missing_left = miss_n > 0 ? miss_left : n_l >= n_r;
        }
      }
    }
  }

  void Accumulate(int32_t b, double* lc, double* lw, int64_t* ln) const {
    const double* h = BinStats(b);
    if (classification()) {
      for (int k = 0; k < k_; ++k) {
        lc[k] += h[k];
        *lw += h[k];
      }
    } else {
      *lw += h[0];
      lc[0] += h[1];
    }
    *ln += count_[b];
  }

  // Stable partition of order_[b, e) by the split; returns the middle.
  int64_t Partition(int64_t b, int64_t e, const Split& s) {
    const uint8_t* col = s_.binned->column(s.feature);
    const int32_t miss = s_.binned->features[s.feature].missing_bin();
    int64_t l = b, r = 0;
    for (int64_t q = b; q < e; ++q) {
      int32_t row = order_[q];
      int32_t bin = col[row];
      bool go_left = bin == miss ? s.missing_left : bin <= s.cut;
      if (go_left) {
        order_[l++] = row;
      } else {
        scratch_[r++] = row;
      }
    }
    std::copy(scratch_.begin(), scratch_.begin() + r, order_.begin() + l);
    return l;
  }

  const GrowShared& s_;
  Rng rng_;
  int k_ = 2;
  int32_t n_features_ = 0;
  std::vector<float> weight_;      // per subset row: bootstrap count x class weight
  std::vector<int32_t> order_;     // in-bag rows, grouped by node
  std::vector<int32_t> scratch_;   // partition buffer
  std::vector<double> hist_;       // per bin: class weights, or {w, w y}
  std::vector<int64_t> count_;     // per bin: rows
  std::vector<int32_t> features_;  // permutation for feature sampling
  std::vector<double> lc_side_;    // left statistics with the missing rows' side applied
  std::vector<double> importances_;
  Tree tree_;
};

}  // namespace

GrownTree GrowTree(const GrowShared& shared, int32_t tree_index) { return Grower(shared, tree_index).Grow(); }

}  // namespace fb::train
