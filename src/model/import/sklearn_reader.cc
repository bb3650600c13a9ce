#include "model/import/sklearn_reader.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/format.h"
#include "common/prefault.h"
#include "model/forest_builder.h"
#include "model/import/pickle_numpy.h"

namespace fb::sklearn {

std::string Reader::ClassName(ValueId obj) const {
  if (obj == kNoValue) return "nothing";
  const Value& o = V(obj);
  if (o.kind != Kind::kObject) return std::string("a ") + pickle::KindName(o.kind);
  std::string_view full = V(o.cls).text;
  size_t dot = full.rfind('.');
  return std::string(dot == std::string_view::npos ? full : full.substr(dot + 1));
}

std::string Reader::FullClassName(ValueId obj) const {
  if (obj == kNoValue || V(obj).kind != Kind::kObject) return {};
  return std::string(V(V(obj).cls).text);
}

ValueId Reader::Attr(ValueId obj, std::string_view name) const {
  if (obj == kNoValue || V(obj).kind != Kind::kObject) return kNoValue;
  ValueId state = V(obj).state;
  // BUILD may carry (dict, slotstate).
  if (state != kNoValue && V(state).kind == Kind::kTuple && !V(state).items.empty())
    state = V(state).items[0];
  return pickle::DictGet(g_, state, name);
}

Result<ValueId> Reader::Need(ValueId obj, std::string_view name) const {
  ValueId v = Attr(obj, name);
  if (v == kNoValue) return InvalidData(fmt::format("{} has no attribute '{}'", ClassName(obj), name));
  return v;
}

Result<double> Reader::Number(ValueId v, std::string_view what) const {
  if (v != kNoValue) {
    const Value& x = V(v);
    if (x.kind == Kind::kFloat) return x.f;
    if (x.kind == Kind::kInt || x.kind == Kind::kBool) return static_cast<double>(x.i);
  }
  return InvalidData(fmt::format("{} is not a number", what));
}

Result<Reader::ArrayView> Reader::Array(ValueId v, std::string_view what) const {
  if (v == kNoValue || V(v).kind != Kind::kArray || V(v).state == kNoValue)
    return InvalidData(fmt::format("{} is not a numpy array", what));
  ArrayView view{&V(v), &V(V(v).state), 0};
  FB_ASSIGN_OR_RETURN(view.count, pickle::ElementCount(view.a->shape));
  return view;
}

namespace {
// Offset in bytes of element `c_index` (C order) of an array.
uint64_t ElementOffset(const Value& a, uint64_t c_index, uint64_t itemsize) {
  if (!a.fortran || a.shape.size() <= 1) return c_index * itemsize;
  // Decompose the C-order index, then recompose in Fortran order.
  uint64_t rem = c_index, f_index = 0, stride = 1;
  std::vector<uint64_t> idx(a.shape.size());
  for (size_t d = a.shape.size(); d-- > 0;) {
    auto n = static_cast<uint64_t>(a.shape[d]);
    idx[d] = rem % n;
    rem /= n;
  }
  for (size_t d = 0; d < a.shape.size(); ++d) {
    f_index += idx[d] * stride;
    stride *= static_cast<uint64_t>(a.shape[d]);
  }
  return f_index * itemsize;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A dtype that is `kind` of `size` bytes in this host's byte order.
bool IsNative(const Value& dt, char kind, int64_t size) {
  const bool native = dt.little_endian == (std::endian::native == std::endian::little) || size == 1;
  return dt.dtype_kind == kind && dt.i == size && native;
}

// One field of a structured array's records: a plain load for the types
// scikit-learn writes (native int64, float64, uint8), ReadNumber otherwise.
class FieldReader {
 public:
  FieldReader(const Reader& r, const pickle::DtypeField* f, const char* records, uint64_t itemsize)
      : dt_(f ? &r.V(f->dtype) : nullptr),
        at_(f ? records + f->offset : nullptr),
        stride_(itemsize),
        how_(!f                       ? kNone
             : IsNative(*dt_, 'i', 8) ? kInt64
             : IsNative(*dt_, 'f', 8) ? kFloat64
             : IsNative(*dt_, 'u', 1) ? kUint8
                                      : kOther) {}

  __attribute__((always_inline)) bool Int(size_t i, int64_t* v) const {
    const char* p = at_ + i * stride_;
    if (how_ == kInt64) {
      std::memcpy(v, p, 8);
      return true;
    }
    if (how_ == kUint8) {
      *v = static_cast<unsigned char>(*p);
      return true;
    }
    double ignored;
    return how_ != kNone && ReadNumber(p, *dt_, &ignored, v);
  }
  __attribute__((always_inline)) bool Double(size_t i, double* v) const {
    const char* p = at_ + i * stride_;
    if (how_ == kFloat64) {
      std::memcpy(v, p, 8);
      return true;
    }
    int64_t ignored;
    return how_ != kNone && ReadNumber(p, *dt_, v, &ignored);
  }

 private:
  enum How { kNone, kInt64, kFloat64, kUint8, kOther };
  const Value* dt_;
  const char* at_;
  uint64_t stride_;
  How how_;
};

struct NodeFields {
  const pickle::DtypeField* left = nullptr;
  const pickle::DtypeField* right = nullptr;
  const pickle::DtypeField* feature = nullptr;
  const pickle::DtypeField* threshold = nullptr;
  const pickle::DtypeField* missing_left = nullptr;
  const pickle::DtypeField* n_node_samples = nullptr;
};

}  // namespace

// Reads a scalar of dtype `dt` at `p` (little or big endian).
bool ReadNumber(const char* p, const Value& dt, double* d, int64_t* i) {
  size_t n = static_cast<size_t>(dt.i);
  if (n == 0 || n > 8) return false;
  uint64_t bits = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t j = dt.little_endian ? k : n - 1 - k;
    bits |= uint64_t{static_cast<unsigned char>(p[j])} << (8 * k);
  }
  switch (dt.dtype_kind) {
    case 'f':
      if (n == 8) {
        std::memcpy(d, &bits, 8);
      } else if (n == 4) {
        float f;
        auto b = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b, 4);
        *d = f;
      } else {
        return false;
      }
      *i = 0;
      return true;
    case 'i':
      if (n < 8 && ((bits >> (8 * n - 1)) & 1)) bits |= ~uint64_t{0} << (8 * n);
      [[fallthrough]];
    case 'u':
    case 'b':
      *i = static_cast<int64_t>(bits);
      *d = static_cast<double>(*i);
      return true;
    default: return false;
  }
}

