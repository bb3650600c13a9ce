#include "model/import/pickle_vm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <unordered_map>

#include "common/prefault.h"
#include "model/import/pickle_globals.h"
#include "model/import/pickle_numpy.h"

namespace fb::pickle {

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kBigInt: return "int (beyond 64 bits)";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kSet: return "set";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "global";
    case Kind::kObject: return "object";
    case Kind::kDtype: return "numpy dtype";
    case Kind::kArray: return "numpy array";
  }
  return "?";
}

namespace {

// Opcodes (pickletools' names).
enum Op : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

class Machine {
 public:
  Machine(std::string_view data, size_t pos, const UnpickleLimits& limits, PickleGraph* graph, bool joblib,
          uint64_t* copied)
      : data_(data), pos_(pos), limits_(limits), g_(graph), joblib_(joblib), copied_(copied) {}

  // Runs to STOP; the result is the popped value.
  Result<ValueId> Run();
  size_t pos() const { return pos_; }

 private:
  Status Error(const std::string& what) const {
    return InvalidData(fmt::format("pickle: {} (opcode at byte {})", what, op_pos_));
  }
  Status Truncated() const {
    return InvalidData(
        fmt::format("pickle: truncated file: the opcode at byte {} needs more bytes than the "
                    "{} left",
                    op_pos_, data_.size() - pos_));
  }
  Status Read(size_t n, std::string_view* out) {
    if (n > data_.size() - pos_) return Truncated();
    *out = data_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  Status ReadUint(size_t n, uint64_t* out) {
    std::string_view b;
    FB_RETURN_IF_ERROR(Read(n, &b));
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    *out = v;
    return Status::Ok();
  }
  Status ReadLine(std::string_view* out) {
    size_t nl = data_.find('\n', pos_);
    if (nl == std::string_view::npos) return Truncated();
    *out = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return Status::Ok();
  }

  Result<ValueId> New(Kind kind) {
    std::vector<Value>& values = g_->values;
    if (values.size() >= limits_.max_values)
      return Error(fmt::format("more than {} objects; refusing to go on", limits_.max_values));
    if (values.size() == values.capacity()) Grow();
    Value& v = values.emplace_back();
    v.kind = kind;
    v.offset = op_pos_;
    return static_cast<ValueId>(values.size() - 1);
  }
  // Doubles the value arena into pages mapped in one call (PrefaultForWrite)
  // before the values move there: a pickle of a few hundred kilobytes makes
  // about ten thousand values, whose arena otherwise cost a page fault per
  // 4 KiB at every doubling.
  void Grow() {
    std::vector<Value>& values = g_->values;
    std::vector<Value> bigger;
    bigger.reserve(std::max<size_t>(values.capacity() * 2, 1024));
    PrefaultForWrite(bigger.data(), bigger.capacity() * sizeof(Value));
    std::move(values.begin(), values.end(), std::back_inserter(bigger));
    values.swap(bigger);
  }
  Value& V(ValueId id) { return g_->values[static_cast<size_t>(id)]; }

  // Values decoded from shared (memoized) inputs copy their items or bytes;
  // the total is capped relative to the input so that repeating a GET of a
  // big list or bytes object cannot blow up memory (quadratic amplification).
  Status Charge(const Value& v) {
    *copied_ += v.items.size() * sizeof(ValueId) + v.text.size();
    uint64_t cap = 8 * uint64_t{data_.size()} + (uint64_t{1} << 24);
    if (*copied_ > cap) return Error("the objects it builds are far larger than the file; refusing to go on");
    return Status::Ok();
  }

  Status Push(ValueId id) {
    if (stack_.size() >= limits_.max_stack) return Error("stack too deep");
    stack_.push_back(id);
    return Status::Ok();
  }
  Status PushNew(Kind kind, ValueId* out = nullptr) {
    FB_ASSIGN_OR_RETURN(ValueId id, New(kind));
    if (out) *out = id;
    return Push(id);
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Status Pop(ValueId* out) {
    if (stack_.size() <= Floor()) return Error("stack underflow");
    *out = stack_.back();
    stack_.pop_back();
    return Status::Ok();
  }
  Status Top(ValueId* out) {
    if (stack_.size() <= Floor()) return Error("stack underflow");
    *out = stack_.back();
    return Status::Ok();
  }
  // Pops everything above the last MARK into `out` and removes the mark.
  Status PopMark(std::vector<ValueId>* out) {
    if (marks_.empty()) return Error("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    out->assign(stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return Status::Ok();
  }
  // The memo: indexes below kDenseMemo (pickle numbers them 0, 1, 2, ...)
  // in a vector, any others in a map; memo_entries_ counts both.
  static constexpr uint64_t kDenseMemo = uint64_t{1} << 16;
  ValueId* MemoSlot(uint64_t index, bool create) {
    if (index < kDenseMemo) {
      if (index >= memo_dense_.size()) {
        if (!create) return nullptr;
        memo_dense_.resize(std::max<size_t>(index + 1, memo_dense_.size() * 2), kNoValue);
      }
      return &memo_dense_[index];
    }
    if (create) return &memo_.try_emplace(index, kNoValue).first->second;
    auto it = memo_.find(index);
    return it == memo_.end() ? nullptr : &it->second;
  }
  Status Memo(uint64_t index) {
    ValueId top = kNoValue;
    FB_RETURN_IF_ERROR(Top(&top));
    ValueId* slot = MemoSlot(index, /*create=*/false);
    if (slot == nullptr || *slot == kNoValue) {
      if (memo_entries_ >= limits_.max_memo) return Error("too many memo entries");
      slot = MemoSlot(index, /*create=*/true);
      ++memo_entries_;
    }
    *slot = top;
    return Status::Ok();
  }
  Status Get(uint64_t index) {
    const ValueId* slot = MemoSlot(index, /*create=*/false);
    if (slot == nullptr || *slot == kNoValue)
      return Error(fmt::format("memo entry {} does not exist", index));
    return Push(*slot);
  }
  Status PushInt(int64_t v) {
    ValueId id = kNoValue;
    FB_RETURN_IF_ERROR(PushNew(Kind::kInt, &id));
    V(id).i = v;
    return Status::Ok();
  }
  Status PushText(Kind kind, size_t len_bytes) {
    uint64_t n;
    FB_RETURN_IF_ERROR(ReadUint(len_bytes, &n));
    std::string_view s;
    if (n > data_.size() - pos_) return Truncated();
    FB_RETURN_IF_ERROR(Read(static_cast<size_t>(n), &s));
    ValueId id = kNoValue;
    FB_RETURN_IF_ERROR(PushNew(kind, &id));
    if (kind == Kind::kBytes) {
      V(id).view = s;  // array data, mostly: not copied
    } else {
      V(id).text.assign(s);
    }
    return Status::Ok();
  }
  Status Long(size_t len_bytes);
  Status Global(std::string_view module, std::string_view name);
  Status Sequence(Kind kind, std::vector<ValueId> items) {
    ValueId id = kNoValue;
    FB_RETURN_IF_ERROR(PushNew(kind, &id));
    V(id).items = std::move(items);
    return Status::Ok();
  }
  Status AddItems(ValueId target, const std::vector<ValueId>& items, bool pairs);
  Status Reduce();
  Status NewObj(ValueId cls, ValueId args);
  Status Build();
  Status BuildArrayWrapper(ValueId obj);

  std::string_view data_;
  size_t pos_;
  size_t op_pos_ = 0;
  const UnpickleLimits& limits_;
  PickleGraph* g_;
  bool joblib_;
  uint64_t* copied_;
  std::vector<ValueId> stack_;
  std::vector<size_t> marks_;
  std::vector<ValueId> memo_dense_;
  std::unordered_map<uint64_t, ValueId> memo_;
  size_t memo_entries_ = 0;
  std::vector<ValueId> scratch_;
};

Status Machine::Long(size_t len_bytes) {
  uint64_t n;
  FB_RETURN_IF_ERROR(ReadUint(len_bytes, &n));
  std::string_view b;
  if (n > data_.size() - pos_) return Truncated();
  FB_RETURN_IF_ERROR(Read(static_cast<size_t>(n), &b));
  if (n > 8) {
    // Python writes the minimal two's complement; more than 8 bytes may still
    // fit int64 only with redundant sign bytes, which pickle never writes.
    ValueId id = kNoValue;
    return PushNew(Kind::kBigInt, &id);
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
  if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v |= ~uint64_t{0} << (8 * n);
  return PushInt(static_cast<int64_t>(v));
}

Status Machine::Global(std::string_view module, std::string_view name) {
  GlobalRole role = ClassifyGlobal(module, name);
  if (role == GlobalRole::kForeignClass) {
    return Unsupported(fmt::format(
        "unsupported model: {}.{} (at byte {}): forestbatch reads scikit-learn's own estimators "
        "and XGBoost's scikit-learn wrappers (see docs/sklearn-models.md, docs/xgboost.md); nothing "
        "in the file was run",
        module.substr(0, 100), name.substr(0, 100), op_pos_));
  }
  if (role == GlobalRole::kRejected) {
    std::string shown = fmt::format("{}.{}", module.substr(0, 100), name.substr(0, 100));
    return Error(
        fmt::format("global '{}' is not allowed: forestbatch loads only scikit-learn, numpy and "
                    "joblib objects and never runs code from a model file",
                    shown));
  }
  ValueId id = kNoValue;
  FB_RETURN_IF_ERROR(PushNew(Kind::kGlobal, &id));
  V(id).text = fmt::format("{}.{}", module, name);
  V(id).i = static_cast<int64_t>(role);
  return Status::Ok();
}

Status Machine::AddItems(ValueId target, const std::vector<ValueId>& items, bool pairs) {
  Value& t = V(target);
  if (pairs) {
    if (t.kind != Kind::kDict) return Error(fmt::format("SETITEM(S) on a {}, not a dict", KindName(t.kind)));
    if (items.size() % 2) return Error("SETITEMS with an odd number of items");
  } else if (t.kind != Kind::kList && t.kind != Kind::kSet) {
    return Error(fmt::format("APPEND(S)/ADDITEMS on a {}, not a list or set", KindName(t.kind)));
  }
  t.items.insert(t.items.end(), items.begin(), items.end());
  return Status::Ok();
}

Status Machine::NewObj(ValueId cls, ValueId args) {
  const Value& c = V(cls);
  if (c.kind != Kind::kGlobal) return Error(fmt::format("NEWOBJ on a {}, not a class", KindName(c.kind)));
  auto role = static_cast<GlobalRole>(c.i);
  if (role != GlobalRole::kSklearnClass && role != GlobalRole::kArrayWrapper &&
      role != GlobalRole::kTreeClass && role != GlobalRole::kXgboostClass)
    return Error(fmt::format("NEWOBJ on '{}' is not allowed", c.text));
  if (V(args).kind != Kind::kTuple) return Error("NEWOBJ arguments are not a tuple");
  ValueId id = kNoValue;
  FB_RETURN_IF_ERROR(PushNew(Kind::kObject, &id));
  V(id).cls = cls;
  V(id).args = args;
  return Status::Ok();
}

Status Machine::Reduce() {
  ValueId fn = kNoValue, args = kNoValue;
  FB_RETURN_IF_ERROR(Pop(&args));
  FB_RETURN_IF_ERROR(Pop(&fn));
  const Value& f = V(fn);
  if (f.kind != Kind::kGlobal) return Error(fmt::format("REDUCE on a {}, not a callable", KindName(f.kind)));
  if (V(args).kind != Kind::kTuple) return Error("REDUCE arguments are not a tuple");
  auto role = static_cast<GlobalRole>(f.i);
  switch (role) {
    case GlobalRole::kTreeClass:
    case GlobalRole::kSlice:
    case GlobalRole::kInertCallable: {
      ValueId id = kNoValue;
      FB_RETURN_IF_ERROR(PushNew(Kind::kObject, &id));
      V(id).cls = fn;
      V(id).args = args;
      return Status::Ok();
    }
    case GlobalRole::kOrderedDict:
    case GlobalRole::kSet:
    case GlobalRole::kBytearray:
    case GlobalRole::kCodecsEncode:
    case GlobalRole::kDtype:
    case GlobalRole::kScalar:
    case GlobalRole::kReconstruct:
    case GlobalRole::kFromBuffer: {
      std::string fn_name = f.text;  // New() may move the values
      FB_ASSIGN_OR_RETURN(ValueId id, New(Kind::kNone));
      Status st = ReduceBuiltin(g_, role, fn_name, args, id);
      if (!st.ok()) return Error(st.message());
      FB_RETURN_IF_ERROR(Charge(V(id)));
      return Push(id);
    }
    case GlobalRole::kSklearnClass:
      // Not an attack (nothing is called either way), but nothing this reader
      // knows how to read.
      return Unsupported(
          fmt::format("unsupported model: the file calls {} (REDUCE at byte {}), which forestbatch does not "
                      "read; nothing in the file was run",
                      f.text, op_pos_));
    default: break;
  }
  return Error(
      fmt::format("REDUCE on '{}' is not allowed: forestbatch never calls functions named in a "
                  "model file",
                  f.text));
}

Status Machine::Build() {
  ValueId state = kNoValue, obj = kNoValue;
  FB_RETURN_IF_ERROR(Pop(&state));
  FB_RETURN_IF_ERROR(Top(&obj));
  Value& o = V(obj);
  if (o.kind == Kind::kArray || o.kind == Kind::kDtype) {
    Status st = o.kind == Kind::kArray ? BuildArray(g_, obj, state) : BuildDtype(g_, obj, state);
    if (!st.ok()) return Error(st.message());
    return Charge(V(obj));
  }
  if (o.kind != Kind::kObject) return Error(fmt::format("BUILD on a {}", KindName(o.kind)));
  o.state = state;
  if (static_cast<GlobalRole>(V(o.cls).i) == GlobalRole::kArrayWrapper) return BuildArrayWrapper(obj);
  return Status::Ok();
}

// joblib: the wrapper's state names the array; its bytes follow in the stream.
Status Machine::BuildArrayWrapper(ValueId obj) {
  if (!joblib_) return Error("a joblib NumpyArrayWrapper inside a nested pickle");
  WrapperInfo w;
  Status st = ReadWrapperState(*g_, V(obj).state, &w);
  if (!st.ok()) return Error(st.message());
  const Value& dtype = V(w.dtype);
  Value array;
  array.kind = Kind::kArray;
  array.offset = V(obj).offset;
  array.shape = w.shape;
  array.fortran = w.fortran;
  array.state = w.dtype;
  if (dtype.dtype_kind == 'O') {
    // joblib pickles object arrays as a nested protocol-2 pickle.
    Machine nested(data_, pos_, limits_, g_, /*joblib=*/false, copied_);
    FB_ASSIGN_OR_RETURN(ValueId inner, nested.Run());
    pos_ = nested.pos();
    const Value& a = V(inner);
    if (a.kind != Kind::kArray || V(a.state).dtype_kind != 'O' || a.shape != w.shape)
      return Error("the object array after a NumpyArrayWrapper does not match it");
    array.items = a.items;
  } else {
    if (w.has_alignment) {
      uint64_t pad;
      FB_RETURN_IF_ERROR(ReadUint(1, &pad));
      if (pad > 255) return Error("bad alignment padding");
      std::string_view skip;
      FB_RETURN_IF_ERROR(Read(static_cast<size_t>(pad), &skip));
    }
    if (w.nbytes > data_.size() - pos_)
      return Error(fmt::format("array of {} bytes, but only {} bytes are left in the file", w.nbytes,
                               data_.size() - pos_));
    std::string_view raw;
    FB_RETURN_IF_ERROR(Read(static_cast<size_t>(w.nbytes), &raw));
    array.view = raw;  // not copied: the graph refers to the input
  }
  FB_RETURN_IF_ERROR(Charge(array));
  V(obj) = std::move(array);
  return Status::Ok();
}

Result<ValueId> Machine::Run() {
  while (true) {
    op_pos_ = pos_;
    if (pos_ >= data_.size()) return Error("truncated file: no STOP opcode");
    auto op = static_cast<uint8_t>(data_[pos_++]);
    uint64_t n = 0;
    ValueId a = kNoValue, b = kNoValue, c = kNoValue;
    std::string_view s, s2;
    switch (op) {
      case PROTO:
        FB_RETURN_IF_ERROR(ReadUint(1, &n));
        if (n > 5) return Error(fmt::format("pickle protocol {} is not supported (2 to 5 are)", n));
        break;
      case FRAME:
        FB_RETURN_IF_ERROR(ReadUint(8, &n));
        if (n > data_.size() - pos_) return Truncated();
        break;
      case STOP: {
        ValueId result;
        FB_RETURN_IF_ERROR(Pop(&result));
        return result;
      }
      case MARK:
        if (marks_.size() >= limits_.max_marks) return Error("too deeply nested (MARK)");
        marks_.push_back(stack_.size());
        break;
      case POP:
        if (!marks_.empty() && stack_.size() == marks_.back()) {
          marks_.pop_back();  // pickle's POP of a MARK
        } else {
          FB_RETURN_IF_ERROR(Pop(&a));
        }
        break;
      case POP_MARK: FB_RETURN_IF_ERROR(PopMark(&scratch_)); break;
      case DUP:
        FB_RETURN_IF_ERROR(Top(&a));
        FB_RETURN_IF_ERROR(Push(a));
        break;
      case NONE: FB_RETURN_IF_ERROR(PushNew(Kind::kNone)); break;
      case NEWTRUE:
      case NEWFALSE:
        FB_RETURN_IF_ERROR(PushNew(Kind::kBool, &a));
        V(a).i = op == NEWTRUE;
        break;
      case BININT:
        FB_RETURN_IF_ERROR(ReadUint(4, &n));
        FB_RETURN_IF_ERROR(PushInt(static_cast<int32_t>(static_cast<uint32_t>(n))));
        break;
      case BININT1:
        FB_RETURN_IF_ERROR(ReadUint(1, &n));
        FB_RETURN_IF_ERROR(PushInt(static_cast<int64_t>(n)));
        break;
      case BININT2:
        FB_RETURN_IF_ERROR(ReadUint(2, &n));
        FB_RETURN_IF_ERROR(PushInt(static_cast<int64_t>(n)));
        break;
      case LONG1: FB_RETURN_IF_ERROR(Long(1)); break;
      case LONG4: FB_RETURN_IF_ERROR(Long(4)); break;
      case BINFLOAT: {
        FB_RETURN_IF_ERROR(Read(8, &s));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i)
          bits = (bits << 8) | static_cast<unsigned char>(s[static_cast<size_t>(i)]);
        double d;
        std::memcpy(&d, &bits, 8);
        FB_RETURN_IF_ERROR(PushNew(Kind::kFloat, &a));
        V(a).f = d;
        break;
      }
      case SHORT_BINUNICODE: FB_RETURN_IF_ERROR(PushText(Kind::kStr, 1)); break;
      case BINUNICODE: FB_RETURN_IF_ERROR(PushText(Kind::kStr, 4)); break;
      case BINUNICODE8: FB_RETURN_IF_ERROR(PushText(Kind::kStr, 8)); break;
      case SHORT_BINBYTES:
      case SHORT_BINSTRING: FB_RETURN_IF_ERROR(PushText(Kind::kBytes, 1)); break;
      case BINBYTES:
      case BINSTRING: FB_RETURN_IF_ERROR(PushText(Kind::kBytes, 4)); break;
      case BINBYTES8:
      case BYTEARRAY8: FB_RETURN_IF_ERROR(PushText(Kind::kBytes, 8)); break;
      case EMPTY_TUPLE: FB_RETURN_IF_ERROR(Sequence(Kind::kTuple, {})); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        size_t k = op - TUPLE1 + 1;
        std::vector<ValueId> items(k);
        for (size_t i = k; i-- > 0;) FB_RETURN_IF_ERROR(Pop(&items[i]));
        FB_RETURN_IF_ERROR(Sequence(Kind::kTuple, std::move(items)));
        break;
      }
      case TUPLE:
      case LIST:
      case FROZENSET: {
        std::vector<ValueId> items;
        FB_RETURN_IF_ERROR(PopMark(&items));
        FB_RETURN_IF_ERROR(Sequence(op == TUPLE  ? Kind::kTuple
                                    : op == LIST ? Kind::kList
                                                 : Kind::kSet,
                                    std::move(items)));
        break;
      }
      case DICT: {
        std::vector<ValueId> items;
        FB_RETURN_IF_ERROR(PopMark(&items));
        if (items.size() % 2) return Error("DICT with an odd number of items");
        FB_RETURN_IF_ERROR(Sequence(Kind::kDict, std::move(items)));
        break;
      }
      case EMPTY_LIST: FB_RETURN_IF_ERROR(Sequence(Kind::kList, {})); break;
      case EMPTY_DICT: FB_RETURN_IF_ERROR(Sequence(Kind::kDict, {})); break;
      case EMPTY_SET: FB_RETURN_IF_ERROR(Sequence(Kind::kSet, {})); break;
      case APPEND:
        FB_RETURN_IF_ERROR(Pop(&b));
        FB_RETURN_IF_ERROR(Top(&a));
        FB_RETURN_IF_ERROR(AddItems(a, {b}, false));
        break;
      case SETITEM:
        FB_RETURN_IF_ERROR(Pop(&c));
        FB_RETURN_IF_ERROR(Pop(&b));
        FB_RETURN_IF_ERROR(Top(&a));
        FB_RETURN_IF_ERROR(AddItems(a, {b, c}, true));
        break;
      case APPENDS:
      case SETITEMS:
      case ADDITEMS:
        FB_RETURN_IF_ERROR(PopMark(&scratch_));
        FB_RETURN_IF_ERROR(Top(&a));
        FB_RETURN_IF_ERROR(AddItems(a, scratch_, op == SETITEMS));
        break;
      case GLOBAL:
        FB_RETURN_IF_ERROR(ReadLine(&s));
        FB_RETURN_IF_ERROR(ReadLine(&s2));
        FB_RETURN_IF_ERROR(Global(s, s2));
        break;
      case STACK_GLOBAL: {
        FB_RETURN_IF_ERROR(Pop(&b));
        FB_RETURN_IF_ERROR(Pop(&a));
        if (V(a).kind != Kind::kStr || V(b).kind != Kind::kStr)
          return Error("STACK_GLOBAL needs two strings");
        std::string module = V(a).text, name = V(b).text;
        FB_RETURN_IF_ERROR(Global(module, name));
        break;
      }
      case REDUCE: FB_RETURN_IF_ERROR(Reduce()); break;
      case NEWOBJ:
        FB_RETURN_IF_ERROR(Pop(&b));
        FB_RETURN_IF_ERROR(Pop(&a));
        FB_RETURN_IF_ERROR(NewObj(a, b));
        break;
      case NEWOBJ_EX:
        FB_RETURN_IF_ERROR(Pop(&c));
        FB_RETURN_IF_ERROR(Pop(&b));
        FB_RETURN_IF_ERROR(Pop(&a));
        if (V(c).kind != Kind::kDict || !V(c).items.empty())
          return Error("NEWOBJ_EX with keyword arguments is not supported");
        FB_RETURN_IF_ERROR(NewObj(a, b));
        break;
      case BUILD: FB_RETURN_IF_ERROR(Build()); break;
      case BINPUT:
        FB_RETURN_IF_ERROR(ReadUint(1, &n));
        FB_RETURN_IF_ERROR(Memo(n));
        break;
      case LONG_BINPUT:
        FB_RETURN_IF_ERROR(ReadUint(4, &n));
        FB_RETURN_IF_ERROR(Memo(n));
        break;
      case MEMOIZE: FB_RETURN_IF_ERROR(Memo(memo_entries_)); break;
      case BINGET:
        FB_RETURN_IF_ERROR(ReadUint(1, &n));
        FB_RETURN_IF_ERROR(Get(n));
        break;
      case LONG_BINGET:
        FB_RETURN_IF_ERROR(ReadUint(4, &n));
        FB_RETURN_IF_ERROR(Get(n));
        break;
      case PERSID:
      case BINPERSID: return Error("persistent IDs are not supported (the pickle refers to outside objects)");
      case NEXT_BUFFER:
      case READONLY_BUFFER: return Error("out-of-band buffers (pickle protocol 5) are not supported");
      case EXT1:
      case EXT2:
      case EXT4: return Error("copyreg extension codes are not supported");
      case INST:
      case OBJ: return Error("INST/OBJ (protocol 0/1 instance opcodes) are not allowed");
      case INT:
      case LONG:
      case FLOAT:
      case STRING:
      case UNICODE:
      case GET:
      case PUT:
        return Error(
            fmt::format("text opcode '{}' of pickle protocol 0/1 is not supported; save the model "
                        "with protocol 2 or later",
                        static_cast<char>(op)));
      default: return Error(fmt::format("unknown opcode 0x{:02x}", op));
    }
  }
}

}  // namespace

Result<PickleGraph> Unpickle(std::string_view bytes, const UnpickleLimits& limits) {
  PickleGraph g;
  uint64_t copied = 0;
  Machine m(bytes, 0, limits, &g, /*joblib=*/true, &copied);
  FB_ASSIGN_OR_RETURN(g.root, m.Run());
  return g;
}

}  // namespace fb::pickle
