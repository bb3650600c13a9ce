#include "model/import/pickle_numpy.h"

#include <fmt/format.h>

#include <cstring>

namespace fb::pickle {
namespace {

const Value& At(const PickleGraph& g, ValueId id) { return g.at(id); }

bool IsTuple(const PickleGraph& g, ValueId v) { return v != kNoValue && At(g, v).kind == Kind::kTuple; }

// Decodes UTF-8 text into code points <= 0xFF (what _codecs.encode(s, 'latin1') accepts).
Status Latin1(std::string_view utf8, std::string* out) {
  out->clear();
  out->reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
      unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      if (cp > 0xFF) return InvalidData("_codecs.encode: character beyond latin-1");
      out->push_back(static_cast<char>(cp));
      i += 2;
    } else {
      return InvalidData("_codecs.encode: text is not latin-1");
    }
  }
  return Status::Ok();
}
// The same, into g's pool.
Result<std::string_view> Latin1(PickleGraph* g, std::string_view utf8) {
  std::string bytes;
  FB_RETURN_IF_ERROR(Latin1(utf8, &bytes));
  return g->pool.Copy(bytes);
}

// The shape tuple `v`, into g's pool.
Result<std::span<const int64_t>> Shape(PickleGraph* g, ValueId v) {
  if (!IsTuple(*g, v) && !(v != kNoValue && At(*g, v).kind == Kind::kList))
    return InvalidData("array shape is not a tuple");
  const Ids& dims = At(*g, v).items;
  if (dims.size() > 32) return InvalidData("array has more than 32 dimensions");
  int64_t* shape = g->pool.Allocate<int64_t>(dims.size());
  for (size_t k = 0; k < dims.size(); ++k) {
    FB_ASSIGN_OR_RETURN(shape[k], AsInt(*g, dims[k], "array dimension"));
  }
  std::span<const int64_t> out(shape, dims.size());
  FB_RETURN_IF_ERROR(ElementCount(out).status());
  return out;
}

// Parses numpy's dtype spelling ('f8', 'i4', 'u1', 'b1', 'O8', 'V56', 'U7', 'S3').
Status ParseDtypeName(std::string_view s, Value* d) {
  if (s.empty() || s.size() > 12) return InvalidData("bad dtype name");
  char k = s[0];
  if (std::string_view("biufOUSV").find(k) == std::string_view::npos)
    return InvalidData(fmt::format("dtype '{}' is not supported", s.substr(0, 12)));
  int64_t n = 0;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return InvalidData(fmt::format("dtype '{}' is not supported", s));
    n = n * 10 + (c - '0');
  }
  if (s.size() == 1) n = (k == 'O') ? 8 : 0;
  if (k == 'U') n *= 4;
  if (n < 0 || n > (int64_t{1} << 20)) return InvalidData("dtype item size out of range");
  d->kind = Kind::kDtype;
  d->dtype_kind = k;
  d->i = n;
  d->little_endian = true;
  return Status::Ok();
}

Status DecodeScalar(const Value& dtype, std::string_view raw, Value* out) {
  if (static_cast<int64_t>(raw.size()) != dtype.i) return InvalidData("numpy scalar of the wrong size");
  uint64_t bits = 0;
  size_t n = raw.size();
  if (n > 8 || n == 0) return InvalidData("numpy scalar of an unsupported size");
  for (size_t i = 0; i < n; ++i) {
    size_t j = dtype.little_endian ? i : n - 1 - i;
    bits |= uint64_t{static_cast<unsigned char>(raw[j])} << (8 * i);
  }
  out->state = kNoValue;
  switch (dtype.dtype_kind) {
    case 'b':
      out->kind = Kind::kBool;
      out->i = bits != 0;
      return Status::Ok();
    case 'u':
      out->kind = Kind::kInt;
      out->i = static_cast<int64_t>(bits);
      if (n == 8 && out->i < 0) out->kind = Kind::kBigInt;
      return Status::Ok();
    case 'i':
      if (n < 8 && (bits >> (8 * n - 1)) & 1) bits |= ~uint64_t{0} << (8 * n);
      out->kind = Kind::kInt;
      out->i = static_cast<int64_t>(bits);
      return Status::Ok();
    case 'f':
      out->kind = Kind::kFloat;
      if (n == 8) {
        std::memcpy(&out->f, &bits, 8);
      } else if (n == 4) {
        float f;
        auto b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, 4);
        out->f = f;
      } else {
        return InvalidData("numpy float scalar of an unsupported size");
      }
      return Status::Ok();
    default: return InvalidData("numpy scalar of an unsupported dtype");
  }
}

}  // namespace