Result<std::vector<double>> Doubles(const Reader& r, ValueId v, std::string_view what) {
  FB_ASSIGN_OR_RETURN(auto view, r.Array(v, what));
  std::vector<double> out(view.count);
  auto size = static_cast<uint64_t>(view.dt->i);
  for (uint64_t k = 0; k < view.count; ++k) {
    int64_t i;
    if (!ReadNumber(view.a->bytes().data() + ElementOffset(*view.a, k, size), *view.dt, &out[k], &i))
      return InvalidData(fmt::format("{} has an unsupported dtype", what));
  }
  return out;
}

Result<std::vector<int64_t>> Ints(const Reader& r, ValueId v, std::string_view what) {
  FB_ASSIGN_OR_RETURN(auto view, r.Array(v, what));
  if (view.dt->dtype_kind != 'i' && view.dt->dtype_kind != 'u')
    return InvalidData(fmt::format("{} is not an integer array", what));
  std::vector<int64_t> out(view.count);
  auto size = static_cast<uint64_t>(view.dt->i);
  for (uint64_t k = 0; k < view.count; ++k) {
    double d;
    if (!ReadNumber(view.a->bytes().data() + ElementOffset(*view.a, k, size), *view.dt, &d, &out[k]))
      return InvalidData(fmt::format("{} has an unsupported dtype", what));
  }
  return out;
}

