#include "train/tree_grower.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "train/rng.h"

namespace fb::train {
namespace {

constexpr int kMaxBinSlots = 256;  // 255 value bins + the missing bin at most
// Features whose histograms one pass over a node's rows builds at most (the
// histograms stay in L1/L2: 16 x 256 bins x (k + 1) numbers).
constexpr int kMaxBatch = 16;
// How many rows ahead the row loops prefetch a row's bins.
constexpr int64_t kPrefetch = 16;

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
      // Weights and targets travel with order_ so that histogram loops read
      // them sequentially; only the feature's bin is a gather.
      ow_.push_back(weight_[i]);
      if (s.n_classes > 0) {
        oy_class_.push_back(s.y_class[i]);
      } else {
        oy_value_.push_back(s.y_value[i]);
      }
    }
    std::vector<float>().swap(weight_);
    scratch_.resize(order_.size());
    scratch_w_.resize(order_.size());
    scratch_y_.resize(order_.size());
    touched_.reserve(kMaxBinSlots);
    for (auto* v : {&mc_, &tot_, &lc_, &lcs_, &rcs_}) v->resize(k_);
    hist_.assign(static_cast<size_t>(kMaxBatch) * kMaxBinSlots * k_, 0.0);
    count_.assign(static_cast<size_t>(kMaxBatch) * kMaxBinSlots, 0);
    touched_bits_.assign(static_cast<size_t>(kMaxBatch) * 4, 0);
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
      // Exact child statistics (histogram sums differ in rounding).
      Stats left, right;
      const int64_t mid = Partition(p.begin, p.end, best, &left, &right);
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
      double w = ow_[p];
      st.w += w;
      if (classification()) {
        st.c[oy_class_[p]] += w;
      } else {
        st.c[0] += w * oy_value_[p];
        st.c[1] += w * oy_value_[p] * oy_value_[p];
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

  // Features are drawn in batches of as many as are still needed, and each
  // batch's histograms are built in one pass over the node's rows. A batch
  // never draws more than the one-at-a-time rule would (it asks for exactly
  // the non-constant features still missing), so the draws, the evaluation
  // order and the result are the same as drawing and scoring one by one.
  // (Extra trees draw each evaluated feature's threshold after the whole
  // batch's features, so their random stream is used in another order than
  // one by one would: still one model per seed.)
  Split FindSplit(const Pending& p) {
    Split best;
    int32_t visited = 0;
    const int32_t nf = n_features_;
    int32_t batch[kMaxBatch];
    for (int32_t i = 0; i < nf && visited < s_.max_features;) {
      const int32_t want = std::min({s_.max_features - visited, nf - i, kMaxBatch});
      for (int32_t b = 0; b < want; ++b, ++i) {
        int32_t j = i + static_cast<int32_t>(rng_.Below(static_cast<uint64_t>(nf - i)));
        std::swap(features_[i], features_[j]);
        batch[b] = features_[i];
      }
      BuildHistograms(p, batch, want);
      for (int32_t b = 0; b < want; ++b) {
        slot_ = b;
        const int32_t f = batch[b];
        const int32_t miss = s_.binned->features[f].missing_bin();
        // The non-empty bins in order, from the slot's bitmap.
        touched_.clear();
        const uint64_t* bits = touched_bits_.data() + 4 * b;
        for (int w = 0; w < 4; ++w) {
          for (uint64_t m = bits[w]; m != 0; m &= m - 1)
            touched_.push_back(static_cast<uint8_t>(64 * w + __builtin_ctzll(m)));
        }
        const bool has_missing = !touched_.empty() && touched_.back() == miss;
        const size_t n_value_bins = touched_.size() - (has_missing ? 1 : 0);
        if (n_value_bins >= 2) {
          ++visited;
          EvaluateFeature(p, f, touched_.front(), touched_[n_value_bins - 1], miss, n_value_bins, &best);
        }
        ClearTouched();
      }
    }
    return best;
  }

  // Histograms of features batch[0, m) over the node's rows: per slot, per
  // bin, the class weights (or {w, w y}), the row count and a bitmap of the
  // non-empty bins. Large nodes fill the bitmap from the counts afterwards
  // (256 checks per feature); small ones mark bins as they go.
  void BuildHistograms(const Pending& p, const int32_t* batch, int32_t m) {
    const bool large = p.end - p.begin >= 1024;
    if (classification()) {
      if (large) {
        FillHistograms<true, false>(p, batch, m);
      } else {
        FillHistograms<true, true>(p, batch, m);
      }
    } else {
      if (large) {
        FillHistograms<false, false>(p, batch, m);
      } else {
        FillHistograms<false, true>(p, batch, m);
      }
    }
    if (large) {
      for (int32_t s = 0; s < m; ++s) {
        const uint32_t* count = count_.data() + static_cast<size_t>(s) * kMaxBinSlots;
        uint64_t* bits = touched_bits_.data() + 4 * s;
        for (int b = 0; b < kMaxBinSlots; ++b) bits[b >> 6] |= uint64_t{count[b] != 0} << (b & 63);
      }
    }
  }

  template <bool kClassification, bool kMarkBins>
  void FillHistograms(const Pending& p, const int32_t* batch, int32_t m) {
    const uint8_t* bins = s_.binned->bins.data();
    const size_t stride = static_cast<size_t>(n_features_);
    double* hist = hist_.data();
    uint32_t* count = count_.data();
    uint64_t* bits = touched_bits_.data();
    const float* w = ow_.data();
    const int32_t* order = order_.data();
    const int32_t* y_class = oy_class_.data();
    const double* y_value = oy_value_.data();
    const size_t k = kClassification ? static_cast<size_t>(k_) : 2;
    for (int64_t q = p.begin; q < p.end; ++q) {
      // The rows of a node are scattered over the whole matrix: fetch the
      // bins of the row kPrefetch ahead while this one is counted.
      if (q + kPrefetch < p.end) {
        const uint8_t* ahead = bins + static_cast<size_t>(order[q + kPrefetch]) * stride;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + stride - 1);
      }
      const uint8_t* row = bins + static_cast<size_t>(order[q]) * stride;
      const double wq = w[q];
      size_t yq = 0;
      double wy = 0;
      if constexpr (kClassification) {
        yq = static_cast<size_t>(y_class[q]);
      } else {
        wy = wq * y_value[q];
      }
      for (int32_t s = 0; s < m; ++s) {
        const uint32_t b = row[batch[s]];
        const size_t slot_bin = static_cast<size_t>(s) * kMaxBinSlots + b;
        if constexpr (kClassification) {
          hist[slot_bin * k + yq] += wq;
        } else {
          hist[2 * slot_bin] += wq;
          hist[2 * slot_bin + 1] += wy;
        }
        ++count[slot_bin];
        if constexpr (kMarkBins) bits[4 * s + (b >> 6)] |= uint64_t{1} << (b & 63);
      }
    }
  }