Result<uint64_t> ElementCount(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > (int64_t{1} << 40)) return InvalidData("array dimension out of range");
    count *= static_cast<uint64_t>(d);
    if (count > (uint64_t{1} << 40)) return InvalidData("array too large");
  }
  return count;
}

ValueId DictGet(const PickleGraph& g, ValueId dict, std::string_view key) {
  if (dict == kNoValue || At(g, dict).kind != Kind::kDict) return kNoValue;
  const auto& it = At(g, dict).items;
  for (size_t i = it.size(); i >= 2; i -= 2) {
    if (IsStr(g, it[i - 2], key)) return it[i - 1];
  }
  return kNoValue;
}

bool IsStr(const PickleGraph& g, ValueId v, std::string_view s) {
  if (v == kNoValue) return false;
  const Value& x = At(g, v);
  return x.kind == Kind::kStr && x.text == s;
}

Result<int64_t> AsInt(const PickleGraph& g, ValueId v, std::string_view what) {
  if (v == kNoValue) return InvalidData(fmt::format("{} is missing", what));
  const Value& x = At(g, v);
  if (x.kind == Kind::kInt || x.kind == Kind::kBool) return x.i;
  return InvalidData(fmt::format("{} is a {}, not an integer", what, KindName(x.kind)));
}

Status ReduceBuiltin(PickleGraph* g, GlobalRole role, const std::string& fn, ValueId args, ValueId out) {
  const Ids a = At(*g, args).items;
  Value result;
  auto bad = [&] { return InvalidData(fmt::format("unexpected arguments to {}", fn)); };
  auto kind_of = [&](size_t i) { return i < a.size() ? At(*g, a[i]).kind : Kind::kNone; };
  switch (role) {
    case GlobalRole::kCodecsEncode: {
      if (a.size() < 1 || a.size() > 2 || kind_of(0) != Kind::kStr) return bad();
      if (a.size() == 2 && !(IsStr(*g, a[1], "latin1") || IsStr(*g, a[1], "latin-1"))) return bad();
      result.kind = Kind::kBytes;
      FB_ASSIGN_OR_RETURN(result.text, Latin1(g, At(*g, a[0]).text));
      break;
    }
    case GlobalRole::kBytearray:
      result.kind = Kind::kBytes;
      if (a.empty()) break;
      if (kind_of(0) == Kind::kBytes && a.size() == 1) {
        result.text = At(*g, a[0]).text;
      } else if (kind_of(0) == Kind::kStr && a.size() == 2) {
        FB_ASSIGN_OR_RETURN(result.text, Latin1(g, At(*g, a[0]).text));
      } else {
        return bad();
      }
      break;
    case GlobalRole::kSet:
      result.kind = Kind::kSet;
      if (a.size() > 1) return bad();
      if (a.size() == 1) {
        Kind k = kind_of(0);
        if (k != Kind::kList && k != Kind::kTuple && k != Kind::kSet) return bad();
        result.items = At(*g, a[0]).items.Shared();
      }
      break;
    case GlobalRole::kOrderedDict:
      result.kind = Kind::kDict;
      if (a.size() > 1) return bad();
      if (a.size() == 1) {
        if (kind_of(0) != Kind::kList && kind_of(0) != Kind::kTuple) return bad();
        std::vector<ValueId> flat;
        for (ValueId p : At(*g, a[0]).items) {
          const Value& pair = At(*g, p);
          if ((pair.kind != Kind::kList && pair.kind != Kind::kTuple) || pair.items.size() != 2) return bad();
          flat.push_back(pair.items[0]);
          flat.push_back(pair.items[1]);
        }
        result.items = g->MakeIds(flat.data(), flat.size());
      }
      break;
    case GlobalRole::kDtype: {
      if (a.empty() || kind_of(0) != Kind::kStr) return bad();
      FB_RETURN_IF_ERROR(ParseDtypeName(At(*g, a[0]).text, &result));
      break;
    }
    case GlobalRole::kScalar: {
      if (a.size() != 2 || kind_of(0) != Kind::kDtype) return bad();
      const Value& dt = At(*g, a[0]);
      if (dt.dtype_kind == 'O') {
        result = At(*g, a[1]);
        result.items = result.items.Shared();  // a list's copy must not append into its room
        break;
      }
      if (kind_of(1) != Kind::kBytes) return bad();
      FB_RETURN_IF_ERROR(DecodeScalar(dt, At(*g, a[1]).bytes(), &result));
      break;
    }
    case GlobalRole::kReconstruct: {
      // _reconstruct(ndarray, (0,), b'b'): an empty array BUILD will fill.
      if (a.empty() || kind_of(0) != Kind::kGlobal ||
          static_cast<GlobalRole>(At(*g, a[0]).i) != GlobalRole::kNdarrayClass) {
        return InvalidData("_reconstruct of something other than numpy.ndarray");
      }
      static constexpr int64_t kEmpty[1] = {0};
      result.kind = Kind::kArray;
      result.shape = kEmpty;
      break;
    }
    case GlobalRole::kFromBuffer: {
      // _frombuffer(buffer, dtype, shape, order)
      if (a.size() != 4 || kind_of(0) != Kind::kBytes || kind_of(1) != Kind::kDtype) return bad();
      FB_ASSIGN_OR_RETURN(result.shape, Shape(g, a[2]));
      const Value& dt = At(*g, a[1]);
      if (dt.dtype_kind == 'O') return InvalidData("_frombuffer with an object dtype");
      FB_ASSIGN_OR_RETURN(uint64_t count, ElementCount(result.shape));
      const Value& raw = At(*g, a[0]);
      if (dt.i <= 0 || count * static_cast<uint64_t>(dt.i) != raw.bytes().size())
        return InvalidData("array data size does not match its shape and dtype");
      result.kind = Kind::kArray;
      result.state = a[1];
      result.fortran = IsStr(*g, a[3], "F");
      result.text = raw.text;
      break;
    }
    default: return InvalidData(fmt::format("REDUCE on {} is not allowed", fn));
  }
  g->mutable_at(out) = result;
  return Status::Ok();
}