// Class labels spelled as Python prints them.
Status Labels(const Reader& r, ValueId classes, Forest* f) {
  FB_ASSIGN_OR_RETURN(auto view, r.Array(classes, "classes_"));
  if (view.a->shape.size() != 1) return Unsupported("multi-output classifiers are not supported");
  if (view.count == 0 || view.count > (uint64_t{1} << 20))
    return InvalidData("classes_ is empty or too long");
  f->labels_are_integers = true;
  const Value& dt = *view.dt;
  for (uint64_t k = 0; k < view.count; ++k) {
    std::string label;
    if (dt.dtype_kind == 'O') {
      const Value& item = r.V(view.a->items[k]);
      switch (item.kind) {
        case Kind::kStr:
          label = item.text;
          f->labels_are_integers = false;
          break;
        case Kind::kInt: label = std::to_string(item.i); break;
        case Kind::kBool:
          label = item.i ? "True" : "False";
          f->labels_are_integers = false;
          break;
        case Kind::kFloat:
          label = PythonFloat(item.f);
          f->labels_are_integers = false;
          break;
        default: return Unsupported(fmt::format("class label of type {}", pickle::KindName(item.kind)));
      }
    } else if (dt.dtype_kind == 'U' || dt.dtype_kind == 'S') {
      f->labels_are_integers = false;
      auto size = static_cast<size_t>(dt.i);
      const char* p = view.a->bytes().data() + k * size;
      if (dt.dtype_kind == 'S') {
        label.assign(p, strnlen(p, size));
      } else {
        for (size_t c = 0; c + 4 <= size; c += 4) {
          uint32_t cp = 0;
          for (size_t b = 0; b < 4; ++b) {
            size_t j = dt.little_endian ? b : 3 - b;
            cp |= uint32_t{static_cast<unsigned char>(p[c + j])} << (8 * b);
          }
          if (cp == 0) break;
          if (cp >= 0x110000) return InvalidData("classes_ holds an invalid character");
          AppendUtf8(cp, &label);
        }
      }
    } else {
      double d;
      int64_t i;
      if (!ReadNumber(view.a->bytes().data() + k * static_cast<uint64_t>(dt.i), dt, &d, &i))
        return Unsupported("classes_ has an unsupported dtype");
      if (dt.dtype_kind == 'f') {
        label = PythonFloat(d);
        f->labels_are_integers = false;
      } else if (dt.dtype_kind == 'b') {
        label = i ? "True" : "False";
        f->labels_are_integers = false;
      } else {
        label = dt.dtype_kind == 'u' ? std::to_string(static_cast<uint64_t>(i)) : std::to_string(i);
      }
    }
    f->class_labels.push_back(std::move(label));
  }
  return Status::Ok();
}

// One sklearn Tree object into `out`. Classifier leaf values are normalised
// per node as predict_proba does (a zero-sum row stays zero).
Status ConvertTree(const Reader& r, ValueId tree_obj, ModelKind kind, int32_t width, bool* has_missing,
                   Tree* out, std::vector<int64_t>* n_node_samples) {
  if (r.ClassName(tree_obj) != "Tree") return InvalidData("tree_ is not a sklearn.tree._tree.Tree");
  FB_ASSIGN_OR_RETURN(ValueId nodes_v, r.Need(tree_obj, "nodes"));
  FB_ASSIGN_OR_RETURN(ValueId values_v, r.Need(tree_obj, "values"));
  FB_ASSIGN_OR_RETURN(auto nodes, r.Array(nodes_v, "Tree.nodes"));
  if (nodes.a->shape.size() != 1) return InvalidData("Tree.nodes is not one-dimensional");
  if (nodes.count == 0 || nodes.count > (uint64_t{1} << 30)) return InvalidData("Tree.nodes has no nodes");
  NodeFields nf;
  for (const auto& field : nodes.dt->fields) {
    if (field.name == "left_child") nf.left = &field;
    if (field.name == "right_child") nf.right = &field;
    if (field.name == "feature") nf.feature = &field;
    if (field.name == "threshold") nf.threshold = &field;
    if (field.name == "missing_go_to_left") nf.missing_left = &field;
    if (field.name == "n_node_samples") nf.n_node_samples = &field;
  }
  if (!nf.left || !nf.right || !nf.feature || !nf.threshold)
    return InvalidData("Tree.nodes records lack left_child/right_child/feature/threshold");
  *has_missing = nf.missing_left != nullptr;
  if (n_node_samples && !nf.n_node_samples) return InvalidData("Tree.nodes records lack n_node_samples");
  // The values in C order as doubles: read in place when they are native
  // float64 in C order (what scikit-learn writes), converted otherwise.
  FB_ASSIGN_OR_RETURN(auto vview, r.Array(values_v, "Tree.values"));
  const char* in_place = nullptr;
  std::vector<double> converted;
  if (IsNative(*vview.dt, 'f', 8) && !vview.a->fortran) {
    in_place = vview.a->bytes().data();
  } else {
    FB_ASSIGN_OR_RETURN(converted, Doubles(r, values_v, "Tree.values"));
  }
  auto value = [&](size_t k) {
    if (converted.empty()) {
      double d;
      std::memcpy(&d, in_place + 8 * k, 8);
      return d;
    }
    return converted[k];
  };
  const auto& vshape = r.V(values_v).shape;
  if (vshape.size() != 3 || static_cast<uint64_t>(vshape[0]) != nodes.count)
    return InvalidData("Tree.values does not have one row per node");
  if (vshape[1] != 1) return Unsupported("multi-output models are not supported");
  if (vshape[2] < width) return InvalidData("Tree.values is narrower than the class count");
  const size_t stride = static_cast<size_t>(vshape[2]);
  const size_t n = static_cast<size_t>(nodes.count);
  const auto itemsize = static_cast<uint64_t>(nodes.dt->i);
  // Every node and value is written once (no zero-fill first).
  out->nodes.clear();
  out->nodes.reserve(n);
  out->values.clear();
  out->values.reserve(n * static_cast<size_t>(width));
  PrefaultForWrite(out->nodes.data(), n * sizeof(Node));
  PrefaultForWrite(out->values.data(), out->values.capacity() * sizeof(double));
  if (n_node_samples) n_node_samples->assign(n, 0);
  const char* records = nodes.a->bytes().data();
  const FieldReader left_f(r, nf.left, records, itemsize), right_f(r, nf.right, records, itemsize),
      feature_f(r, nf.feature, records, itemsize), threshold_f(r, nf.threshold, records, itemsize),
      missing_f(r, nf.missing_left, records, itemsize), samples_f(r, nf.n_node_samples, records, itemsize);
  for (size_t i = 0; i < n; ++i) {
    double threshold = 0;
    int64_t left = 0, right = 0, feature = 0, mgl = 1;
    if (!left_f.Int(i, &left) || !right_f.Int(i, &right) || !feature_f.Int(i, &feature) ||
        !threshold_f.Double(i, &threshold) || (nf.missing_left && !missing_f.Int(i, &mgl)))
      return InvalidData("Tree.nodes has fields of unsupported types");
    if (n_node_samples && !samples_f.Int(i, &(*n_node_samples)[i]))
      return InvalidData("Tree.nodes has fields of unsupported types");
    Node node;
    if (left == -1) {
      node.left = node.right = Node::kLeaf;
    } else {
      // An infinite threshold is real: scikit-learn >= 1.3 writes +inf for a
      // split that sends every value one way and the missing ones the other
      // (x <= inf holds for all but NaN, which missing_go_to_left routes).
      if (left < 0 || right < 0 || left >= static_cast<int64_t>(n) || right >= static_cast<int64_t>(n) ||
          feature < 0 || feature > INT32_MAX || std::isnan(threshold))
        return InvalidData(fmt::format("node {} has children, feature or threshold out of range", i));
      node.left = static_cast<int32_t>(left);
      node.right = static_cast<int32_t>(right);
      node.feature = static_cast<int32_t>(feature);
      node.threshold = Float32AtOrBelow(threshold);
      node.default_left = mgl != 0;
    }
    out->nodes.push_back(node);
    const size_t row = i * stride;
    if (kind == ModelKind::kClassifier) {
      // tree.predict_proba: proba / proba.sum(), a zero sum left as is.
      double sum = 0;
      for (int32_t k = 0; k < width; ++k) sum += value(row + static_cast<size_t>(k));
      if (sum == 0.0) sum = 1.0;
      for (int32_t k = 0; k < width; ++k) out->values.push_back(value(row + static_cast<size_t>(k)) / sum);
    } else {
      out->values.push_back(value(row));
    }
  }
  return Status::Ok();
}

