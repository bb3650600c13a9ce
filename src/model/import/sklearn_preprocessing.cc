// Compiling scikit-learn transformers into a Preprocessing program. Every
// formula below is scikit-learn 1.2's transform, operation for operation
// (sklearn/preprocessing/_data.py, _encoders.py, impute/_base.py,
// compose/_column_transformer.py); the fitted attributes it reads are those
// the estimators pickle (0.22 to 1.2 layouts: attributes added later are
// optional, with the older behaviour when absent).
#include "model/import/sklearn_preprocessing.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/format.h"
#include "model/import/pickle_numpy.h"

namespace fb::sklearn {

const char* const kSupportedTransformers =
    "Pipeline, ColumnTransformer, OneHotEncoder, OrdinalEncoder, SimpleImputer, StandardScaler, "
    "MinMaxScaler, MaxAbsScaler, RobustScaler, 'passthrough', 'drop'";

namespace {

// The columns flowing from one step to the next. A slot >= 0 is a program
// slot; a negative one, -(c + 1), is raw input column c whose kind (number
// or text) is decided by the first step that reads it.
struct Matrix {
  std::vector<int32_t> slots;
  std::vector<std::string> names;  // column names where known (the raw input's), else empty
  bool sparse = false;             // a scipy sparse matrix (changes how scalers divide)
};

// One category list read from categories_[i].
struct Categories {
  bool text = false;
  std::vector<std::string> texts;
  std::vector<double> numbers;
  std::vector<uint8_t> is_missing;  // NaN
  std::vector<uint8_t> is_none;     // None: a category no CSV value can be
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

constexpr std::string_view kFunctionTransformer =
    "sklearn.preprocessing._function_transformer.FunctionTransformer";
constexpr std::string_view kCheckArray = "sklearn.utils.validation.check_array";

class Compiler {
 public:
  explicit Compiler(const Reader& r) : r_(r) { p_ = std::make_shared<Preprocessing>(); }

  const Reader& r_;
  std::shared_ptr<Preprocessing> p_;
  std::vector<std::string> raw_names_;
  std::vector<int32_t> raw_slot_;

  Status InitInputs(ValueId first, const std::string& path) {
    // The raw input is what the first step was fitted on: its
    // feature_names_in_ (a DataFrame) or n_features_in_ columns.
    ValueId step = first;
    for (int depth = 0; depth < 16 && r_.ClassName(step) == "Pipeline"; ++depth) {
      FB_ASSIGN_OR_RETURN(auto steps, PipelineSteps(step, path));
      if (steps.empty()) return Unsupported("a Pipeline in the preprocessing has no steps");
      step = steps[0].transformer;
    }
    ValueId names = r_.Attr(step, "feature_names_in_");
    if (names != kNoValue) {
      FB_ASSIGN_OR_RETURN(raw_names_, StringList(names, "feature_names_in_"));
    } else {
      ValueId nf = r_.Attr(step, "n_features_in_");
      if (nf == kNoValue)
        return Unsupported(
            fmt::format("the first preprocessing step ({}) records no input columns "
                        "(n_features_in_: scikit-learn older than 0.24?)",
                        r_.ClassName(step)));
      FB_ASSIGN_OR_RETURN(int64_t n, pickle::AsInt(r_.g_, nf, "n_features_in_"));
      if (n <= 0 || n > (1 << 20)) return InvalidData("n_features_in_ out of range");
      p_->n_positions = static_cast<int32_t>(n);
    }
    p_->by_name = !raw_names_.empty();
    if (p_->by_name) p_->n_positions = static_cast<int32_t>(raw_names_.size());
    raw_slot_.assign(p_->n_positions, -1);
    return Status::Ok();
  }

  Matrix RawMatrix() const {
    Matrix m;
    for (int32_t c = 0; c < p_->n_positions; ++c) m.slots.push_back(-(c + 1));
    m.names = raw_names_;
    return m;
  }

  int32_t NewSlots(int32_t n, bool text) {
    const int32_t first = p_->n_slots();
    p_->slot_text.insert(p_->slot_text.end(), n, text ? 1 : 0);
    return first;
  }

  std::string RawLabel(int32_t c) const {
    return p_->by_name ? Quote(raw_names_[c]) : "column " + std::to_string(c + 1);
  }

  // The program slot of a matrix column, read as text or as a number.
  Result<int32_t> Resolve(int32_t s, bool text, const std::string& path) {
    if (s >= 0) {
      if (static_cast<bool>(p_->slot_text[s]) != text)
        return Unsupported(fmt::format("step '{}' reads {} where the previous step gives {}", path,
                                       text ? "text" : "numbers", text ? "numbers" : "text"));
      return s;
    }
    const int32_t c = -s - 1;
    if (raw_slot_[c] < 0) {
      raw_slot_[c] = NewSlots(1, text);
      PrepInput in;
      in.name = p_->by_name ? raw_names_[c] : std::string();
      in.position = c;
      in.slot = raw_slot_[c];
      in.text = text;
      p_->inputs.push_back(std::move(in));
    } else if (static_cast<bool>(p_->slot_text[raw_slot_[c]]) != text) {
      return Unsupported(
          fmt::format("input {} is read both as text and as numbers (step '{}')", RawLabel(c), path));
    }
    return raw_slot_[c];
  }

  Result<std::vector<std::string>> StringList(ValueId v, const std::string& what) {
    std::vector<std::string> out;
    if (r_.V(v).kind == Kind::kList || r_.V(v).kind == Kind::kTuple) {
      for (ValueId it : r_.V(v).items) {
        if (r_.V(it).kind != Kind::kStr) return InvalidData(what + " holds a non-string");
        out.emplace_back(r_.V(it).text);
      }
      return out;
    }
    FB_ASSIGN_OR_RETURN(Categories c, ReadCategories(v, what));
    if (!c.text || std::count(c.is_missing.begin(), c.is_missing.end(), 1) ||
        std::count(c.is_none.begin(), c.is_none.end(), 1))
      return InvalidData(what + " is not an array of strings");
    return c.texts;
  }