Status BuildArray(PickleGraph* g, ValueId array, ValueId state) {
  if (!IsTuple(*g, state)) return InvalidData("ndarray state is not a tuple");
  std::span<const ValueId> s(At(*g, state).items.begin(), At(*g, state).items.size());
  if (s.size() == 5) s = s.subspan(1);  // leading version number
  if (s.size() != 4) return InvalidData("ndarray state has the wrong length");
  FB_ASSIGN_OR_RETURN(std::span<const int64_t> shape, Shape(g, s[0]));
  if (At(*g, s[1]).kind != Kind::kDtype) return InvalidData("ndarray state has no dtype");
  const Value& dt = At(*g, s[1]);
  FB_ASSIGN_OR_RETURN(uint64_t count, ElementCount(shape));
  FB_ASSIGN_OR_RETURN(int64_t fortran, AsInt(*g, s[2], "ndarray is_fortran"));
  const Value& data = At(*g, s[3]);
  Value& out = g->mutable_at(array);
  if (out.state != kNoValue) return InvalidData("ndarray built twice");
  if (dt.dtype_kind == 'O') {
    if (data.kind != Kind::kList || data.items.size() != count)
      return InvalidData("object array data does not match its shape");
    out.items = data.items.Shared();
  } else {
    if (data.kind != Kind::kBytes || dt.i <= 0 || count * static_cast<uint64_t>(dt.i) != data.bytes().size())
      return InvalidData("array data size does not match its shape and dtype");
    out.text = data.text;
  }
  out.shape = shape;
  out.fortran = fortran != 0;
  out.state = s[1];
  return Status::Ok();
}