Status ReadFeatures(const Reader& r, ValueId est, Forest* f) {
  const std::string cls = r.ClassName(est);
  f->info.library_version = r.Str(r.Attr(est, "_sklearn_version"));
  ValueId nf = r.Attr(est, "n_features_in_");
  if (nf == kNoValue) nf = r.Attr(est, "n_features_");
  FB_ASSIGN_OR_RETURN(int64_t n_features, pickle::AsInt(r.g_, nf, cls + ".n_features_in_"));
  if (n_features <= 0 || n_features > (int64_t{1} << 24)) return InvalidData("n_features_in_ out of range");
  f->n_features = static_cast<int32_t>(n_features);
  if (ValueId names = r.Attr(est, "feature_names_in_"); names != kNoValue) {
    FB_ASSIGN_OR_RETURN(auto view, r.Array(names, "feature_names_in_"));
    if (view.count != static_cast<uint64_t>(n_features) || view.dt->dtype_kind != 'O')
      return InvalidData("feature_names_in_ does not match n_features_in_");
    for (ValueId item : view.a->items) {
      if (r.V(item).kind != Kind::kStr) return InvalidData("feature_names_in_ holds a non-string");
      f->feature_names.emplace_back(r.V(item).text);
    }
  }
  return Status::Ok();
}

uint64_t TreeArrayBytes(const Reader& r, const std::vector<ValueId>& tree_objs) {
  uint64_t bytes = 0;
  for (ValueId t : tree_objs) {
    for (const char* name : {"nodes", "values"}) {
      ValueId a = r.Attr(t, name);
      if (a != kNoValue) bytes += r.V(a).bytes().size();
    }
  }
  return bytes;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Major*1000+minor of a version string such as "1.2.1" (0 if unknown).
int VersionKey(const std::string& v) {
  int major = 0, minor = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) < 1) return 0;
  return major * 1000 + minor;
}

}  // namespace fb::sklearn
