// XGBoost JSON / UBJSON models (schema of XGBoost 1.0 to 3.x) into a Forest.
//
// Facts this file relies on (checked against python3-xgboost 1.7.4; later
// schema changes from XGBoost's documented JSON schema):
//   - learner.learner_model_param: base_score is a string, "5E-1" up to 3.0
//     and a vector string "[5E-1]" (one value per output) from 3.1; it is on
//     the output scale, converted to the margin by the objective's inverse
//     link, in float32 as XGBoost does.
//   - gradient_booster: {name: gbtree, model} or {name: dart, gbtree: {model},
//     weight_drop}; model.trees[i] holds parallel arrays per node; a leaf is
//     left_children == -1 and its value is split_conditions[leaf].
//   - Numeric split: go left when x < split_condition (float32). Categorical
//     split (split_type 1): the listed categories go right.
//   - Trees are grouped in rounds of num_parallel_tree x output groups;
//     2.0 adds model.iteration_indptr, the first tree of each round.
#include "model/import/xgboost_model.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "common/prefault.h"
#include "model/forest_builder.h"
#include "model/import/lazy_doc.h"
#include "model/import/ubjson_reader.h"
#include "model/import/xgboost_legacy.h"

namespace fb {
namespace {

using nlohmann::json;

// The converter reads a model through a view of one JSON value. JSON text is
// parsed by simdjson into its DOM (a flat tape: no allocation per value, and
// ten times faster than nlohmann::json's parser on a 2.4 MB model); UBJSON and
// the legacy binary format arrive as nlohmann::json (ubjson_reader.h,
// xgboost_legacy.h). Both views answer the same few questions, so there is
// one conversion for every encoding.

// A value of an nlohmann::json document.
class NlohmannView {
 public:
  explicit NlohmannView(const json& v) : v_(&v) {}
  bool IsObject() const { return v_->is_object(); }
  bool IsArray() const { return v_->is_array(); }
  bool IsString() const { return v_->is_string(); }
  bool IsNumber() const { return v_->is_number(); }
  bool IsBool() const { return v_->is_boolean(); }
  bool IsInteger() const { return v_->is_number_integer(); }
  double Double() const { return v_->get<double>(); }                            // IsNumber()
  int64_t Int64() const { return v_->get<int64_t>(); }                           // IsInteger()
  bool Bool() const { return v_->get<bool>(); }                                  // IsBool()
  std::string_view String() const { return v_->get_ref<const std::string&>(); }  // IsString()
  size_t Size() const { return v_->size(); }                                     // IsArray()
  // The member named key of an object; nullopt when absent or not an object.
  std::optional<NlohmannView> Find(const char* key) const {
    if (!v_->is_object()) return std::nullopt;
    auto it = v_->find(key);
    if (it == v_->end()) return std::nullopt;
    return NlohmannView(*it);
  }
  // f(element) for each element of an array (IsArray()), in order, until one fails.
  template <class F>
  Status Elements(F&& f) const {
    for (const json& e : *v_) {
      FB_RETURN_IF_ERROR(f(NlohmannView(e)));
    }
    return Status::Ok();
  }

 private:
  const json* v_;
};

// A value of a simdjson DOM document (the same questions).
class SimdjsonView {
 public:
  using Type = simdjson::dom::element_type;
  explicit SimdjsonView(simdjson::dom::element e) : e_(e) {}
  bool IsObject() const { return e_.type() == Type::OBJECT; }
  bool IsArray() const { return e_.type() == Type::ARRAY; }
  bool IsString() const { return e_.type() == Type::STRING; }
  bool IsNumber() const {
    const Type t = e_.type();
    return t == Type::DOUBLE || t == Type::INT64 || t == Type::UINT64;
  }
  bool IsBool() const { return e_.type() == Type::BOOL; }
  bool IsInteger() const { return e_.type() == Type::INT64 || e_.type() == Type::UINT64; }
  double Double() const { return Get<double>(); }
  int64_t Int64() const {
    // As nlohmann's get<int64_t> of an unsigned value above INT64_MAX: wrapped.
    return e_.type() == Type::UINT64 ? static_cast<int64_t>(Get<uint64_t>()) : Get<int64_t>();
  }
  bool Bool() const { return Get<bool>(); }
  std::string_view String() const { return Get<std::string_view>(); }
  size_t Size() const {
    const auto a = Get<simdjson::dom::array>();
    const size_t n = a.size();
    if (n < 0xFFFFFF) return n;  // the tape's count saturates at 2^24 - 1: count them
    size_t k = 0;
    for (auto it = a.begin(); it != a.end(); ++it) ++k;
    return k;
  }
  // Duplicate keys (which XGBoost never writes): the first one counts.
  std::optional<SimdjsonView> Find(const char* key) const {
    simdjson::dom::object o;
    simdjson::dom::element v;
    if (e_.get(o) != simdjson::SUCCESS || o.at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
    return SimdjsonView(v);
  }
  // The array itself (IsArray()), for loops that read the tape directly.
  simdjson::dom::array Array() const { return Get<simdjson::dom::array>(); }
  template <class F>
  Status Elements(F&& f) const {
    for (simdjson::dom::element e : Get<simdjson::dom::array>()) {
      FB_RETURN_IF_ERROR(f(SimdjsonView(e)));
    }
    return Status::Ok();
  }

 private:
  // The value as T, which the caller has checked it is (T{} otherwise).
  template <class T>
  T Get() const {
    T v{};
    if (e_.get(v) != simdjson::SUCCESS) return T{};
    return v;
  }
  simdjson::dom::element e_;
};

// A value of a LazyDoc (lazy_doc.h: JSON text or UBJSON read in one pass,
// arrays of numbers converted only when read). Its answers are those of the
// views above for the same document: SimdjsonView's for JSON text (numbers
// as simdjson's DOM makes them; of repeated keys the first), NlohmannView's
// for UBJSON (ubjson_reader.h's values; of repeated keys the last).
class LazyView {
 public:
  using Kind = LazyDoc::Kind;
  LazyView(const LazyDoc* doc, const LazyDoc::Node& n) : doc_(doc), n_(n) {}
  bool IsObject() const { return n_.kind == Kind::kObject; }
  bool IsArray() const { return n_.kind == Kind::kArray || n_.kind == Kind::kNumbers; }
  bool IsString() const { return n_.kind == Kind::kString; }
  bool IsNumber() const { return n_.kind == Kind::kInt || n_.kind == Kind::kDouble; }
  bool IsBool() const { return n_.kind == Kind::kBool; }
  bool IsInteger() const { return n_.kind == Kind::kInt; }
  double Double() const { return n_.kind == Kind::kInt ? static_cast<double>(n_.i) : n_.d; }  // IsNumber()
  int64_t Int64() const { return n_.i; }                                                      // IsInteger()
  bool Bool() const { return n_.i != 0; }                                                     // IsBool()
  std::string_view String() const { return n_.String(); }                                     // IsString()
  size_t Size() const { return n_.count; }                                                    // IsArray()
  std::optional<LazyView> Find(const char* key) const {
    const LazyDoc::Node* v = doc_->Find(n_, key);
    if (v == nullptr) return std::nullopt;
    return LazyView(doc_, *v);
  }
  // An element this reader does not convert (lazy_doc.h) fails with
  // kNotTaken: the document is then read in full.
  template <class F>
  Status Elements(F&& f) const {
    Status status;
    const bool ok = doc_->ForEachElement(n_, [&](const LazyDoc::Node& e) {
      status = f(LazyView(doc_, e));
      return status.ok();
    });
    if (!status.ok()) return status;
    if (!ok) return Internal(kNotTaken);
    return Status::Ok();
  }
  static constexpr const char* kNotTaken = "a number the lazy reader does not convert";
  const LazyDoc& doc() const { return *doc_; }
  const LazyDoc::Node& node() const { return n_; }