Status BuildDtype(PickleGraph* g, ValueId dtype, ValueId state) {
  if (!IsTuple(*g, state)) return InvalidData("dtype state is not a tuple");
  const Ids s = At(*g, state).items;
  if (s.size() != 8 && s.size() != 9) return InvalidData("dtype state has the wrong length");
  const Value& order = At(*g, s[1]);
  if (order.kind != Kind::kStr) return InvalidData("dtype byte order is not a string");
  bool little = order.text != ">";
  if (order.text != "<" && order.text != ">" && order.text != "|" && order.text != "=")
    return InvalidData("bad dtype byte order");
  if (At(*g, s[2]).kind != Kind::kNone) return InvalidData("sub-array dtypes are not supported");
  std::span<DtypeField> fields;
  const Value& names = At(*g, s[3]);
  if (names.kind == Kind::kTuple) {
    if (names.items.size() > 256) return InvalidData("dtype with more than 256 fields");
    fields = {g->pool.Allocate<DtypeField>(names.items.size()), names.items.size()};
    size_t k = 0;
    for (ValueId name : names.items) {
      if (At(*g, name).kind != Kind::kStr) return InvalidData("dtype field name is not a string");
      ValueId f = DictGet(*g, s[4], At(*g, name).text);
      if (!IsTuple(*g, f) || At(*g, f).items.size() < 2) return InvalidData("dtype field without a type");
      ValueId sub = At(*g, f).items[0];
      if (At(*g, sub).kind != Kind::kDtype) return InvalidData("dtype field type is not a dtype");
      FB_ASSIGN_OR_RETURN(int64_t offset, AsInt(*g, At(*g, f).items[1], "dtype field offset"));
      fields[k++] = {At(*g, name).text, sub, offset};
    }
  } else if (names.kind != Kind::kNone) {
    return InvalidData("dtype field names are not a tuple");
  }
  FB_ASSIGN_OR_RETURN(int64_t elsize, AsInt(*g, s[5], "dtype item size"));
  Value& d = g->mutable_at(dtype);
  d.little_endian = little;
  if (elsize > 0) {
    if (elsize > (int64_t{1} << 20)) return InvalidData("dtype item size out of range");
    d.i = elsize;
  }
  for (const DtypeField& f : fields) {
    int64_t sz = At(*g, f.dtype).i;
    if (f.offset < 0 || sz <= 0 || f.offset > d.i - sz) return InvalidData("dtype field outside its record");
  }
  d.fields = fields;
  return Status::Ok();
}

Status ReadWrapperState(PickleGraph* graph, ValueId state, WrapperInfo* out) {
  const PickleGraph& g = *graph;
  if (state == kNoValue || At(g, state).kind != Kind::kDict) return InvalidData("NumpyArrayWrapper state");
  // The four members in one pass (the last of a repeated key, as DictGet):
  // a joblib file has one wrapper per array.
  ValueId shape = kNoValue, dt = kNoValue, order = kNoValue, align = kNoValue;
  const Ids& items = At(g, state).items;
  for (size_t k = 0; k + 1 < items.size(); k += 2) {
    const Value& key = At(g, items[k]);
    if (key.kind != Kind::kStr) continue;
    if (key.text == "shape") {
      shape = items[k + 1];
    } else if (key.text == "dtype") {
      dt = items[k + 1];
    } else if (key.text == "order") {
      order = items[k + 1];
    } else if (key.text == "numpy_array_alignment_bytes") {
      align = items[k + 1];
    }
  }
  FB_ASSIGN_OR_RETURN(out->shape, Shape(graph, shape));
  if (dt == kNoValue || At(g, dt).kind != Kind::kDtype)
    return InvalidData("NumpyArrayWrapper without a dtype");
  out->dtype = dt;
  out->fortran = IsStr(g, order, "F");
  out->has_alignment = align != kNoValue && At(g, align).kind != Kind::kNone;
  FB_ASSIGN_OR_RETURN(uint64_t count, ElementCount(out->shape));
  if (At(g, dt).dtype_kind != 'O') {
    if (At(g, dt).i <= 0) return InvalidData("NumpyArrayWrapper dtype has no size");
    out->nbytes = count * static_cast<uint64_t>(At(g, dt).i);
  }
  return Status::Ok();
}

}  // namespace fb::pickle