  Result<Categories> ReadCategories(ValueId v, const std::string& what) {
    FB_ASSIGN_OR_RETURN(auto view, r_.Array(v, what));
    if (view.a->shape.size() != 1) return InvalidData(what + " is not one-dimensional");
    if (view.count > (uint64_t{1} << 24)) return InvalidData(what + " is too long");
    Categories c;
    const Value& dt = *view.dt;
    const uint64_t n = view.count;
    c.is_missing.assign(n, 0);
    c.is_none.assign(n, 0);
    if (dt.dtype_kind == 'O') {
      if (view.a->items.size() != n) return InvalidData(what + ": object array of the wrong size");
      int texts = 0, numbers = 0;
      c.texts.resize(n);
      c.numbers.resize(n);
      for (uint64_t k = 0; k < n; ++k) {
        const Value& item = r_.V(view.a->items[k]);
        switch (item.kind) {
          case Kind::kStr:
            c.texts[k] = item.text;
            ++texts;
            break;
          case Kind::kFloat:
            c.numbers[k] = item.f;
            if (std::isnan(item.f)) {
              c.is_missing[k] = 1;
            } else {
              ++numbers;
            }
            break;
          case Kind::kInt:
          case Kind::kBool:
            c.numbers[k] = static_cast<double>(item.i);
            ++numbers;
            break;
          case Kind::kNone: c.is_none[k] = 1; break;
          default:
            // scikit-learn's encoders hold strings and numbers only.
            return InvalidData(
                fmt::format("{} holds a {}, not a string or a number", what, pickle::KindName(item.kind)));
        }
      }
      // scikit-learn refuses to fit on mixed strings and numbers.
      if (texts && numbers) return InvalidData(what + " mixes strings and numbers");
      c.text = numbers == 0;
      return c;
    }
    if (dt.dtype_kind == 'U' || dt.dtype_kind == 'S') {
      c.text = true;
      const auto size = static_cast<uint64_t>(dt.i);
      if (size == 0 || view.a->bytes().size() < n * size) return InvalidData(what + " is truncated");
      for (uint64_t k = 0; k < n; ++k) {
        const char* p = view.a->bytes().data() + k * size;
        std::string s;
        if (dt.dtype_kind == 'S') {
          s.assign(p, strnlen(p, size));
        } else {
          for (uint64_t b = 0; b + 4 <= size; b += 4) {
            uint32_t cp = 0;
            for (uint64_t j = 0; j < 4; ++j)
              cp |= uint32_t{static_cast<unsigned char>(p[b + (dt.little_endian ? j : 3 - j)])} << (8 * j);
            if (cp == 0) break;
            if (cp >= 0x110000 || (cp >= 0xD800 && cp < 0xE000))
              return InvalidData(what + " holds an invalid character");
            if (cp < 0x80) {
              s.push_back(static_cast<char>(cp));
            } else if (cp < 0x800) {
              s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
              s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
              s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
              s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
              s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else {
              s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
              s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
              s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
              s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            }
          }
        }
        c.texts.push_back(std::move(s));
      }
      return c;
    }
    FB_ASSIGN_OR_RETURN(c.numbers, Doubles(r_, v, what));
    for (uint64_t k = 0; k < n; ++k) c.is_missing[k] = std::isnan(c.numbers[k]);
    return c;
  }

  // categories_[i] as a lookup table; returns its index in p_->tables.
  Result<int32_t> Table(const Categories& c, const std::string& what) {
    PrepCategories t;
    t.text = c.text;
    t.size = static_cast<int32_t>(c.is_missing.size());
    for (int32_t k = 0; k < t.size; ++k) {
      if (c.is_none[k]) continue;
      if (c.is_missing[k]) {
        if (t.missing < 0) t.missing = k;
        continue;
      }
      // np.searchsorted finds the first of equal categories; fitted ones are unique.
      if (c.text) {
        t.by_text.emplace(c.texts[k], k);
      } else {
        t.by_number.emplace(c.numbers[k] == 0.0 ? 0.0 : c.numbers[k], k);
      }
    }
    (void)what;
    p_->tables.push_back(std::move(t));
    return static_cast<int32_t>(p_->tables.size() - 1);
  }

  Result<std::vector<PipelineStep>> PipelineSteps(ValueId pipe, const std::string& path) {
    FB_ASSIGN_OR_RETURN(ValueId steps, r_.Need(pipe, "steps"));
    if (r_.V(steps).kind != Kind::kList || r_.V(steps).items.empty())
      return InvalidData("Pipeline.steps is not a non-empty list");
    std::vector<PipelineStep> out;
    for (ValueId it : r_.V(steps).items) {
      const Value& step = r_.V(it);
      if ((step.kind != Kind::kTuple && step.kind != Kind::kList) || step.items.size() != 2)
        return InvalidData("Pipeline step is not a (name, estimator) pair");
      ValueId obj = step.items[1];
      if (r_.V(obj).kind == Kind::kNone || pickle::IsStr(r_.g_, obj, "passthrough")) continue;
      std::string name = r_.Str(step.items[0]);
      out.push_back({path.empty() ? name : path + " > " + name, obj});
    }
    return out;
  }

  Result<std::vector<double>> Row(ValueId obj, const char* attr, size_t n, const std::string& path) {
    FB_ASSIGN_OR_RETURN(ValueId v, r_.Need(obj, attr));
    std::vector<double> out;
    if (r_.V(v).kind == Kind::kFloat || r_.V(v).kind == Kind::kInt) {
      out.assign(n, r_.V(v).kind == Kind::kFloat ? r_.V(v).f : static_cast<double>(r_.V(v).i));
      return out;
    }
    FB_ASSIGN_OR_RETURN(out, Doubles(r_, v, path + "." + attr));
    if (out.size() != n)
      return InvalidData(
          fmt::format("step '{}': {} has {} values for {} columns", path, attr, out.size(), n));
    return out;
  }

  bool Flag(ValueId obj, const char* attr, bool dflt) const {
    ValueId v = r_.Attr(obj, attr);
    if (v == kNoValue) return dflt;
    const Value& x = r_.V(v);
    if (x.kind == Kind::kBool || x.kind == Kind::kInt) return x.i != 0;
    return dflt;
  }

  Status CheckWidth(ValueId obj, const Matrix& in, const std::string& path) {
    ValueId nf = r_.Attr(obj, "n_features_in_");
    if (nf == kNoValue) return Status::Ok();
    FB_ASSIGN_OR_RETURN(int64_t n, pickle::AsInt(r_.g_, nf, "n_features_in_"));
    if (n != static_cast<int64_t>(in.slots.size()))
      return InvalidData(fmt::format("step '{}' ({}) was fitted on {} columns but receives {}", path,
                                     r_.ClassName(obj), n, in.slots.size()));
    return Status::Ok();
  }

  std::string Describe(const Matrix& in) const {
    if (in.names.empty()) return fmt::format("{} columns", in.slots.size());
    std::string s;
    for (size_t i = 0; i < in.names.size() && i < 8; ++i) s += (i ? ", " : "") + in.names[i];
    if (in.names.size() > 8) s += fmt::format(", ... ({} in all)", in.names.size());
    return s;
  }

  // "column 'x' (StandardScaler 'num > scale', column 2)", for errors.
  std::string ColumnWhat(const Matrix& in, size_t i, const std::string& cls, const std::string& path) const {
    return fmt::format(
        "{} ({} '{}', column {})",
        in.names.empty() ? fmt::format("input column {}", i + 1) : "column " + Quote(in.names[i]), cls, path,
        i);
  }

  void Note(const std::string& path, const std::string& what, const Matrix& in, size_t n_out) {
    p_->steps.push_back(fmt::format("{}: {} on {} -> {} features", path, what, Describe(in), n_out));
  }

  Status DtypeIsFloat64(ValueId obj, const std::string& path) {
    ValueId dt = r_.Attr(obj, "dtype");
    if (dt == kNoValue) return Status::Ok();
    const Value& v = r_.V(dt);
    if (v.kind == Kind::kGlobal &&
        (v.text == "numpy.float64" || v.text == "numpy.double" || v.text == "builtins.float"))
      return Status::Ok();
    if (v.kind == Kind::kDtype && v.dtype_kind == 'f' && v.i == 8) return Status::Ok();
    return Unsupported(
        fmt::format("step '{}' ({}) has a dtype other than float64: not supported", path, r_.ClassName(obj)));
  }

  // The one FunctionTransformer supported: what HistGradientBoosting* (1.4+)
  // puts on the numerical columns of its _preprocessor,
  // FunctionTransformer(functools.partial(sklearn.utils.validation.check_array,
  // dtype=[float64], force_all_finite=False)) with validate=False, no kw_args.
  // On a float64 column that is the identity (no copy, NaN and +-inf kept).
  // The partial is recorded as data: REDUCE(functools.partial, (func,)) then
  // BUILD (func, args, keywords, dict). Anything else is refused naming what
  // it calls.
  Status CheckArrayOnly(ValueId t, const std::string& path) {
    auto refuse = [&](const std::string& why) {
      return Unsupported(fmt::format(
          "preprocessing step '{}' is FunctionTransformer ({}): not supported; the only "
          "FunctionTransformer read is HistGradientBoosting's functools.partial({}, dtype=float64, "
          "force_all_finite=False); supported steps: {}",
          path, why, kCheckArray, kSupportedTransformers));
    };
    ValueId fn = r_.Attr(t, "func");
    if (fn == kNoValue || r_.V(fn).kind == Kind::kNone) return refuse("no func");
    const Value& f = r_.V(fn);
    if (f.kind == Kind::kGlobal) return refuse("func " + std::string(f.text));
    if (f.kind != Kind::kObject) return refuse(std::string("func is a ") + pickle::KindName(f.kind));
    const std::string fcls = r_.FullClassName(fn);
    if (fcls != "functools.partial") return refuse("func " + fcls);
    // REDUCE args (func,) and the BUILD state (func, args, keywords, dict).
    auto global_text = [&](ValueId v) {
      return v != kNoValue && r_.V(v).kind == Kind::kGlobal ? std::string(r_.V(v).text)
                                                            : std::string("not a function");
    };
    if (f.args == kNoValue || r_.V(f.args).items.size() != 1)
      return refuse("a functools.partial without its function");
    const std::string called = global_text(r_.V(f.args).items[0]);
    if (called != kCheckArray) return refuse("functools.partial of " + called);
    if (f.state == kNoValue || r_.V(f.state).kind != Kind::kTuple || r_.V(f.state).items.size() != 4)
      return refuse("a functools.partial whose state is not (func, args, keywords, dict)");
    const auto& st = r_.V(f.state).items;
    if (global_text(st[0]) != kCheckArray) return refuse("functools.partial of " + global_text(st[0]));
    if (r_.V(st[1]).kind != Kind::kTuple || !r_.V(st[1]).items.empty())
      return refuse("functools.partial with positional arguments");
    if (r_.V(st[3]).kind != Kind::kNone && !(r_.V(st[3]).kind == Kind::kDict && r_.V(st[3]).items.empty()))
      return refuse("functools.partial with a __dict__");
    // keywords: dtype float64 (or [float64]) and force_all_finite /
    // ensure_all_finite False; nothing else.
    if (r_.V(st[2]).kind != Kind::kDict) return refuse("functools.partial keywords that are not a dict");
    const auto& kw = r_.V(st[2]).items;
    bool finite_off = false;
    for (size_t k = 0; k + 1 < kw.size(); k += 2) {
      const std::string key = r_.Str(kw[k]);
      const Value& val = r_.V(kw[k + 1]);
      if (key == "dtype") {
        ValueId d = kw[k + 1];
        if ((val.kind == Kind::kList || val.kind == Kind::kTuple) && val.items.size() == 1) d = val.items[0];
        const Value& dv = r_.V(d);
        const bool f64 =
            (dv.kind == Kind::kGlobal && (dv.text == "numpy.float64" || dv.text == "builtins.float")) ||
            (dv.kind == Kind::kDtype && dv.dtype_kind == 'f' && dv.i == 8);
        if (!f64) return refuse("check_array with a dtype other than float64");
      } else if (key == "force_all_finite" || key == "ensure_all_finite") {
        if (val.kind != Kind::kBool || val.i != 0) return refuse("check_array that refuses NaN or inf");
        finite_off = true;
      } else {
        return refuse(fmt::format("check_array with the argument '{}'", key));
      }
    }
    if (!finite_off) return refuse("check_array that refuses NaN and inf");
    if (ValueId v = r_.Attr(t, "kw_args"); v != kNoValue && r_.V(v).kind != Kind::kNone)
      return refuse("kw_args");
    if (Flag(t, "validate", false)) return refuse("validate=True");
    if (Flag(t, "accept_sparse", false)) return refuse("accept_sparse=True");
    return Status::Ok();
  }

  Result<Matrix> Apply(ValueId t, const std::string& path, Matrix in) {
    const Value& v = r_.V(t);
    if (v.kind == Kind::kNone || pickle::IsStr(r_.g_, t, "passthrough")) return in;
    if (pickle::IsStr(r_.g_, t, "drop")) return Matrix{};
    const std::string cls = r_.ClassName(t);
    if (v.kind == Kind::kObject) {
      if (cls == "Pipeline") return ApplyPipeline(t, path, std::move(in));
      if (cls == "ColumnTransformer") return ApplyColumnTransformer(t, path, std::move(in));
      FB_RETURN_IF_ERROR(CheckWidth(t, in, path));
      if (cls == "StandardScaler" || cls == "MaxAbsScaler" || cls == "RobustScaler" || cls == "MinMaxScaler")
        return ApplyScaler(t, cls, path, std::move(in));
      if (cls == "SimpleImputer") return ApplyImputer(t, path, std::move(in));
      if (cls == "OneHotEncoder" || cls == "OrdinalEncoder") return ApplyEncoder(t, cls, path, std::move(in));
      if (r_.FullClassName(t) == kFunctionTransformer) {
        FB_RETURN_IF_ERROR(CheckArrayOnly(t, path));
        Note(path, "FunctionTransformer(check_array: float64, NaN and inf kept) = identity", in,
             in.slots.size());
        return in;
      }
    }
    std::string full = r_.FullClassName(t);
    return Unsupported(fmt::format("preprocessing step '{}' is {}{}: not supported; supported steps: {}",
                                   path, cls, full.empty() ? "" : " (" + full + ")", kSupportedTransformers));
  }

  Result<Matrix> ApplyPipeline(ValueId pipe, const std::string& path, Matrix in) {
    FB_ASSIGN_OR_RETURN(auto steps, PipelineSteps(pipe, path));
    for (const PipelineStep& s : steps) {
      FB_ASSIGN_OR_RETURN(in, Apply(s.transformer, s.name, std::move(in)));
    }
    return in;
  }

  // Column indices selected by a ColumnTransformer entry's `columns`.
  Result<std::vector<int32_t>> Select(ValueId cols, const std::vector<std::string>& names, int32_t n,
                                      const std::string& path) {
    std::vector<int32_t> out;
    auto by_name = [&](std::string_view name) -> Result<int32_t> {
      if (names.empty())
        return Unsupported(fmt::format(
            "step '{}' selects column '{}' by name but its input has no column names", path, name));
      for (int32_t c = 0; c < n; ++c)
        if (names[c] == name) return c;
      return InvalidData(
          fmt::format("step '{}' selects column '{}', which its input does not have", path, name));
    };
    auto by_index = [&](int64_t i) -> Result<int32_t> {
      if (i < 0) i += n;
      if (i < 0 || i >= n) return InvalidData(fmt::format("step '{}' selects column {} of {}", path, i, n));
      return static_cast<int32_t>(i);
    };
    const Value& v = r_.V(cols);
    if (v.kind == Kind::kStr || v.kind == Kind::kInt)
      return Unsupported(fmt::format(
          "step '{}' selects a single column as a 1-D array: not supported (select a list)", path));
    if (v.kind == Kind::kList || v.kind == Kind::kTuple) {
      bool all_bool = !v.items.empty();
      for (ValueId it : v.items) all_bool = all_bool && r_.V(it).kind == Kind::kBool;
      if (all_bool) {
        if (static_cast<int32_t>(v.items.size()) != n)
          return InvalidData(fmt::format("step '{}' selects columns by a boolean mask of {} for {} columns",
                                         path, v.items.size(), n));
        for (int32_t c = 0; c < n; ++c)
          if (r_.V(v.items[c]).i) out.push_back(c);
        return out;
      }
      for (ValueId it : v.items) {
        const Value& x = r_.V(it);
        if (x.kind == Kind::kStr) {
          FB_ASSIGN_OR_RETURN(int32_t c, by_name(x.text));
          out.push_back(c);
        } else if (x.kind == Kind::kInt) {
          FB_ASSIGN_OR_RETURN(int32_t c, by_index(x.i));
          out.push_back(c);
        } else {
          return InvalidData(
              fmt::format("step '{}' selects columns by a {}", path, pickle::KindName(x.kind)));
        }
      }
      return out;
    }
    if (v.kind == Kind::kArray) {
      FB_ASSIGN_OR_RETURN(auto view, r_.Array(cols, path + " columns"));
      if (view.dt->dtype_kind == 'b') {
        FB_ASSIGN_OR_RETURN(std::vector<double> mask, Doubles(r_, cols, path + " columns"));
        if (static_cast<int32_t>(mask.size()) != n)
          return InvalidData(fmt::format("step '{}' selects columns by a boolean mask of {} for {} columns",
                                         path, mask.size(), n));
        for (int32_t c = 0; c < n; ++c)
          if (mask[c] != 0) out.push_back(c);
        return out;
      }
      if (view.dt->dtype_kind == 'i' || view.dt->dtype_kind == 'u') {
        FB_ASSIGN_OR_RETURN(std::vector<int64_t> idx, Ints(r_, cols, path + " columns"));
        for (int64_t i : idx) {
          FB_ASSIGN_OR_RETURN(int32_t c, by_index(i));
          out.push_back(c);
        }
        return out;
      }
      FB_ASSIGN_OR_RETURN(std::vector<std::string> list, StringList(cols, path + " columns"));
      for (const std::string& s : list) {
        FB_ASSIGN_OR_RETURN(int32_t c, by_name(s));
        out.push_back(c);
      }
      return out;
    }
    if (v.kind == Kind::kObject && r_.FullClassName(cols) == "builtins.slice" && v.args != kNoValue &&
        r_.V(v.args).items.size() == 3) {
      const auto& a = r_.V(v.args).items;
      const Value &start = r_.V(a[0]), &stop = r_.V(a[1]), &step = r_.V(a[2]);
      if (start.kind == Kind::kStr || stop.kind == Kind::kStr) {
        // A label slice (DataFrame.loc): both ends included.
        if (step.kind != Kind::kNone) return Unsupported("a column slice by names with a step");
        int32_t b = 0, e = n - 1;
        if (start.kind == Kind::kStr) {
          FB_ASSIGN_OR_RETURN(b, by_name(start.text));
        }
        if (stop.kind == Kind::kStr) {
          FB_ASSIGN_OR_RETURN(e, by_name(stop.text));
        }
        for (int32_t c = b; c <= e; ++c) out.push_back(c);
        return out;
      }
      auto part = [&](const Value& x, int64_t dflt) -> Result<int64_t> {
        if (x.kind == Kind::kNone) return dflt;
        if (x.kind != Kind::kInt) return InvalidData("a column slice holds a non-integer");
        return x.i;
      };
      FB_ASSIGN_OR_RETURN(int64_t st, part(step, 1));
      if (st != 1) return Unsupported("a column slice with a step");
      FB_ASSIGN_OR_RETURN(int64_t b, part(start, 0));
      FB_ASSIGN_OR_RETURN(int64_t e, part(stop, n));
      if (b < 0) b = std::max<int64_t>(b + n, 0);
      if (e < 0) e = std::max<int64_t>(e + n, 0);
      b = std::min<int64_t>(b, n);
      e = std::min<int64_t>(e, n);
      for (int64_t c = b; c < e; ++c) out.push_back(static_cast<int32_t>(c));
      return out;
    }
    return Unsupported(
        fmt::format("step '{}' selects columns by {}: not supported", path, r_.ClassName(cols)));
  }

  Result<Matrix> ApplyColumnTransformer(ValueId ct, const std::string& path, Matrix in) {
    FB_RETURN_IF_ERROR(CheckWidth(ct, in, path));
    if (ValueId w = r_.Attr(ct, "transformer_weights"); w != kNoValue && r_.V(w).kind != Kind::kNone)
      return Unsupported(fmt::format("ColumnTransformer '{}' has transformer_weights: not supported", path));
    std::vector<std::string> names = in.names;
    if (ValueId fn = r_.Attr(ct, "feature_names_in_"); fn != kNoValue) {
      FB_ASSIGN_OR_RETURN(names, StringList(fn, path + ".feature_names_in_"));
      if (names.size() != in.slots.size())
        return InvalidData(fmt::format("ColumnTransformer '{}' names {} columns but receives {}", path,
                                       names.size(), in.slots.size()));
    }
    FB_ASSIGN_OR_RETURN(ValueId list, r_.Need(ct, "transformers_"));
    if (r_.V(list).kind != Kind::kList) return InvalidData("ColumnTransformer.transformers_ is not a list");
    Matrix out;
    const int32_t n = static_cast<int32_t>(in.slots.size());
    for (ValueId it : r_.V(list).items) {
      const Value& e = r_.V(it);
      if ((e.kind != Kind::kTuple && e.kind != Kind::kList) || e.items.size() != 3)
        return InvalidData("a ColumnTransformer entry is not (name, transformer, columns)");
      const std::string name = r_.Str(e.items[0]);
      const std::string sub_path = path + " > " + name;
      if (pickle::IsStr(r_.g_, e.items[1], "drop")) continue;
      FB_ASSIGN_OR_RETURN(std::vector<int32_t> cols, Select(e.items[2], names, n, sub_path));
      if (cols.empty()) continue;
      Matrix sub;
      sub.sparse = in.sparse;
      for (int32_t c : cols) {
        sub.slots.push_back(in.slots[c]);
        if (!in.names.empty()) sub.names.push_back(in.names[c]);
      }
      if (pickle::IsStr(r_.g_, e.items[1], "passthrough")) {
        Note(sub_path, "passthrough", sub, sub.slots.size());
      } else {
        FB_ASSIGN_OR_RETURN(sub, Apply(e.items[1], sub_path, std::move(sub)));
      }
      out.slots.insert(out.slots.end(), sub.slots.begin(), sub.slots.end());
    }
    out.sparse = Flag(ct, "sparse_output_", false);
    return out;
  }

  Result<Matrix> ApplyScaler(ValueId obj, const std::string& cls, const std::string& path, Matrix in) {
    const size_t n = in.slots.size();
    Matrix out;
    out.sparse = in.sparse;
    std::vector<double> sub(n, 0.0), div(n, 1.0), mul(n, 1.0), add(n, 0.0);
    bool has_sub = false, has_div = false;
    bool clip = false;
    double lo = 0, hi = 0;
    std::string what = cls;
    auto scale_of = [&](const char* attr) -> Result<std::vector<double>> { return Row(obj, attr, n, path); };
    if (cls == "StandardScaler") {
      if (ValueId m = r_.Attr(obj, "mean_");
          Flag(obj, "with_mean", true) && m != kNoValue && r_.V(m).kind != Kind::kNone) {
        FB_ASSIGN_OR_RETURN(sub, scale_of("mean_"));
        has_sub = true;
      }
      if (ValueId s = r_.Attr(obj, "scale_"); s != kNoValue && r_.V(s).kind != Kind::kNone) {
        FB_ASSIGN_OR_RETURN(div, scale_of("scale_"));
        has_div = true;
      }
      what = fmt::format("StandardScaler(with_mean={}, with_std={})", has_sub ? "True" : "False",
                         has_div ? "True" : "False");
    } else if (cls == "MaxAbsScaler") {
      FB_ASSIGN_OR_RETURN(div, scale_of("scale_"));
      has_div = true;
    } else if (cls == "RobustScaler") {
      if (Flag(obj, "with_centering", true)) {
        FB_ASSIGN_OR_RETURN(sub, scale_of("center_"));
        has_sub = true;
      }
      if (Flag(obj, "with_scaling", true)) {
        FB_ASSIGN_OR_RETURN(div, scale_of("scale_"));
        has_div = true;
      }
      what = fmt::format("RobustScaler(with_centering={}, with_scaling={})", has_sub ? "True" : "False",
                         has_div ? "True" : "False");
    } else {  // MinMaxScaler
      if (in.sparse) return Unsupported(fmt::format("MinMaxScaler '{}' after a sparse step", path));
      FB_ASSIGN_OR_RETURN(mul, scale_of("scale_"));
      FB_ASSIGN_OR_RETURN(add, scale_of("min_"));
      clip = Flag(obj, "clip", false);
      if (clip) {
        FB_ASSIGN_OR_RETURN(ValueId fr, r_.Need(obj, "feature_range"));
        const Value& f = r_.V(fr);
        if ((f.kind != Kind::kTuple && f.kind != Kind::kList) || f.items.size() != 2)
          return InvalidData("MinMaxScaler.feature_range is not a pair");
        FB_ASSIGN_OR_RETURN(lo, r_.Number(f.items[0], "feature_range"));
        FB_ASSIGN_OR_RETURN(hi, r_.Number(f.items[1], "feature_range"));
      }
      what = clip ? "MinMaxScaler(clip=True)" : "MinMaxScaler";
    }
    if (in.sparse && has_sub)
      return Unsupported(fmt::format("{} '{}' centers a sparse matrix (scikit-learn refuses it)", cls, path));
    for (size_t i = 0; i < n; ++i) {
      FB_ASSIGN_OR_RETURN(int32_t src, Resolve(in.slots[i], false, path));
      PrepOp op;
      op.src = src;
      op.what = ColumnWhat(in, i, cls, path);
      if (cls == "MinMaxScaler") {
        // X *= scale_; X += min_; np.clip(X, *feature_range)
        op.kind = PrepOpKind::kMulAdd;
        op.a = mul[i];
        op.b = add[i];
        op.clip = clip;
        op.lo = lo;
        op.hi = hi;
      } else if (in.sparse) {
        // inplace_column_scale(X, 1 / scale_): a multiplication.
        if (!has_div) {
          out.slots.push_back(src);
          continue;
        }
        op.kind = PrepOpKind::kMul;
        op.a = 1.0 / div[i];
      } else {
        // X -= center; X /= scale (x - 0 and x / 1 are exact).
        if (!has_sub && !has_div) {
          out.slots.push_back(src);
          continue;
        }
        op.kind = PrepOpKind::kSubDiv;
        op.a = sub[i];
        op.b = div[i];
      }
      op.dst = NewSlots(1, false);
      out.slots.push_back(op.dst);
      p_->ops.push_back(std::move(op));
    }
    Note(path, what, in, out.slots.size());
    return out;
  }

  Result<PrepMissing> MissingSpec(ValueId obj, bool text, const std::string& path) {
    PrepMissing m;
    ValueId mv = r_.Attr(obj, "missing_values");
    if (mv == kNoValue) return m;
    const Value& x = r_.V(mv);
    if (x.kind == Kind::kFloat && std::isnan(x.f)) return m;
    m.nan = false;
    if (!text && (x.kind == Kind::kFloat || x.kind == Kind::kInt)) {
      m.number = x.kind == Kind::kFloat ? x.f : static_cast<double>(x.i);
      return m;
    }
    if (text && x.kind == Kind::kStr) {
      m.text = x.text;
      return m;
    }
    return Unsupported(
        fmt::format("SimpleImputer '{}' has missing_values of type {} for {} columns: not supported", path,
                    pickle::KindName(x.kind), text ? "text" : "numeric"));
  }

  Result<Matrix> ApplyImputer(ValueId obj, const std::string& path, Matrix in) {
    const size_t n = in.slots.size();
    FB_ASSIGN_OR_RETURN(ValueId st, r_.Need(obj, "statistics_"));
    FB_ASSIGN_OR_RETURN(Categories stats, ReadCategories(st, path + ".statistics_"));
    if (stats.is_missing.size() != n)
      return InvalidData(fmt::format("SimpleImputer '{}' has {} statistics for {} columns", path,
                                     stats.is_missing.size(), n));
    if (std::count(stats.is_none.begin(), stats.is_none.end(), 1))
      return Unsupported(fmt::format("SimpleImputer '{}' fills with None: not supported", path));
    const bool text = stats.text;
    const std::string strategy = r_.Str(r_.Attr(obj, "strategy"));
    const bool keep_all = strategy == "constant" || Flag(obj, "keep_empty_features", false);
    FB_ASSIGN_OR_RETURN(PrepMissing missing, MissingSpec(obj, text, path));
    Matrix out;
    out.sparse = in.sparse;
    std::vector<int32_t> src(n);
    for (size_t i = 0; i < n; ++i) {
      FB_ASSIGN_OR_RETURN(src[i], Resolve(in.slots[i], text, path));
      // A column with no observed value in fit (statistic NaN) is dropped.
      if (stats.is_missing[i] && !keep_all) continue;
      PrepOp op;
      op.kind = PrepOpKind::kImpute;
      op.src = src[i];
      op.what = ColumnWhat(in, i, "SimpleImputer", path);
      op.missing = missing;
      if (text) {
        if (stats.is_missing[i])
          return Unsupported(fmt::format("SimpleImputer '{}' fills text with NaN", path));
        op.fill_text = stats.texts[i];
      } else {
        op.fill_number = stats.numbers[i];
      }
      op.dst = NewSlots(1, text);
      out.slots.push_back(op.dst);
      p_->ops.push_back(std::move(op));
    }
    size_t n_ind = 0;
    if (Flag(obj, "add_indicator", false)) {
      FB_ASSIGN_OR_RETURN(ValueId ind, r_.Need(obj, "indicator_"));
      FB_ASSIGN_OR_RETURN(ValueId feats, r_.Need(ind, "features_"));
      FB_ASSIGN_OR_RETURN(std::vector<int64_t> features, Ints(r_, feats, path + ".indicator_.features_"));
      for (int64_t j : features) {
        if (j < 0 || j >= static_cast<int64_t>(n))
          return InvalidData("MissingIndicator.features_ out of range");
        PrepOp op;
        op.kind = PrepOpKind::kIndicator;
        op.src = src[j];
        op.what = ColumnWhat(in, static_cast<size_t>(j), "SimpleImputer", path);
        op.missing = missing;
        op.dst = NewSlots(1, false);
        out.slots.push_back(op.dst);
        p_->ops.push_back(std::move(op));
        ++n_ind;
      }
    }
    std::string what = fmt::format("SimpleImputer(strategy='{}'{})", strategy,
                                   n_ind ? fmt::format(", add_indicator=True: {} indicators", n_ind) : "");
    Note(path, what, in, out.slots.size());
    return out;
  }

  Result<Matrix> ApplyEncoder(ValueId obj, const std::string& cls, const std::string& path, Matrix in) {
    FB_RETURN_IF_ERROR(DtypeIsFloat64(obj, path));
    const bool onehot = cls == "OneHotEncoder";
    const size_t n = in.slots.size();
    FB_ASSIGN_OR_RETURN(ValueId cats_v, r_.Need(obj, "categories_"));
    if (r_.V(cats_v).kind != Kind::kList || r_.V(cats_v).items.size() != n)
      return InvalidData(fmt::format("{} '{}': categories_ does not match its {} columns", cls, path, n));
    const std::string handle = r_.Str(r_.Attr(obj, "handle_unknown"));
    const bool unknown_error = handle == "error" || handle.empty();
    if (!unknown_error && handle != "ignore" && handle != "infrequent_if_exist" &&
        handle != "use_encoded_value")
      return Unsupported(fmt::format("{} '{}' has handle_unknown='{}'", cls, path, handle));
    Matrix out;
    // One-hot output is sparse unless sparse_output / sparse is False.
    out.sparse = in.sparse;
    // Per-column drop index (in the infrequent-grouped space), or -1.
    std::vector<int64_t> drop(n, -1);
    bool infrequent = false;
    ValueId infreq_idx = kNoValue, infreq_map = kNoValue;
    std::vector<int64_t> n_outs;
    double unknown_value = 0, missing_value = std::nan("");
    bool has_missing_value = false;
    if (onehot) {
      ValueId so = r_.Attr(obj, "sparse_output");
      if (so == kNoValue || r_.V(so).kind != Kind::kBool) so = r_.Attr(obj, "sparse");
      out.sparse = so != kNoValue && r_.V(so).kind == Kind::kBool ? r_.V(so).i != 0 : true;
      if (ValueId d = r_.Attr(obj, "drop_idx_"); d != kNoValue && r_.V(d).kind != Kind::kNone) {
        FB_ASSIGN_OR_RETURN(auto view, r_.Array(d, path + ".drop_idx_"));
        if (view.count != n) return InvalidData("OneHotEncoder.drop_idx_ does not match its columns");
        if (view.dt->dtype_kind == 'O') {
          for (size_t i = 0; i < n; ++i) {
            const Value& x = r_.V(view.a->items[i]);
            if (x.kind == Kind::kInt) {
              drop[i] = x.i;
            } else if (x.kind != Kind::kNone) {
              return InvalidData("OneHotEncoder.drop_idx_ holds a non-integer");
            }
          }
        } else {
          FB_ASSIGN_OR_RETURN(drop, Ints(r_, d, path + ".drop_idx_"));
        }
      }
      infrequent = Flag(obj, "_infrequent_enabled", false);
      if (infrequent) {
        FB_ASSIGN_OR_RETURN(infreq_idx, r_.Need(obj, "_infrequent_indices"));
        FB_ASSIGN_OR_RETURN(infreq_map, r_.Need(obj, "_default_to_infrequent_mappings"));
        if (r_.V(infreq_idx).kind != Kind::kList || r_.V(infreq_idx).items.size() != n ||
            r_.V(infreq_map).kind != Kind::kList || r_.V(infreq_map).items.size() != n)
          return InvalidData("OneHotEncoder's infrequent categories do not match its columns");
      }
      if (ValueId no = r_.Attr(obj, "_n_features_outs"); no != kNoValue) {
        if (r_.V(no).kind != Kind::kList || r_.V(no).items.size() != n)
          return InvalidData("OneHotEncoder._n_features_outs does not match its columns");
        for (ValueId x : r_.V(no).items) {
          FB_ASSIGN_OR_RETURN(int64_t w, pickle::AsInt(r_.g_, x, "_n_features_outs"));
          n_outs.push_back(w);
        }
      }
    } else {
      if (handle == "use_encoded_value") {
        FB_ASSIGN_OR_RETURN(unknown_value, r_.Number(r_.Attr(obj, "unknown_value"), path + ".unknown_value"));
      }
      if (ValueId em = r_.Attr(obj, "encoded_missing_value"); em != kNoValue) {
        has_missing_value = true;
        FB_ASSIGN_OR_RETURN(missing_value, r_.Number(em, path + ".encoded_missing_value"));
      }
    }
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      const std::string col_what = ColumnWhat(in, i, cls, path);
      FB_ASSIGN_OR_RETURN(Categories cats, ReadCategories(r_.V(cats_v).items[i], path + ".categories_"));
      const int32_t size = static_cast<int32_t>(cats.is_missing.size());
      if (size == 0) return InvalidData(fmt::format("{} '{}' has no categories for column {}", cls, path, i));
      FB_ASSIGN_OR_RETURN(int32_t table, Table(cats, col_what));
      FB_ASSIGN_OR_RETURN(int32_t src, Resolve(in.slots[i], cats.text, path));
      PrepOp op;
      op.src = src;
      op.table = table;
      op.what = col_what;
      op.unknown_is_error = unknown_error;
      if (!onehot) {
        op.kind = PrepOpKind::kOrdinal;
        op.values.resize(size);
        for (int32_t k = 0; k < size; ++k) op.values[k] = k;
        const int32_t miss = p_->tables[table].missing;
        if (has_missing_value && miss >= 0) op.values[miss] = missing_value;
        op.unknown_value = unknown_value;
        op.dst = NewSlots(1, false);
        out.slots.push_back(op.dst);
        p_->ops.push_back(std::move(op));
        ++total;
        continue;
      }
      // X_int -> infrequent mapping -> drop, as OneHotEncoder.transform.
      std::vector<int64_t> map(size);
      for (int32_t k = 0; k < size; ++k) map[k] = k;
      int64_t unknown_m = -1;
      if (infrequent && r_.V(r_.V(infreq_map).items[i]).kind != Kind::kNone) {
        FB_ASSIGN_OR_RETURN(map,
                            Ints(r_, r_.V(infreq_map).items[i], path + "._default_to_infrequent_mappings"));
        FB_ASSIGN_OR_RETURN(std::vector<int64_t> idx,
                            Ints(r_, r_.V(infreq_idx).items[i], path + "._infrequent_indices"));
        if (static_cast<int32_t>(map.size()) != size || idx.empty() || idx[0] < 0 || idx[0] >= size)
          return InvalidData("OneHotEncoder's infrequent mapping does not match its categories");
        if (handle == "infrequent_if_exist") unknown_m = map[idx[0]];
      }
      int64_t width = size;
      if (!n_outs.empty()) {
        width = n_outs[i];
      } else if (drop[i] >= 0) {
        width = size - 1;
      }
      if (width < 0 || width > size) return InvalidData("OneHotEncoder._n_features_outs out of range");
      auto place = [&](int64_t m) -> int32_t {
        if (m < 0) return -1;
        if (drop[i] >= 0) {
          if (m == drop[i]) return -1;
          if (m > drop[i]) --m;
        }
        return m < width ? static_cast<int32_t>(m) : -2;
      };
      op.kind = PrepOpKind::kOneHot;
      op.outputs.resize(size);
      for (int32_t k = 0; k < size; ++k) {
        op.outputs[k] = place(map[k]);
        if (op.outputs[k] == -2) return InvalidData("OneHotEncoder's categories do not fit its outputs");
      }
      op.unknown_output = place(unknown_m);
      if (op.unknown_output == -2) return InvalidData("OneHotEncoder's categories do not fit its outputs");
      if (width == 0) continue;  // every category dropped: no output
      op.width = static_cast<int32_t>(width);
      op.dst = NewSlots(op.width, false);
      for (int32_t k = 0; k < op.width; ++k) out.slots.push_back(op.dst + k);
      p_->ops.push_back(std::move(op));
      total += width;
    }
    std::string what = cls + "(handle_unknown='" + (handle.empty() ? "error" : handle) + "'";
    if (onehot && std::any_of(drop.begin(), drop.end(), [](int64_t d) { return d >= 0; })) what += ", drop";
    if (infrequent) what += ", infrequent categories";
    what += ")";
    Note(path, what, in, total);
    return out;
  }
};

}  // namespace

Result<std::shared_ptr<const Preprocessing>> CompilePreprocessing(const Reader& r,
                                                                  const std::vector<PipelineStep>& steps,
                                                                  int32_t n_features) {
  Compiler c(r);
  if (steps.empty()) return InvalidData("no preprocessing steps");
  FB_RETURN_IF_ERROR(c.InitInputs(steps[0].transformer, steps[0].name));
  Matrix m = c.RawMatrix();
  for (const PipelineStep& s : steps) {
    FB_ASSIGN_OR_RETURN(m, c.Apply(s.transformer, s.name, std::move(m)));
  }
  if (static_cast<int32_t>(m.slots.size()) != n_features)
    return InvalidData(
        fmt::format("the preprocessing steps make {} features but the estimator was fitted on {}",
                    m.slots.size(), n_features));
  for (int32_t s : m.slots) {
    FB_ASSIGN_OR_RETURN(int32_t slot, c.Resolve(s, false, "the estimator"));
    c.p_->outputs.push_back(slot);
  }
  FB_RETURN_IF_ERROR(c.p_->Validate(n_features));
  return std::shared_ptr<const Preprocessing>(std::move(c.p_));
}

}  // namespace fb::sklearn
