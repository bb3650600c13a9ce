// What the scikit-learn parity tests share: reading the fixtures that the
// make_*fixtures.py scripts write (manifests, CSV tables of inputs and of
// scikit-learn's answers), and checking that every engine and the native
// format give the reference predictor's sums.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/simd.h"
#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "model/forest.h"

namespace fb::sklearn_test {

// A file's bytes, plain or gzip-compressed (gzread reads both); empty when
// it cannot be opened.
inline std::string ReadText(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

// The comma-separated cells of a line ("a,,b" has three; "a," two, the last empty).
inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// A fixture's CSV table (no quoting) as cells, one vector a line; blank
// lines and a line's trailing '\r' skipped, and the first line too with
// `skip_header`.
inline std::vector<std::vector<std::string>> ReadCsv(const std::string& path, bool skip_header = false) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream ss(ReadText(path));
  std::string line;
  bool first = true;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (first && skip_header) {
      first = false;
      continue;
    }
    first = false;
    rows.push_back(SplitCsvLine(line));
  }
  return rows;
}

// A cell as scikit-learn's numbers were written ("nan" is NaN).
inline double ToDouble(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// One line of a fixture folder's manifest.txt: NAME MODEL KIND [N_CLASSES].
struct FixtureCase {
  std::string dir;  // the folder, ending with '/'
  std::string name, model, kind;
  size_t n_classes = 0;
};

// The cases of `dir`'s manifest.txt; blank lines and '#' comments skipped.
inline std::vector<FixtureCase> ReadManifest(const std::string& dir) {
  std::vector<FixtureCase> cases;
  std::ifstream in(dir + "manifest.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    FixtureCase c;
    c.dir = dir;
    ss >> c.name >> c.model >> c.kind >> c.n_classes;
    cases.push_back(c);
  }
  return cases;
}

// The reference predictor's sums (the oracle) for n rows of x.
inline std::vector<double> ReferenceSums(std::shared_ptr<const Forest> forest, const std::vector<float>& x,
                                         size_t n) {
  std::vector<double> sums(n * static_cast<size_t>(forest->n_outputs));
  MakeReferencePredictor(std::move(forest))->PredictRaw(x.data(), n, sums.data());
  return sums;
}

// `got` is `want`, bit for bit (NaN and the sign of zero included).
inline void ExpectSameBits(const std::vector<double>& got, const std::vector<double>& want,
                           const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(double)), 0) << what;
}

// Every compiled engine this CPU runs gives `want`, bit for bit.
inline void ExpectEveryEngineGives(const std::shared_ptr<const Forest>& forest, const std::vector<float>& x,
                                   size_t n, const std::vector<double>& want) {
  for (SimdTarget target : SupportedSimdTargets()) {
    auto engine = MakeCompiledPredictor(forest, target);
    std::vector<double> got(want.size());
    engine->PredictRaw(x.data(), n, got.data());
    ExpectSameBits(got, want, engine->name());
  }
}

// How close predictions must be to scikit-learn's: a classifier's
// probabilities within `probability` (absolute), a regressor's values within
// `value` relative (to at least 1); `exact`: bit-identical too.
struct Closeness {
  double probability = 1e-6, value = 1e-6;
  bool exact = false;
};

// How many probabilities or values were compared, and how many bit-identical.
struct Tally {
  size_t exact_values = 0, values = 0;
};

// Finalize's predictions from the sums `raw` of n rows against scikit-learn's
// (`expected`: a classifier's label then its probabilities, a regressor's
// value, a row each): labels identical, numbers as close as `closeness` says.
inline void ExpectPredictions(const Forest& forest, const std::vector<double>& raw, size_t n,
                              const std::vector<std::vector<std::string>>& expected,
                              const Closeness& closeness, Tally* tally) {
  Predictions p;
  Finalize(forest, raw.data(), n, OutputKind::kPrediction, &p);
  ASSERT_EQ(expected.size(), n);
  for (size_t r = 0; r < n; ++r) {
    const auto& e = expected[r];
    if (forest.kind == ModelKind::kClassifier) {
      ASSERT_EQ(e.size(), 1 + static_cast<size_t>(p.n_cols));
      EXPECT_EQ(forest.class_labels[static_cast<size_t>(p.label[r])], e[0]) << "row " << r;
      for (int32_t k = 0; k < p.n_cols; ++k) {
        const double want = ToDouble(e[1 + static_cast<size_t>(k)]), got = p.values[r * p.n_cols + k];
        EXPECT_NEAR(got, want, closeness.probability) << "row " << r << " class " << k;
        if (closeness.exact) {
          EXPECT_EQ(got, want) << "row " << r << " class " << k;
        }
        tally->exact_values += got == want;
        ++tally->values;
      }
    } else {
      const double want = ToDouble(e[0]), got = p.values[r];
      EXPECT_NEAR(got, want, closeness.value * std::max(1.0, std::fabs(want))) << "row " << r;
      if (closeness.exact) {
        EXPECT_EQ(got, want) << "row " << r;
      }
      tally->exact_values += got == want;
      ++tally->values;
    }
  }
}

}  // namespace fb::sklearn_test