 private:
  const LazyDoc* doc_;
  LazyDoc::Node n_;
};

// How one objective turns margins into outputs.
struct ObjectiveSpec {
  const char* name;
  ModelKind kind;
  Link link;
  enum Inverse { kNone, kLogit, kLog } inverse;  // base_score -> margin
};

constexpr ObjectiveSpec kObjectives[] = {
    {"binary:logistic", ModelKind::kClassifier, Link::kSigmoid, ObjectiveSpec::kLogit},
    // logitraw outputs the raw margin, and (measured with 1.7.4) takes
    // base_score as a margin too.
    {"binary:logitraw", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"binary:hinge", ModelKind::kClassifier, Link::kStep, ObjectiveSpec::kNone},
    {"multi:softprob", ModelKind::kClassifier, Link::kSoftmax, ObjectiveSpec::kNone},
    {"multi:softmax", ModelKind::kClassifier, Link::kSoftmax, ObjectiveSpec::kNone},
    {"reg:squarederror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:linear", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:squaredlogerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:pseudohubererror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:absoluteerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:quantileerror", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"reg:logistic", ModelKind::kRegressor, Link::kSigmoid, ObjectiveSpec::kLogit},
    {"count:poisson", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"reg:gamma", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"reg:tweedie", ModelKind::kRegressor, Link::kExp, ObjectiveSpec::kLog},
    {"rank:pairwise", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"rank:ndcg", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
    {"rank:map", ModelKind::kRegressor, Link::kIdentity, ObjectiveSpec::kNone},
};

// The largest node count a tree may declare (XGBoost uses int32 node ids).
constexpr int64_t kMaxNodes = std::numeric_limits<int32_t>::max();

// A number written as text: "5E-1", and the spellings of NaN and infinities
// XGBoost uses (in strings, and bare in JSON text: see QuoteNonFiniteTokens).
std::optional<double> NumberFromText(std::string_view s) {
  if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec == std::errc() && p == s.data() + s.size()) return d;
  return std::nullopt;
}

std::optional<std::string> EstimatorTypeOf(std::string_view meta_json);

template <class V>
class Converter {
 public:
  explicit Converter(std::string format) : format_(std::move(format)) {}

  Result<Forest> Convert(const V& doc) {
    Forest f;
    f.info.source_format = format_;
    if (std::optional<V> v = doc.Find("version"); v && v->IsArray()) {
      std::string s;
      (void)v->Elements([&](const V& p) {
        s += (s.empty() ? "" : ".") + (p.IsInteger() ? std::to_string(p.Int64()) : std::string("?"));
        return Status::Ok();
      });
      f.info.library_version = s;
    }
    FB_ASSIGN_OR_RETURN(V learner, Need(doc, "learner", "model"));
    FB_ASSIGN_OR_RETURN(V lmp, Need(learner, "learner_model_param", "learner"));
    FB_ASSIGN_OR_RETURN(V objective, Need(learner, "objective", "learner"));
    FB_ASSIGN_OR_RETURN(V obj_name, Need(objective, "name", "learner.objective"));
    if (!obj_name.IsString()) return Bad("objective name is not a string");
    f.info.objective = std::string(obj_name.String());
    const ObjectiveSpec* spec = nullptr;
    for (const ObjectiveSpec& s : kObjectives)
      if (f.info.objective == s.name) spec = &s;
    if (spec == nullptr)
      return Unsupported(
          fmt::format("XGBoost objective \"{}\" is not supported (supported: binary:*, multi:*, "
                      "reg:*, count:poisson, rank:*)",
                      f.info.objective));

    // Shape: features, classes, targets.
    FB_ASSIGN_OR_RETURN(V nf, Need(lmp, "num_feature", "learner_model_param"));
    FB_ASSIGN_OR_RETURN(int64_t n_features, Integer(nf, "num_feature"));
    if (n_features <= 0 || n_features > kMaxNodes)
      return Bad(fmt::format("num_feature {} out of range", n_features));
    f.n_features = static_cast<int32_t>(n_features);
    int64_t num_class = 0, num_target = 1;
    if (std::optional<V> v = lmp.Find("num_class")) {
      FB_ASSIGN_OR_RETURN(num_class, Integer(*v, "num_class"));
    }
    if (std::optional<V> v = lmp.Find("num_target")) {
      FB_ASSIGN_OR_RETURN(num_target, Integer(*v, "num_target"));
    }
    if (num_class < 0 || num_class > 1000000 || num_target < 1 || num_target > 1000000)
      return Bad("num_class / num_target out of range");
    if (num_target > 1 && num_class > 1) return Bad("both num_class and num_target are above 1");
    const bool multiclass = spec->link == Link::kSoftmax;
    if (multiclass != (num_class > 1))
      return Bad(fmt::format("objective {} with num_class {}", f.info.objective, num_class));
    f.n_outputs = static_cast<int32_t>(std::max<int64_t>(num_class, num_target));
    f.kind = spec->kind;
    f.link = spec->link;
    f.aggregate = Aggregate::kSum;
    // XGBoost's CPU predictor adds float32 leaves to float32 sums in tree
    // order and applies its link in float32 (docs/xgboost.md).
    f.float32_sums = true;
    if (f.kind == ModelKind::kClassifier) {
      if (f.n_outputs > 1 && !multiclass) return Unsupported("multi-target classifiers are not supported");
      int32_t k = multiclass ? f.n_outputs : 2;
      for (int32_t c = 0; c < k; ++c) f.class_labels.push_back(std::to_string(c));
      f.labels_are_integers = true;
    }

    FB_RETURN_IF_ERROR(ReadBaseScore(lmp, *spec, &f));
    FB_RETURN_IF_ERROR(ReadFeatures(learner, &f));
    FB_RETURN_IF_ERROR(ReadBooster(learner, &f));
    ReadAttributes(learner, &f);
    return BuildForest(std::move(f));
  }

 private:
  static Status Bad(const std::string& m) { return InvalidData("XGBoost model: " + m); }

  static Result<V> Need(const V& obj, const char* key, std::string_view where) {
    std::optional<V> v = obj.Find(key);
    if (!v) return Bad(fmt::format("{} has no \"{}\"", where, key));
    return *v;
  }

  // A number stored as a JSON number, a boolean, or a string ("5E-1", "NaN";
  // in JSON text also the bare NaN/Infinity, quoted by QuoteNonFiniteTokens).
  static std::optional<double> ToNumber(const V& v) {
    if (v.IsNumber()) return v.Double();
    if (v.IsBool()) return v.Bool() ? 1.0 : 0.0;
    if (v.IsString()) return NumberFromText(v.String());
    return std::nullopt;
  }

  static std::optional<int64_t> ToInteger(const V& v) {
    if (v.IsInteger()) {  // the common case, without the round trip through double (same answers)
      const int64_t i = v.Int64();
      if (i >= -9'000'000'000'000'000 && i <= 9'000'000'000'000'000) return i;
      return std::nullopt;
    }
    const std::optional<double> d = ToNumber(v);
    if (!d || !(*d >= -9.0e15 && *d <= 9.0e15) || *d != std::floor(*d)) return std::nullopt;
    return static_cast<int64_t>(*d);
  }

  static Result<double> Number(const V& v, std::string_view what) {
    if (std::optional<double> d = ToNumber(v)) return *d;
    return Bad(fmt::format("{} is not a number", what));
  }

  static Result<int64_t> Integer(const V& v, std::string_view what) {
    if (std::optional<int64_t> i = ToInteger(v)) return *i;
    return Bad(fmt::format("{} is not an integer", what));
  }

  // An array field of exactly n elements (n < 0: any length).
  static Result<V> Array(const V& obj, const char* key, int64_t n, std::string_view where) {
    FB_ASSIGN_OR_RETURN(V a, Need(obj, key, where));
    if (!a.IsArray()) return Bad(fmt::format("{}.{} is not an array", where, key));
    if (n >= 0 && static_cast<int64_t>(a.Size()) != n)
      return Bad(fmt::format("{}.{} has {} elements, expected {}", where, key, a.Size(), n));
    return a;
  }

  // The elements of an array field of n elements (n < 0: any length), as
  // numbers (T double) or integers (T int64_t); an error names the element.
  template <class T>
  static Status ArrayValues(const V& obj, const char* key, int64_t n, std::string_view where,
                            std::vector<T>* out) {
    static_assert(std::is_same_v<T, double> || std::is_same_v<T, int64_t>);
    constexpr bool kNumbers = std::is_same_v<T, double>;
    FB_ASSIGN_OR_RETURN(V a, Array(obj, key, n, where));
    out->clear();
    if (n > 0) out->reserve(static_cast<size_t>(n));
    if constexpr (std::is_same_v<V, SimdjsonView>) {
      // JSON numbers (integers within ToInteger's range) straight from the
      // tape, as ToNumber / ToInteger read them; any other element through
      // them, as below: the same values and the same errors, without the
      // per-element type questions (most of a model's elements).
      for (simdjson::dom::element e : a.Array()) {
        T x;
        bool direct;
        if constexpr (kNumbers) {
          direct = e.get_double().get(x) == simdjson::SUCCESS;
        } else {
          direct = e.get_int64().get(x) == simdjson::SUCCESS && x >= -9'000'000'000'000'000 &&
                   x <= 9'000'000'000'000'000;
        }
        if (!direct) {
          std::optional<T> other;
          if constexpr (kNumbers) {
            other = ToNumber(SimdjsonView(e));
          } else {
            other = ToInteger(SimdjsonView(e));
          }
          if (!other)
            return Bad(fmt::format("{}.{}[{}] is not {}", where, key, out->size(),
                                   kNumbers ? "a number" : "an integer"));
          x = *other;
        }
        out->push_back(x);
      }
      return Status::Ok();
    }
    if constexpr (std::is_same_v<V, LazyView>) {
      // The same as below, without a Status per element, into room made once.
      bool bad = false;
      out->resize(a.Size());
      T* const values = out->data();
      size_t k = 0;
      const bool ok = a.doc().ForEachElement(a.node(), [&](const LazyDoc::Node& e) {
        std::optional<T> x;
        if constexpr (kNumbers) {
          x = ToNumber(LazyView(&a.doc(), e));
        } else {
          x = ToInteger(LazyView(&a.doc(), e));
        }
        if (!x) return !(bad = true);
        values[k++] = *x;
        return true;
      });
      out->resize(k);
      if (bad)
        return Bad(fmt::format("{}.{}[{}] is not {}", where, key, k, kNumbers ? "a number" : "an integer"));
      if (!ok) return Internal(LazyView::kNotTaken);
      return Status::Ok();
    }
    return a.Elements([&](const V& e) -> Status {
      std::optional<T> x;
      if constexpr (kNumbers) {
        x = ToNumber(e);
      } else {
        x = ToInteger(e);
      }
      if (!x)
        return Bad(fmt::format("{}.{}[{}] is not {}", where, key, out->size(),
                               kNumbers ? "a number" : "an integer"));
      out->push_back(*x);
      return Status::Ok();
    });
  }

  Status ReadBaseScore(const V& lmp, const ObjectiveSpec& spec, Forest* f) {
    std::vector<float> scores;
    if (std::optional<V> bs = lmp.Find("base_score")) {
      if (bs->IsString() && !bs->String().empty() && bs->String().front() == '[') {
        // 3.1+: "[v1,v2,...]"
        std::string_view s = bs->String();
        if (s.back() != ']') return Bad("base_score vector is not closed");
        std::string_view body = s.substr(1, s.size() - 2);
        while (!body.empty()) {
          size_t comma = body.find(',');
          std::string_view item = body.substr(0, comma);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          std::optional<double> d = NumberFromText(item);
          if (!d) return Bad("base_score element is not a number");
          scores.push_back(static_cast<float>(*d));
          if (comma == std::string_view::npos) break;
          body.remove_prefix(comma + 1);
        }
      } else if (bs->IsArray()) {
        FB_RETURN_IF_ERROR(bs->Elements([&](const V& e) -> Status {
          FB_ASSIGN_OR_RETURN(double d, Number(e, "base_score element"));
          scores.push_back(static_cast<float>(d));
          return Status::Ok();
        }));
      } else {
        FB_ASSIGN_OR_RETURN(double d, Number(*bs, "base_score"));
        scores.push_back(static_cast<float>(d));
      }
    } else {
      scores.push_back(0.5f);  // XGBoost's default before 2.0
    }
    if (scores.size() == 1) scores.assign(f->n_outputs, scores[0]);
    if (scores.size() != static_cast<size_t>(f->n_outputs))
      return Bad(fmt::format("base_score has {} values for {} outputs", scores.size(), f->n_outputs));
    f->base_margin.clear();
    for (float s : scores) {
      float m = s;  // float32 arithmetic, as XGBoost's ProbToMargin
      if (spec.inverse == ObjectiveSpec::kLogit) {
        if (!(s > 0.0f && s < 1.0f))
          return Bad(fmt::format("base_score {} outside (0, 1) for {}", s, spec.name));
        m = -std::log(1.0f / s - 1.0f);
      } else if (spec.inverse == ObjectiveSpec::kLog) {
        if (!(s > 0.0f)) return Bad(fmt::format("base_score {} not positive for {}", s, spec.name));
        m = std::log(s);
      }
      if (!std::isfinite(m)) return Bad("base_score is not finite");
      f->base_margin.push_back(static_cast<double>(m));
    }
    return Status::Ok();
  }

  Status ReadFeatures(const V& learner, Forest* f) {
    std::optional<V> names = learner.Find("feature_names");
    if (!names || !names->IsArray() || names->Size() == 0) return Status::Ok();
    if (names->Size() != static_cast<size_t>(f->n_features))
      return Bad(fmt::format("{} feature names for {} features", names->Size(), f->n_features));
    return names->Elements([&](const V& n) -> Status {
      if (!n.IsString()) return Bad("a feature name is not a string");
      f->feature_names.emplace_back(n.String());
      return Status::Ok();
    });
  }

  void ReadAttributes(const V& learner, Forest* f) {
    std::optional<V> attrs = learner.Find("attributes");
    if (!attrs) return;
    if (std::optional<V> best = attrs->Find("best_iteration")) {
      std::optional<int64_t> r = ToInteger(*best);
      // Only a best round inside the model means anything.
      if (r && *r >= 0 && f->trees_per_iteration > 0 &&
          static_cast<size_t>(*r) < f->trees.size() / f->trees_per_iteration) {
        f->best_iteration = static_cast<int32_t>(*r);
      }
    }
    // Saved by XGBoost's scikit-learn wrapper, whose predict() honours
    // best_iteration; Booster.predict uses every tree.
    if (std::optional<V> sk = attrs->Find("scikit_learn")) {
      f->info.wrappers = "scikit-learn wrapper";
      if (sk->IsString()) {
        if (std::optional<std::string> t = EstimatorTypeOf(sk->String()))
          f->info.wrappers = fmt::format("scikit-learn wrapper ({})", *t);
      }
      f->predict_uses_best_iteration = f->best_iteration >= 0;
    }
  }

  Status ReadBooster(const V& learner, Forest* f) {
    FB_ASSIGN_OR_RETURN(V gb, Need(learner, "gradient_booster", "learner"));
    FB_ASSIGN_OR_RETURN(V gb_name, Need(gb, "name", "gradient_booster"));
    const std::string name = gb_name.IsString() ? std::string(gb_name.String()) : "";
    std::optional<V> model;
    std::vector<double> weight_drop;
    if (name == "gbtree") {
      FB_ASSIGN_OR_RETURN(model, Need(gb, "model", "gradient_booster"));
    } else if (name == "dart") {
      FB_ASSIGN_OR_RETURN(V inner, Need(gb, "gbtree", "gradient_booster"));
      FB_ASSIGN_OR_RETURN(model, Need(inner, "model", "gradient_booster.gbtree"));
      FB_RETURN_IF_ERROR(ArrayValues(gb, "weight_drop", -1, "gradient_booster", &weight_drop));
    } else {
      return Unsupported(fmt::format("XGBoost booster \"{}\" is not supported (only gbtree and dart)", name));
    }
    f->info.estimator = "XGBoost " + name;

    FB_ASSIGN_OR_RETURN(V gmp, Need(*model, "gbtree_model_param", "model"));
    FB_ASSIGN_OR_RETURN(V nt, Need(gmp, "num_trees", "gbtree_model_param"));
    FB_ASSIGN_OR_RETURN(int64_t num_trees, Integer(nt, "num_trees"));
    int64_t num_parallel_tree = 1;
    if (std::optional<V> v = gmp.Find("num_parallel_tree")) {
      FB_ASSIGN_OR_RETURN(num_parallel_tree, Integer(*v, "num_parallel_tree"));
    }
    if (std::optional<V> v = gmp.Find("size_leaf_vector")) {
      FB_ASSIGN_OR_RETURN(int64_t slv, Integer(*v, "size_leaf_vector"));
      if (slv > 1) return UnsupportedVectorLeaf();
    }
    FB_ASSIGN_OR_RETURN(V trees, Array(*model, "trees", num_trees, "model"));
    std::vector<int64_t> tree_info;
    FB_RETURN_IF_ERROR(ArrayValues(*model, "tree_info", num_trees, "model", &tree_info));
    if (num_trees == 0) return Bad("model has no trees");
    if (!weight_drop.empty() && static_cast<int64_t>(weight_drop.size()) != num_trees)
      return Bad(fmt::format("dart weight_drop has {} weights for {} trees", weight_drop.size(), num_trees));

    // Rounds: iteration_indptr (2.0+) when present, else uniform rounds of
    // num_parallel_tree x output groups. Uneven rounds (vector-leaf models)
    // leave the forest without iteration ranges.
    if (num_parallel_tree < 1 || num_parallel_tree > num_trees) return Bad("num_parallel_tree out of range");
    int64_t per_round = num_parallel_tree * f->n_outputs;
    if (std::optional<V> ip = model->Find("iteration_indptr"); ip && ip->IsArray() && ip->Size() >= 2) {
      std::vector<int64_t> indptr;
      FB_RETURN_IF_ERROR(ArrayValues(*model, "iteration_indptr", -1, "model", &indptr));
      per_round = -1;
      int64_t prev = -1;
      for (size_t i = 0; i < indptr.size(); ++i) {
        const int64_t v = indptr[i];
        if ((i == 0 && v != 0) || (i > 0 && v <= prev) || v > num_trees)
          return Bad("iteration_indptr is malformed");
        if (i > 0) per_round = (per_round < 0 || per_round == v - prev) ? v - prev : 0;
        prev = v;
      }
      if (prev != num_trees) return Bad("iteration_indptr does not end at num_trees");
    }
    f->trees_per_iteration =
        (per_round > 0 && num_trees % per_round == 0) ? static_cast<int32_t>(per_round) : 0;

    f->trees.reserve(static_cast<size_t>(num_trees));
    int64_t t = 0;
    return trees.Elements([&](const V& jt) -> Status {
      const int64_t group = tree_info[t];
      if (group < 0 || group >= f->n_outputs)
        return Bad(fmt::format("tree {} belongs to output {} of {}", t, group, f->n_outputs));
      Tree tree;
      tree.output = static_cast<int32_t>(group);
      FB_RETURN_IF_ERROR(ReadTree(jt, t, f, &tree));
      if (!weight_drop.empty()) {
        // DART scales each tree's output by its weight at prediction time.
        for (double& v : tree.values)
          v = static_cast<double>(static_cast<float>(v) * static_cast<float>(weight_drop[t]));
      }
      f->trees.push_back(std::move(tree));
      ++t;
      return Status::Ok();
    });
  }

  static Status UnsupportedVectorLeaf() {
    return Unsupported(
        "XGBoost multi-output trees with vector leaves (multi_strategy=\"multi_output_tree\") are not "
        "supported; train with multi_strategy=\"one_output_per_tree\" (the default)");
  }

  // Reads one tree, keeping only nodes reachable from the root (pruned
  // nodes stay in XGBoost's arrays) and renumbering them in depth-first order.
  // Every element of the per-node arrays must be a number, pruned nodes'
  // included (XGBoost writes numbers throughout).
  Status ReadTree(const V& jt, int64_t t, Forest* f, Tree* out) {
    const std::string where = fmt::format("tree {}", t);
    FB_ASSIGN_OR_RETURN(V tp, Need(jt, "tree_param", where));
    FB_ASSIGN_OR_RETURN(V nn, Need(tp, "num_nodes", where + ".tree_param"));
    FB_ASSIGN_OR_RETURN(int64_t n, Integer(nn, where + ".tree_param.num_nodes"));
    if (n < 1 || n > kMaxNodes) return Bad(fmt::format("{}: num_nodes {} out of range", where, n));
    if (std::optional<V> v = tp.Find("size_leaf_vector")) {
      FB_ASSIGN_OR_RETURN(int64_t slv, Integer(*v, where + ".tree_param.size_leaf_vector"));
      if (slv > 1) return UnsupportedVectorLeaf();
    }
    FB_RETURN_IF_ERROR(ArrayValues(jt, "left_children", n, where, &left_));
    FB_RETURN_IF_ERROR(ArrayValues(jt, "right_children", n, where, &right_));
    FB_RETURN_IF_ERROR(ArrayValues(jt, "split_indices", n, where, &feature_));
    FB_RETURN_IF_ERROR(ArrayValues(jt, "split_conditions", n, where, &cond_));
    FB_RETURN_IF_ERROR(ArrayValues(jt, "default_left", n, where, &default_left_));
    const std::optional<V> stype = jt.Find("split_type");  // 1.5+
    if (stype) {
      if (!stype->IsArray() || static_cast<int64_t>(stype->Size()) != n)
        return Bad(where + ".split_type has the wrong length");
      FB_RETURN_IF_ERROR(ArrayValues(jt, "split_type", n, where, &split_type_));
    }

    // Categorical splits: node -> its list.
    std::vector<std::pair<int64_t, std::vector<int32_t>>> cats;  // sorted by node
    if (std::optional<V> cn = jt.Find("categories_nodes"); cn && cn->IsArray() && cn->Size() > 0) {
      const int64_t lists = static_cast<int64_t>(cn->Size());
      std::vector<int64_t> nodes, segments, sizes, all;
      FB_RETURN_IF_ERROR(ArrayValues(jt, "categories_nodes", lists, where, &nodes));
      FB_RETURN_IF_ERROR(ArrayValues(jt, "categories", -1, where, &all));
      FB_RETURN_IF_ERROR(ArrayValues(jt, "categories_segments", lists, where, &segments));
      FB_RETURN_IF_ERROR(ArrayValues(jt, "categories_sizes", lists, where, &sizes));
      for (size_t j = 0; j < nodes.size(); ++j) {
        const int64_t node = nodes[j], b = segments[j], s = sizes[j];
        if (node < 0 || node >= n || b < 0 || s < 0 || b + s > static_cast<int64_t>(all.size()))
          return Bad(fmt::format("{}: category list {} out of range", where, j));
        std::vector<int32_t> list;
        for (int64_t k = b; k < b + s; ++k) {
          const int64_t c = all[k];
          if (c < 0 || c >= kMaxCategory) return Bad(fmt::format("{}: category {} out of range", where, c));
          list.push_back(static_cast<int32_t>(c));
        }
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
        cats.emplace_back(node, std::move(list));
      }
      std::sort(cats.begin(), cats.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }

    new_id_.assign(static_cast<size_t>(n), -1);
    order_.clear();  // old ids in new order
    stack_.assign(1, 0);
    while (!stack_.empty()) {
      const int64_t i = stack_.back();
      stack_.pop_back();
      if (new_id_[i] >= 0) return Bad(fmt::format("{} node {} is reached twice", where, i));
      new_id_[i] = static_cast<int32_t>(order_.size());
      order_.push_back(i);
      const int64_t l = left_[i];
      if (l == -1) continue;
      const int64_t r = right_[i];
      if (l < 0 || l >= n || r < 0 || r >= n)
        return Bad(fmt::format("{} node {}: child out of range (left {}, right {})", where, i, l, r));
      stack_.push_back(r);
      stack_.push_back(l);
    }

    out->nodes.resize(order_.size());
    out->values.assign(order_.size(), 0.0);
    for (size_t k = 0; k < order_.size(); ++k) {
      const int64_t i = order_[k];
      Node& nd = out->nodes[k];
      const double c = cond_[i];
      if (left_[i] == -1) {
        if (std::isnan(c)) return Bad(fmt::format("{} node {}: leaf value is NaN", where, i));
        out->values[k] = static_cast<double>(static_cast<float>(c));
        continue;
      }
      const int64_t feature = feature_[i];
      if (feature < 0 || feature >= f->n_features)
        return Bad(
            fmt::format("{} node {}: feature {} out of range [0, {})", where, i, feature, f->n_features));
      const int64_t type = stype ? split_type_[i] : 0;
      nd.left = new_id_[left_[i]];
      nd.right = new_id_[right_[i]];
      nd.feature = static_cast<int32_t>(feature);
      nd.default_left = default_left_[i] != 0.0;
      if (type == 1) {
        auto it = std::lower_bound(cats.begin(), cats.end(), i,
                                   [](const auto& a, int64_t v) { return a.first < v; });
        nd.categorical = true;
        nd.cat_begin = static_cast<uint32_t>(f->categories.size());
        if (it != cats.end() && it->first == i) {
          if (f->categories.size() + it->second.size() > std::numeric_limits<uint32_t>::max())
            return Bad("too many categories");
          nd.cat_count = static_cast<uint32_t>(it->second.size());
          f->categories.insert(f->categories.end(), it->second.begin(), it->second.end());
        }
      } else if (type == 0) {
        // x < c  <=>  x <= nextafter(c, -inf) for every float32 x.
        const float cf = static_cast<float>(c);
        if (std::isnan(cf)) return Bad(fmt::format("{} node {}: split condition is NaN", where, i));
        nd.threshold = std::nextafter(cf, -std::numeric_limits<float>::infinity());
      } else {
        return Bad(fmt::format("{} node {}: unknown split_type {}", where, i, type));
      }
    }
    return Status::Ok();
  }

  std::string format_;
  // One tree's arrays, reused from tree to tree.
  std::vector<int64_t> left_, right_, feature_, split_type_, order_, stack_;
  std::vector<double> cond_, default_left_;
  std::vector<int32_t> new_id_;
};

// XGBoost writes NaN and +-Infinity as bare tokens, which strict JSON (and
// simdjson) rejects: quote them outside strings so they parse as strings
// that Converter::ToNumber understands.
std::string QuoteNonFiniteTokens(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 64);
  bool in_string = false;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < in.size()) {
        out += in[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (in.compare(i, 3, "NaN") == 0) {
      out += "\"NaN\"";
      i += 2;
      continue;
    } else if (in.compare(i, 8, "Infinity") == 0) {
      out += "\"Infinity\"";
      i += 7;
      continue;
    } else if (in.compare(i, 9, "-Infinity") == 0) {
      out += "\"-Infinity\"";
      i += 8;
      continue;
    }
    out += c;
  }
  return out;
}

// simdjson says what is wrong with a text but not where: nlohmann's SAX
// parser, which builds nothing (and stops at the nesting limit), finds the
// place, as " at line L, column C: ..." (empty if it finds nothing wrong).
class ErrorLocator : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth_ <= kUbjsonMaxDepth; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return --depth_ >= 0; }
  bool start_array(std::size_t) override { return ++depth_ <= kUbjsonMaxDepth; }
  bool end_array() override { return --depth_ >= 0; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 13: syntax error ..."
    std::string_view what = e.what();
    if (size_t p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
    message_ = fmt::format(" ({})", what);
    return false;
  }
  static std::string Locate(std::string_view text) {
    ErrorLocator l;
    json::sax_parse(text, &l, json::input_format_t::json, /*strict=*/true);
    if (l.depth_ > kUbjsonMaxDepth) return fmt::format(" (nesting deeper than {})", kUbjsonMaxDepth);
    return l.message_;
  }

 private:
  int depth_ = 0;
  std::string message_;
};

// The parser's structural index (4 bytes a token) and its document's tape
// (8 or 16 bytes a value), several times the text, are written once, front
// to back: on fresh 4 KiB pages each page costs a fault (about 0.8 ms a MB
// on the Zen 5 virtual machine), on 2 MiB pages far less. simdjson
// allocates them itself (the tape at the first parse), so this allocates
// the document for `capacity` bytes first (what parse would allocate) and
// reaches both buffers through the members its header declares (documented
// as private: a simdjson without them leaves this a no-op). `capacity`:
// what parser.allocate was given, each buffer's lower bound in elements.
template <class Parser>
void AdviseHugePagesForParser(Parser& parser, size_t capacity) {
  if constexpr (requires(Parser & p) {
                  { p.doc.allocate(capacity) } -> std::same_as<simdjson::error_code>;
                  { p.doc.tape.get() } -> std::convertible_to<const uint64_t*>;
                  { p.implementation->structural_indexes.get() } -> std::convertible_to<const uint32_t*>;
                }) {
    if (parser.implementation)
      AdviseHugePages(parser.implementation->structural_indexes.get(), capacity * sizeof(uint32_t));
    // On failure the parse allocates (and reports) as it would have.
    if (parser.doc.allocate(capacity) == simdjson::SUCCESS)
      AdviseHugePages(parser.doc.tape.get(), capacity * sizeof(uint64_t));
  }
}

// Parses JSON text, with XGBoost's bare NaN/Infinity, into parser's document.
// `what` begins the messages ("XGBoost model"). `readable_padding`: readable
// bytes after `bytes` (LoadXgboostJson).
Result<simdjson::dom::element> ParseJsonText(std::string_view bytes, simdjson::dom::parser& parser,
                                             std::string_view what, size_t readable_padding = 0) {
  std::string quoted;
  std::string_view text = bytes;
  // simdjson reads up to SIMDJSON_PADDING bytes past the text; unless they
  // are there to read, it parses a padded copy (2.4 MB copied and first
  // touched for a 2.4 MB model).
  bool padded = readable_padding >= simdjson::SIMDJSON_PADDING;
  // The copy is needed only where the tokens occur (anywhere: a false alarm
  // costs the copy, nothing else).
  if (bytes.find("NaN") != std::string_view::npos || bytes.find("Infinity") != std::string_view::npos) {
    quoted = QuoteNonFiniteTokens(bytes);
    const size_t n = quoted.size();
    quoted.append(simdjson::SIMDJSON_PADDING, ' ');  // after the text: read, never parsed
    text = std::string_view(quoted.data(), n);
    padded = true;
  }
  // Nesting is bounded as in UBJSON; memory is a fixed multiple of the size.
  simdjson::error_code err = parser.allocate(std::max<size_t>(text.size(), 64), kUbjsonMaxDepth);
  if (err != simdjson::SUCCESS)
    return InvalidData(fmt::format("{}: cannot parse {} bytes of JSON: {}", what, text.size(),
                                   simdjson::error_message(err)));
  AdviseHugePagesForParser(parser, std::max<size_t>(text.size(), 64));
  simdjson::dom::element root;
  err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/!padded).get(root);
  if (err == simdjson::DEPTH_ERROR)
    return InvalidData(fmt::format("{}: JSON nesting deeper than {}", what, kUbjsonMaxDepth));
  if (err != simdjson::SUCCESS)
    return InvalidData(fmt::format("{}: not valid JSON: {}{}", what, simdjson::error_message(err),
                                   ErrorLocator::Locate(text)));
  return root;
}

// The "_estimator_type" of the scikit-learn wrapper's metadata (itself JSON
// text), if it says.
std::optional<std::string> EstimatorTypeOf(std::string_view meta_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view type;
  if (parser.parse(meta_json.data(), meta_json.size()).get(root) != simdjson::SUCCESS ||
      root["_estimator_type"].get(type) != simdjson::SUCCESS)
    return std::nullopt;
  return std::string(type);
}

// A model as a LazyDoc reads it, when it reads it and the conversion
// succeeds: else nullopt, and the model is read in full (which reports
// what is wrong, if anything, as it always did).
// `snapshot`: a booster's memory snapshot, {"Model": <model>, "Config": ...}
// (its "Model" if it has one, else itself, as LoadXgboostBoosterBuffer reads it).
std::optional<Forest> LoadLazily(std::string_view bytes, bool ubjson, bool snapshot = false) {
  LazyDoc doc;
  if (!(ubjson ? doc.ReadUbjson(bytes) : doc.ReadJson(bytes))) return std::nullopt;
  const LazyDoc::Node* model = snapshot ? doc.Find(doc.root(), "Model") : nullptr;
  Result<Forest> r = Converter<LazyView>(ubjson ? "xgboost-ubjson" : "xgboost-json")
                         .Convert(LazyView(&doc, model ? *model : doc.root()));
  if (!r.ok() || !doc.CheckUnread()) return std::nullopt;
  return std::move(r).value();
}

}  // namespace

namespace internal {

Result<Forest> LoadXgboostJsonInFull(std::string_view bytes, size_t readable_padding) {
  simdjson::dom::parser parser;
  FB_ASSIGN_OR_RETURN(simdjson::dom::element doc,
                      ParseJsonText(bytes, parser, "XGBoost model", readable_padding));
  return Converter<SimdjsonView>("xgboost-json").Convert(SimdjsonView(doc));
}

Result<Forest> LoadXgboostUbjsonInFull(std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(json doc, ParseUbjson(bytes));
  return Converter<NlohmannView>("xgboost-ubjson").Convert(NlohmannView(doc));
}

std::optional<Forest> LoadXgboostLazily(std::string_view bytes, bool ubjson, bool snapshot) {
  return LoadLazily(bytes, ubjson, snapshot);
}

}  // namespace internal

Result<Forest> LoadXgboostJson(std::string_view bytes, size_t readable_padding) {
  if (std::optional<Forest> f = LoadLazily(bytes, /*ubjson=*/false)) return std::move(*f);
  return internal::LoadXgboostJsonInFull(bytes, readable_padding);
}

Result<Forest> LoadXgboostUbjson(std::string_view bytes) {
  if (std::optional<Forest> f = LoadLazily(bytes, /*ubjson=*/true)) return std::move(*f);
  return internal::LoadXgboostUbjsonInFull(bytes);
}

Result<Forest> LoadXgboostLegacyBinary(std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(json doc, XgboostLegacyBinaryToJson(bytes, nullptr));
  return Converter<NlohmannView>("xgboost-binary").Convert(NlohmannView(doc));
}

Result<Forest> LoadXgboostBoosterBuffer(std::string_view raw) {
  // A memory snapshot (JSON or UBJSON) as LoadXgboostJson / LoadXgboostUbjson
  // read a model: the one-pass reader first, the full parse if it does not take it.
  if (raw.size() >= 2 && raw[0] == '{') {
    const bool text = raw[1] == '"' || raw[1] == ' ' || raw[1] == '\n';
    if (std::optional<Forest> f = LoadLazily(raw, /*ubjson=*/!text, /*snapshot=*/true)) return std::move(*f);
  }
  return internal::LoadXgboostBoosterBufferInFull(raw);
}

namespace internal {

Result<Forest> LoadXgboostBoosterBufferInFull(std::string_view raw) {
  constexpr std::string_view kConfigHeader = "CONFIG-offset:";
  if (raw.substr(0, kConfigHeader.size()) == kConfigHeader) {
    // 1.0 to 1.2: header, int64 length of the legacy binary model, the
    // model, then the JSON configuration (read into nlohmann::json, which
    // the legacy reader takes: a few kilobytes).
    const size_t start = kConfigHeader.size() + 8;
    if (raw.size() < start) return InvalidData("XGBoost booster buffer: truncated CONFIG-offset header");
    int64_t length;
    std::memcpy(&length, raw.data() + kConfigHeader.size(), 8);
    if (length < 0 || static_cast<uint64_t>(length) > raw.size() - start)
      return InvalidData(
          fmt::format("XGBoost booster buffer: model length {} exceeds the {} bytes that follow", length,
                      raw.size() - start));
    const std::string_view config_text = raw.substr(start + static_cast<size_t>(length));
    const std::string text = QuoteNonFiniteTokens(config_text);
    if (std::string where = ErrorLocator::Locate(text); !where.empty())  // also bounds the nesting
      return InvalidData("XGBoost booster buffer: the configuration is not valid JSON" + where);
    json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded())
      return InvalidData("XGBoost booster buffer: the configuration is not valid JSON");
    FB_ASSIGN_OR_RETURN(json doc,
                        XgboostLegacyBinaryToJson(raw.substr(start, static_cast<size_t>(length)), &config));
    return Converter<NlohmannView>("xgboost-binary").Convert(NlohmannView(doc));
  }
  if (raw.size() >= 2 && raw[0] == '{') {
    // 1.3 to 1.5: JSON memory snapshot {"Model": ..., "Config": ...}; 1.6
    // on: the same in UBJSON (Learner::Save).
    const bool text = raw[1] == '"' || raw[1] == ' ' || raw[1] == '\n';
    if (text) {
      simdjson::dom::parser parser;
      FB_ASSIGN_OR_RETURN(simdjson::dom::element snapshot,
                          ParseJsonText(raw, parser, "XGBoost booster buffer"));
      const SimdjsonView view(snapshot);
      const std::optional<SimdjsonView> model = view.Find("Model");
      return Converter<SimdjsonView>("xgboost-json").Convert(model ? *model : view);
    }
    FB_ASSIGN_OR_RETURN(json snapshot, ParseUbjson(raw));
    const NlohmannView view(snapshot);
    const std::optional<NlohmannView> model = view.Find("Model");
    return Converter<NlohmannView>("xgboost-ubjson").Convert(model ? *model : view);
  }
  if (LooksLikeXgboostLegacyBinary(raw)) return LoadXgboostLegacyBinary(raw);
  return InvalidData(
      "XGBoost booster buffer: neither a memory snapshot (JSON or UBJSON), a CONFIG-offset buffer nor a "
      "legacy binary model");
}

}  // namespace internal

}  // namespace fb
