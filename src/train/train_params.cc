#include "train/train_params.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace fb::train {
namespace {

bool ParseInt(const std::string& s, int64_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status Bad(const std::string& name, const std::string& value, const char* want) {
  return InvalidArgument(fmt::format("{}={}: expected {}", name, value, want));
}

}  // namespace

const char* CriterionName(Criterion c) {
  switch (c) {
    case Criterion::kGini: return "gini";
    case Criterion::kEntropy: return "entropy";
    case Criterion::kSquaredError: return "squared_error";
    case Criterion::kDefault: return "default";
  }
  return "?";
}

Status SetParam(TrainParams* p, const std::string& raw_name, const std::string& raw_value) {
  std::string name = Lower(raw_name);
  std::replace(name.begin(), name.end(), '-', '_');
  const std::string value = Lower(raw_value);
  int64_t i = 0;
  double d = 0;
  if (name == "n_estimators" || name == "trees") {
    if (!ParseInt(value, &i) || i < 1 || i > 100000) return Bad(name, raw_value, "an integer in [1, 100000]");
    p->n_estimators = static_cast<int32_t>(i);
  } else if (name == "max_depth") {
    if (value == "none" || value == "0") {
      p->max_depth = 0;
    } else if (!ParseInt(value, &i) || i < 1 || i > 10000) {
      return Bad(name, raw_value, "a positive integer or none");
    } else {
      p->max_depth = static_cast<int32_t>(i);
    }
  } else if (name == "max_features") {
    if (value == "sqrt") {
      p->max_features = {MaxFeatures::Kind::kSqrt, 0};
    } else if (value == "log2") {
      p->max_features = {MaxFeatures::Kind::kLog2, 0};
    } else if (value == "none" || value == "all") {
      p->max_features = {MaxFeatures::Kind::kAll, 0};
    } else if (ParseInt(value, &i)) {
      if (i < 1) return Bad(name, raw_value, "a positive count");
      p->max_features = {MaxFeatures::Kind::kCount, static_cast<double>(i)};
    } else if (ParseDouble(value, &d)) {
      if (!(d > 0 && d <= 1)) return Bad(name, raw_value, "a fraction in (0, 1]");
      p->max_features = {MaxFeatures::Kind::kFraction, d};
    } else {
      return Bad(name, raw_value, "an integer, a fraction, sqrt, log2 or none");
    }
  } else if (name == "min_samples_leaf") {
    if (!ParseInt(value, &i) || i < 1) return Bad(name, raw_value, "a positive integer");
    p->min_samples_leaf = i;
  } else if (name == "min_samples_split") {
    if (!ParseInt(value, &i) || i < 2) return Bad(name, raw_value, "an integer >= 2");
    p->min_samples_split = i;
  } else if (name == "criterion") {
    if (value == "gini") {
      p->criterion = Criterion::kGini;
    } else if (value == "entropy" || value == "log_loss") {
      p->criterion = Criterion::kEntropy;
    } else if (value == "squared_error" || value == "mse") {
      p->criterion = Criterion::kSquaredError;
    } else {
      return Bad(name, raw_value, "gini, entropy or squared_error");
    }
  } else if (name == "bootstrap") {
    if (value == "true" || value == "1") {
      p->bootstrap = 1;
    } else if (value == "false" || value == "0") {
      p->bootstrap = 0;
    } else {
      return Bad(name, raw_value, "true or false");
    }
  } else if (name == "class_weight") {
    if (value != "balanced" && value != "none") return Bad(name, raw_value, "balanced or none");
    p->class_weight_balanced = value == "balanced";
  } else if (name == "seed" || name == "random_state") {
    if (!ParseInt(value, &i) || i < 0) return Bad(name, raw_value, "a non-negative integer");
    p->seed = static_cast<uint64_t>(i);
  } else if (name == "extra_trees") {
    if (value != "true" && value != "false") return Bad(name, raw_value, "true or false");
    p->extra_trees = value == "true";
  } else if (name == "max_bins") {
    if (!ParseInt(value, &i) || i < 2 || i > 255) return Bad(name, raw_value, "an integer in [2, 255]");
    p->max_bins = static_cast<int32_t>(i);
  } else {
    return InvalidArgument("unknown hyperparameter '" + raw_name + "'");
  }
  return Status::Ok();
}

Criterion ResolveCriterion(Criterion c, ModelKind kind) {
  if (c != Criterion::kDefault) return c;
  return kind == ModelKind::kClassifier ? Criterion::kGini : Criterion::kSquaredError;
}

bool ResolveBootstrap(const TrainParams& p) { return p.bootstrap < 0 ? !p.extra_trees : p.bootstrap == 1; }

Status ValidateParams(const TrainParams& p, ModelKind kind) {
  Criterion c = ResolveCriterion(p.criterion, kind);
  if (kind == ModelKind::kClassifier && c == Criterion::kSquaredError)
    return InvalidArgument("criterion squared_error is for regression; use gini or entropy");
  if (kind == ModelKind::kRegressor && c != Criterion::kSquaredError)
    return InvalidArgument(
        fmt::format("criterion {} is for classification; use squared_error", CriterionName(c)));
  if (kind == ModelKind::kRegressor && p.class_weight_balanced)
    return InvalidArgument("class_weight applies to classification only");
  if (p.n_estimators < 1) return InvalidArgument("n_estimators must be at least 1");
  if (p.min_samples_leaf < 1) return InvalidArgument("min_samples_leaf must be at least 1");
  if (p.min_samples_split < 2) return InvalidArgument("min_samples_split must be at least 2");
  if (p.max_bins < 2 || p.max_bins > 255) return InvalidArgument("max_bins must be in [2, 255]");
  return Status::Ok();
}

int32_t ResolveMaxFeatures(const MaxFeatures& m, ModelKind kind, int32_t n) {
  double k = n;
  switch (m.kind) {
    case MaxFeatures::Kind::kDefault: k = kind == ModelKind::kClassifier ? std::sqrt(n) : n; break;
    case MaxFeatures::Kind::kAll: k = n; break;
    case MaxFeatures::Kind::kSqrt: k = std::sqrt(n); break;
    case MaxFeatures::Kind::kLog2: k = std::log2(n); break;
    case MaxFeatures::Kind::kCount: k = m.value; break;
    case MaxFeatures::Kind::kFraction: k = m.value * n; break;
  }
  // scikit-learn truncates (int(...)) and keeps at least one.
  return static_cast<int32_t>(std::clamp<double>(std::floor(k), 1, n));
}

std::vector<std::pair<std::string, std::string>> ParamsAsText(const TrainParams& p, ModelKind kind) {
  std::string mf;
  switch (p.max_features.kind) {
    case MaxFeatures::Kind::kDefault: mf = kind == ModelKind::kClassifier ? "sqrt" : "1.0"; break;
    case MaxFeatures::Kind::kAll: mf = "none"; break;
    case MaxFeatures::Kind::kSqrt: mf = "sqrt"; break;
    case MaxFeatures::Kind::kLog2: mf = "log2"; break;
    case MaxFeatures::Kind::kCount: mf = fmt::format("{}", static_cast<int64_t>(p.max_features.value)); break;
    case MaxFeatures::Kind::kFraction: mf = fmt::format("{}", p.max_features.value); break;
  }
  std::vector<std::pair<std::string, std::string>> v = {
      {"algorithm", p.extra_trees ? "extra_trees" : "random_forest"},
      {"n_estimators", std::to_string(p.n_estimators)},
      {"criterion", CriterionName(ResolveCriterion(p.criterion, kind))},
      {"max_depth", p.max_depth == 0 ? "none" : std::to_string(p.max_depth)},
      {"max_features", mf},
      {"min_samples_leaf", std::to_string(p.min_samples_leaf)},
      {"min_samples_split", std::to_string(p.min_samples_split)},
      {"bootstrap", ResolveBootstrap(p) ? "true" : "false"},
  };
  if (kind == ModelKind::kClassifier)
    v.push_back({"class_weight", p.class_weight_balanced ? "balanced" : "none"});
  v.push_back({"random_state", std::to_string(p.seed)});
  v.push_back({"max_bins", std::to_string(p.max_bins)});
  return v;
}

}  // namespace fb::train