  void ClearTouched() {
    const size_t w = classification() ? k_ : 2;
    const size_t base = static_cast<size_t>(slot_) * kMaxBinSlots;
    for (uint8_t b : touched_) {
      std::fill(hist_.begin() + (base + b) * w, hist_.begin() + (base + b + 1) * w, 0.0);
      count_[base + b] = 0;
    }
    std::fill(touched_bits_.begin() + 4 * slot_, touched_bits_.begin() + 4 * slot_ + 4, 0);
  }

  // Per-bin statistics of the current slot in the Stats layout (class
  // weights, or {w, w y}), and its row count.
  const double* BinStats(int32_t b) const {
    return hist_.data() + (static_cast<size_t>(slot_) * kMaxBinSlots + b) * (classification() ? k_ : 2);
  }
  int64_t BinCount(int32_t b) const { return count_[static_cast<size_t>(slot_) * kMaxBinSlots + b]; }

  // Scores the cuts of feature f over the node's non-empty value bins
  // touched_[0, n_value_bins) (sorted; lo and hi are the first and last).
  void EvaluateFeature(const Pending& p, int32_t f, int32_t lo, int32_t hi, int32_t miss, size_t n_value_bins,
                       Split* best) {
    const FeatureBins& fb = s_.binned->features[f];
    const int m = classification() ? k_ : 1;
    double* mc = mc_.data();
    double* tot = tot_.data();
    double* lc = lc_.data();
    double* lcs = lcs_.data();
    double* rcs = rcs_.data();
    // Missing rows' statistics.
    double miss_w = 0;
    const int64_t miss_n = BinCount(miss);
    std::fill(mc, mc + m, 0.0);
    if (miss_n > 0) {
      const double* h = BinStats(miss);
      if (classification()) {
        for (int k = 0; k < m; ++k) mc[k] = h[k], miss_w += h[k];
      } else {
        miss_w = h[0];
        mc[0] = h[1];
      }
    }
    int32_t et_cut = -1;
    if (s_.extra_trees) {
      // One random threshold between the node's smallest and largest value,
      // snapped to the bin cut at or above it.
      double a = fb.bin_min[lo], b = fb.bin_max[hi];
      double t = a + rng_.Uniform() * (b - a);
      et_cut = std::clamp<int32_t>(BinOf(fb, static_cast<float>(t)), lo, hi - 1);
    }
    // Node totals without the missing rows; left sums grow bin by bin.
    const double tot_w = p.stats.w - miss_w;
    for (int k = 0; k < m; ++k) tot[k] = (classification() ? p.stats.c[k] : p.stats.c[0]) - mc[k];
    if (classification() && k_ == 2 && s_.criterion == Criterion::kGini && et_cut < 0) {
      ScanBinaryGini(p, f, miss_w, miss_n, tot_w, n_value_bins, best);
      return;
    }
    double lw = 0;
    int64_t ln = 0;
    std::fill(lc, lc + m, 0.0);
    for (size_t i = 0; i + 1 < n_value_bins; ++i) {
      const int32_t bin = touched_[i];
      if (et_cut >= 0 && bin > et_cut) break;
      Accumulate(bin, lc, &lw, &ln);
      int32_t cut = bin;
      if (et_cut >= 0) {
        if (touched_[i + 1] <= et_cut) continue;  // not yet at the drawn cut
        cut = et_cut;
      }
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

  // EvaluateFeature's loop for the common case (two classes, gini, every
  // cut), with the per-class arrays in registers: the same operations in the
  // same order, so the same proxies bit for bit.
  void ScanBinaryGini(const Pending& p, int32_t f, double miss_w, int64_t miss_n, double tot_w,
                      size_t n_value_bins, Split* best) {
    const double mc0 = mc_[0], mc1 = mc_[1], tot0 = tot_[0], tot1 = tot_[1];
    const int64_t min_leaf = s_.min_samples_leaf, n = p.stats.n;
    const double* hist = hist_.data() + static_cast<size_t>(slot_) * kMaxBinSlots * 2;
    const uint32_t* count = count_.data() + static_cast<size_t>(slot_) * kMaxBinSlots;
    double lw = 0, lc0 = 0, lc1 = 0;
    int64_t ln = 0;
    for (size_t i = 0; i + 1 < n_value_bins; ++i) {
      const int32_t bin = touched_[i];
      const double h0 = hist[2 * bin], h1 = hist[2 * bin + 1];
      lc0 += h0;
      lw += h0;
      lc1 += h1;
      lw += h1;
      ln += count[bin];
      for (int side = 0; side < (miss_n > 0 ? 2 : 1); ++side) {
        const bool miss_left = side == 1;
        const double w_l = lw + (miss_left ? miss_w : 0), w_r = tot_w - lw + (miss_left ? 0 : miss_w);
        const int64_t n_l = ln + (miss_left ? miss_n : 0), n_r = n - n_l;
        if (n_l < min_leaf || n_r < min_leaf || w_l <= 0 || w_r <= 0) continue;
        const double l0 = lc0 + (miss_left ? mc0 : 0), l1 = lc1 + (miss_left ? mc1 : 0);
        const double r0 = tot0 - lc0 + (miss_left ? 0 : mc0), r1 = tot1 - lc1 + (miss_left ? 0 : mc1);
        double l = 0, r = 0;
        l += l0 * l0;
        r += r0 * r0;
        l += l1 * l1;
        r += r1 * r1;
        const double proxy = l / w_l + r / w_r;
        if (proxy > best->proxy) {
          best->proxy = proxy;
          best->feature = f;
          best->cut = bin;
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
    *ln += BinCount(b);
  }

  // Stable partition of order_[b, e) (and the aligned arrays) by the
  // split; returns the middle. The children's statistics are summed on the
  // way, row by row in order, exactly as StatsOf over each side would.
  int64_t Partition(int64_t b, int64_t e, const Split& s, Stats* left, Stats* right) {
    const uint8_t* bins = s_.binned->bins.data() + s.feature;
    const size_t stride = static_cast<size_t>(n_features_);
    const int32_t miss = s_.binned->features[s.feature].missing_bin();
    int64_t l = b, r = 0;
    const bool cls = classification();
    left->c.assign(k_, 0.0);
    right->c.assign(k_, 0.0);
    double* lc = left->c.data();
    double* rc = right->c.data();
    for (int64_t q = b; q < e; ++q) {
      if (q + kPrefetch < e) __builtin_prefetch(bins + static_cast<size_t>(order_[q + kPrefetch]) * stride);
      const int32_t row = order_[q];
      const int32_t bin = bins[static_cast<size_t>(row) * stride];
      const bool go_left = bin == miss ? s.missing_left : bin <= s.cut;
      const float wf = ow_[q];
      const double w = wf;
      if (go_left) {
        order_[l] = row;
        ow_[l] = wf;
        left->w += w;
        if (cls) {
          const int32_t y = oy_class_[q];
          oy_class_[l] = y;
          lc[y] += w;
        } else {
          const double y = oy_value_[q];
          oy_value_[l] = y;
          lc[0] += w * y;
          lc[1] += w * y * y;
        }
        ++l;
      } else {
        scratch_[r] = row;
        scratch_w_[r] = wf;
        right->w += w;
        if (cls) {
          const int32_t y = oy_class_[q];
          scratch_y_[r] = y;
          rc[y] += w;
        } else {
          const double y = oy_value_[q];
          scratch_y_[r] = y;
          rc[0] += w * y;
          rc[1] += w * y * y;
        }
        ++r;
      }
    }
    std::copy(scratch_.begin(), scratch_.begin() + r, order_.begin() + l);
    std::copy(scratch_w_.begin(), scratch_w_.begin() + r, ow_.begin() + l);
    for (int64_t i = 0; i < r; ++i) {
      if (cls) {
        oy_class_[l + i] = static_cast<int32_t>(scratch_y_[i]);
      } else {
        oy_value_[l + i] = scratch_y_[i];
      }
    }
    left->n = l - b;
    right->n = r;
    return l;
  }

  const GrowShared& s_;
  Rng rng_;
  int k_ = 2;
  int32_t n_features_ = 0;
  std::vector<float> weight_;           // per subset row: bootstrap count x class weight
  std::vector<int32_t> order_;          // in-bag rows, grouped by node
  std::vector<int32_t> scratch_;        // partition buffer
  std::vector<double> hist_;            // per slot and bin: class weights, or {w, w y}
  std::vector<uint32_t> count_;         // per slot and bin: rows
  std::vector<uint64_t> touched_bits_;  // per slot: 256-bit map of the non-empty bins
  int32_t slot_ = 0;                    // the batch slot being scored
  std::vector<int32_t> features_;       // permutation for feature sampling
  std::vector<float> ow_;               // weights, aligned with order_
  std::vector<int32_t> oy_class_;       // classes, aligned with order_
  std::vector<double> oy_value_;        // targets, aligned with order_
  std::vector<float> scratch_w_;
  std::vector<double> scratch_y_;                  // partition buffer for oy_value_ / oy_class_
  std::vector<uint8_t> touched_;                   // non-empty bins of the current slot, in order
  std::vector<double> mc_, tot_, lc_, lcs_, rcs_;  // per-class sums while scoring cuts
  std::vector<double> importances_;
  Tree tree_;
};

}  // namespace

GrownTree GrowTree(const GrowShared& shared, int32_t tree_index) { return Grower(shared, tree_index).Grow(); }

}  // namespace fb::train
