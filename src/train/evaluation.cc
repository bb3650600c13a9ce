#include "train/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <numeric>
#include <thread>

#include "infer/predictor.h"
#include "train/forest_trainer.h"
#include "train/rng.h"

namespace fb::train {

Result<std::vector<std::vector<int64_t>>> MakeFolds(const TrainingData& data, int32_t k, uint64_t seed) {
  if (k < 2 || k > data.n_rows)
    return InvalidArgument(
        fmt::format("--cv {}: need between 2 and the row count ({}) folds", k, data.n_rows));
  Rng rng = Rng::ForStream(seed, 0xF01D);
  auto shuffle = [&](std::vector<int64_t>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(i)]);
  };
  std::vector<std::vector<int64_t>> folds(k);
  if (data.kind == ModelKind::kClassifier) {
    std::vector<std::vector<int64_t>> by_class(data.n_classes());
    for (int64_t r = 0; r < data.n_rows; ++r) by_class[data.y_class[r]].push_back(r);
    size_t next = 0;
    for (auto& rows : by_class) {
      shuffle(rows);
      for (int64_t r : rows) folds[next++ % k].push_back(r);
    }
  } else {
    std::vector<int64_t> rows(data.n_rows);
    std::iota(rows.begin(), rows.end(), 0);
    shuffle(rows);
    for (int32_t f = 0; f < k; ++f) {
      size_t b = rows.size() * f / k, e = rows.size() * (f + 1) / k;
      folds[f].assign(rows.begin() + b, rows.begin() + e);
    }
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

std::vector<int64_t> Complement(int64_t n_rows, const std::vector<int64_t>& test) {
  std::vector<uint8_t> in_test(n_rows, 0);
  for (int64_t r : test) in_test[r] = 1;
  std::vector<int64_t> out;
  out.reserve(n_rows - test.size());
  for (int64_t r = 0; r < n_rows; ++r)
    if (!in_test[r]) out.push_back(r);
  return out;
}

namespace {

// AUC of scores for positives (y == 1) against negatives: the Mann-Whitney
// statistic with average ranks for ties.
double BinaryAuc(const std::vector<double>& score, const std::vector<uint8_t>& pos) {
  const size_t n = score.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  double rank_sum = 0;
  size_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && score[idx[j]] == score[idx[i]]) ++j;
    double avg_rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2.0;  // 1-based ranks i+1..j
    for (size_t q = i; q < j; ++q)
      if (pos[idx[q]]) rank_sum += avg_rank, ++n_pos;
    i = j;
  }
  size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nan("");
  return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (static_cast<double>(n_pos) * n_neg);
}

}  // namespace

double RocAuc(const std::vector<double>& prob, int32_t nc, const std::vector<int32_t>& y) {
  const size_t n = y.size();
  std::vector<double> score(n);
  std::vector<uint8_t> pos(n);
  if (nc == 2) {
    for (size_t i = 0; i < n; ++i) score[i] = prob[i * 2 + 1], pos[i] = y[i] == 1;
    return BinaryAuc(score, pos);
  }
  double sum = 0;
  int32_t used = 0;
  for (int32_t c = 0; c < nc; ++c) {
    for (size_t i = 0; i < n; ++i) score[i] = prob[i * nc + c], pos[i] = y[i] == c;
    double a = BinaryAuc(score, pos);
    if (!std::isnan(a)) sum += a, ++used;
  }
  return used ? sum / used : std::nan("");
}

Metrics Evaluate(const Forest& forest, const TrainingData& data, const std::vector<int64_t>& test,
                 int32_t threads) {
  Metrics m;
  m.n_test = static_cast<int64_t>(test.size());
  if (test.empty()) return m;
  std::vector<float> x = RowMajor(data, test);
  // The forest outlives the predictor: share it without a copy.
  std::shared_ptr<const Forest> shared(&forest, [](const Forest*) {});
  auto predictor = MakeBestPredictor(shared);
  std::vector<double> raw(test.size() * forest.n_outputs);
  // Blocks of rows on `threads` threads (PredictRaw is const and thread-safe;
  // every row's sums are the reference predictor's whatever the split).
  constexpr size_t kBlock = 4096;
  const size_t n_blocks = (test.size() + kBlock - 1) / kBlock;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t b; (b = next.fetch_add(1)) < n_blocks;) {
      const size_t first = b * kBlock, rows = std::min(kBlock, test.size() - first);
      predictor->PredictRaw(x.data() + first * data.n_features, rows, raw.data() + first * forest.n_outputs);
    }
  };
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < std::min<int64_t>(EffectiveThreads(threads), n_blocks); ++t)
    pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  Predictions p;
  Finalize(forest, raw.data(), test.size(), OutputKind::kPrediction, &p);
  const size_t n = test.size();
  if (forest.kind == ModelKind::kClassifier) {
    const int32_t nc = p.n_cols;
    std::vector<int32_t> y(n);
    double correct = 0, ll = 0;
    for (size_t i = 0; i < n; ++i) {
      y[i] = data.y_class[test[i]];
      correct += p.label[i] == y[i];
      double z = 0;
      for (int32_t c = 0; c < nc; ++c) z += std::clamp(p.values[i * nc + c], 1e-15, 1 - 1e-15);
      ll -= std::log(std::clamp(p.values[i * nc + y[i]], 1e-15, 1 - 1e-15) / z);
    }
    m.accuracy = correct / n;
    m.log_loss = ll / n;
    m.roc_auc = RocAuc(p.values, nc, y);
  } else {
    double mean = 0, se = 0, st = 0;
    for (size_t i = 0; i < n; ++i) mean += data.y_value[test[i]];
    mean /= n;
    for (size_t i = 0; i < n; ++i) {
      double y = data.y_value[test[i]];
      se += (p.values[i] - y) * (p.values[i] - y);
      st += (y - mean) * (y - mean);
    }
    m.rmse = std::sqrt(se / n);
    m.r2 = st > 0 ? 1 - se / st : (se == 0 ? 1.0 : 0.0);
  }
  return m;
}

Result<std::vector<Metrics>> CrossValidate(const TrainingData& data, const TrainParams& params, int32_t k) {
  FB_ASSIGN_OR_RETURN(auto folds, MakeFolds(data, k, params.seed));
  std::vector<Metrics> out;
  for (const auto& test : folds) {
    FB_ASSIGN_OR_RETURN(Forest f, TrainForest(data, params, Complement(data.n_rows, test)));
    out.push_back(Evaluate(f, data, test, params.threads));
  }
  return out;
}

Metrics MeanMetrics(const std::vector<Metrics>& folds) {
  Metrics m;
  if (folds.empty()) return m;
  for (const Metrics& f : folds) {
    m.n_test += f.n_test;
    m.roc_auc += f.roc_auc;
    m.accuracy += f.accuracy;
    m.log_loss += f.log_loss;
    m.rmse += f.rmse;
    m.r2 += f.r2;
  }
  double k = static_cast<double>(folds.size());
  m.roc_auc /= k, m.accuracy /= k, m.log_loss /= k, m.rmse /= k, m.r2 /= k;
  return m;
}

}  // namespace fb::train
