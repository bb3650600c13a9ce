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

void* Pool::AllocateBytes(size_t bytes) {
  bytes = (bytes + 7) & ~size_t{7};
  if (bytes > left_) {
    // 64 KiB chunks, mapped in one call each; a run beyond a quarter of
    // that gets a chunk of its own (the current one stays in use).
    constexpr size_t kChunk = size_t{64} << 10;
    if (bytes > kChunk / 4) {
      chunks_.push_back(std::make_unique_for_overwrite<std::byte[]>(bytes));
      PrefaultForWrite(chunks_.back().get(), bytes);
      return chunks_.back().get();
    }
    chunks_.push_back(std::make_unique_for_overwrite<std::byte[]>(kChunk));
    PrefaultForWrite(chunks_.back().get(), kChunk);
    next_ = chunks_.back().get();
    left_ = kChunk;
  }
  void* p = next_;
  next_ += bytes;
  left_ -= bytes;
  return p;
}

std::string_view Pool::Copy(std::string_view s) {
  char* p = Allocate<char>(s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

ValueId PickleGraph::Add(Kind kind) {
  constexpr size_t kChunk = size_t{1} << kChunkBits;
  if (size_ == chunks_.size() * kChunk) {
    // Raw storage, its pages mapped in one call (PrefaultForWrite) rather
    // than one fault per 4 KiB; each value is made when it is added.
    storage_.push_back(std::make_unique_for_overwrite<std::byte[]>(kChunk * sizeof(Value)));
    PrefaultForWrite(storage_.back().get(), kChunk * sizeof(Value));
    chunks_.push_back(reinterpret_cast<Value*>(storage_.back().get()));
  }
  Value* v = new (chunks_.back() + (size_ & (kChunk - 1))) Value();
  v->kind = kind;
  return static_cast<ValueId>(size_++);
}

void PickleGraph::Append(ValueId id, const ValueId* items, size_t n) {
  Ids& ids = Slot(id).items;
  const size_t need = ids.size_ + n;
  if (need > ids.capacity_) {
    // Exactly the room needed the first time (most containers are filled
    // by one SETITEMS or APPENDS), then doubling.
    const size_t room = ids.capacity_ == 0 ? need : std::max(need, 2 * size_t{ids.capacity_});
    ValueId* bigger = pool.Allocate<ValueId>(room);
    if (ids.size_ > 0) std::memcpy(bigger, ids.data_, ids.size_ * sizeof(ValueId));
    ids.data_ = bigger;
    ids.capacity_ = static_cast<uint32_t>(room);
  }
  if (n > 0) std::memcpy(ids.data_ + ids.size_, items, n * sizeof(ValueId));
  ids.size_ = static_cast<uint32_t>(need);
}

Ids PickleGraph::MakeIds(const ValueId* items, size_t n) {
  Ids ids;
  if (n == 0) return ids;
  ids.data_ = pool.Allocate<ValueId>(n);
  std::memcpy(ids.data_, items, n * sizeof(ValueId));
  ids.size_ = ids.capacity_ = static_cast<uint32_t>(n);
  return ids;
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

// The steps of the opcodes a model's pickle is made of, inlined into Run's loop.
#define FB_INLINE __attribute__((always_inline)) inline

// What a pickle and the nested pickles joblib writes for object arrays
// share: the bytes charged for copies, and the values Python itself shares
// (None, True, False, the empty tuple, the integers 0 to 255), made once.
struct Shared {
  uint64_t copied = 0;
  ValueId none = kNoValue;
  ValueId bools[2] = {kNoValue, kNoValue};
  ValueId empty_tuple = kNoValue;
  ValueId small_ints[256];
  Shared() { std::fill(std::begin(small_ints), std::end(small_ints), kNoValue); }
};

// The opcode steps return true, or false with the error kept in error_
// (no Status is made or destroyed on the way of a well-formed pickle).
class Machine {
 public:
  Machine(std::string_view data, size_t pos, const UnpickleLimits& limits, PickleGraph* graph, bool joblib,
          Shared* shared)
      : data_(data), pos_(pos), limits_(limits), g_(graph), joblib_(joblib), shared_(shared) {}

  // Runs to STOP; the result is the popped value.
  Result<ValueId> Run();
  size_t pos() const { return pos_; }

 private:
  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }
  bool Error(const std::string& what) {
    return Fail(InvalidData(fmt::format("pickle: {} (opcode at byte {})", what, op_pos_)));
  }
  bool Truncated() {
    return Fail(
        InvalidData(fmt::format("pickle: truncated file: the opcode at byte {} needs more bytes than the "
                                "{} left",
                                op_pos_, data_.size() - pos_)));
  }
  bool Read(size_t n, std::string_view* out) {
    if (n > data_.size() - pos_) [[unlikely]]
      return Truncated();
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  FB_INLINE bool ReadUint(size_t n, uint64_t* out) {
    if (n > data_.size() - pos_) [[unlikely]]
      return Truncated();
    const auto* b = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{b[i]} << (8 * i);
    pos_ += n;
    *out = v;
    return true;
  }
  bool ReadLine(std::string_view* out) {
    size_t nl = data_.find('\n', pos_);
    if (nl == std::string_view::npos) return Truncated();
    *out = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }

  FB_INLINE bool New(Kind kind, ValueId* out) {
    if (g_->size() >= limits_.max_values) [[unlikely]]
      return Error(fmt::format("more than {} objects; refusing to go on", limits_.max_values));
    *out = g_->Add(kind);
    return true;
  }
  Value& V(ValueId id) { return g_->mutable_at(id); }
  // Data made here (not a view of the input) counts towards the cap below.
  bool InInput(std::string_view s) const {
    const auto p = reinterpret_cast<uintptr_t>(s.data()), begin = reinterpret_cast<uintptr_t>(data_.data());
    return p >= begin && p - begin <= data_.size();
  }
  uint64_t MadeBytes(const Value& v) const {
    return v.items.size() * sizeof(ValueId) + (InInput(v.text) ? 0 : v.text.size());
  }

  // Values decoded from shared (memoized) inputs copy their items or bytes;
  // the total is capped relative to the input so that repeating a GET of a
  // big list or bytes object cannot blow up memory (quadratic amplification).
  bool Charge(uint64_t bytes) {
    shared_->copied += bytes;
    uint64_t cap = 8 * uint64_t{data_.size()} + (uint64_t{1} << 24);
    if (shared_->copied > cap)
      return Error("the objects it builds are far larger than the file; refusing to go on");
    return true;
  }

  FB_INLINE bool Push(ValueId id) {
    if (stack_.size() >= limits_.max_stack) [[unlikely]]
      return Error("stack too deep");
    stack_.push_back(id);
    return true;
  }
  FB_INLINE bool PushNew(Kind kind, ValueId* out) {
    if (!New(kind, out)) return false;
    return Push(*out);
  }
  // One value for each of None, True, False, the empty tuple and the small
  // integers (nothing changes them: BUILD, APPEND and SETITEM refuse them).
  FB_INLINE bool PushShared(ValueId* slot, Kind kind, int64_t i) {
    if (*slot == kNoValue) {
      if (!New(kind, slot)) return false;
      V(*slot).i = i;
    }
    return Push(*slot);
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  FB_INLINE bool Pop(ValueId* out) {
    if (stack_.size() <= Floor()) [[unlikely]]
      return Error("stack underflow");
    *out = stack_.back();
    stack_.pop_back();
    return true;
  }
  FB_INLINE bool Top(ValueId* out) {
    if (stack_.size() <= Floor()) [[unlikely]]
      return Error("stack underflow");
    *out = stack_.back();
    return true;
  }
  // Everything above the last MARK: `*first` and `*count` locate it on the
  // stack until DropMark removes it with the mark.
  bool Marked(size_t* first, size_t* count) {
    if (marks_.empty()) [[unlikely]]
      return Error("no MARK on the stack");
    *first = marks_.back();
    *count = stack_.size() - *first;
    return true;
  }
  void DropMark() {
    stack_.resize(marks_.back());
    marks_.pop_back();
  }
  // The memo: indexes below kDenseMemo (pickle numbers them 0, 1, 2, ...)
  // in a vector, any others in a map; memo_entries_ counts both.
  static constexpr uint64_t kDenseMemo = uint64_t{1} << 16;
  FB_INLINE ValueId* MemoSlot(uint64_t index, bool create) {
    if (index < kDenseMemo) {
      if (index >= memo_dense_.size()) {
        if (!create) return nullptr;
        memo_dense_.resize(std::max<size_t>(index + 1, std::max<size_t>(memo_dense_.size() * 2, 256)),
                           kNoValue);
      }
      return &memo_dense_[index];
    }
    if (create) return &memo_.try_emplace(index, kNoValue).first->second;
    auto it = memo_.find(index);
    return it == memo_.end() ? nullptr : &it->second;
  }
  FB_INLINE bool Memo(uint64_t index) {
    ValueId top = kNoValue;
    if (!Top(&top)) return false;
    ValueId* slot = MemoSlot(index, /*create=*/false);
    if (slot == nullptr || *slot == kNoValue) {
      if (memo_entries_ >= limits_.max_memo) return Error("too many memo entries");
      slot = MemoSlot(index, /*create=*/true);
      ++memo_entries_;
    }
    *slot = top;
    return true;
  }
  FB_INLINE bool Get(uint64_t index) {
    const ValueId* slot = MemoSlot(index, /*create=*/false);
    if (slot == nullptr || *slot == kNoValue) [[unlikely]]
      return Error(fmt::format("memo entry {} does not exist", index));
    return Push(*slot);
  }
  FB_INLINE bool PushInt(int64_t v) {
    if (v >= 0 && v < 256) return PushShared(&shared_->small_ints[v], Kind::kInt, v);
    ValueId id = kNoValue;
    if (!PushNew(Kind::kInt, &id)) return false;
    V(id).i = v;
    return true;
  }
  bool PushText(Kind kind, size_t len_bytes) {
    uint64_t n = 0;
    if (!ReadUint(len_bytes, &n)) return false;
    std::string_view s;
    if (n > data_.size() - pos_) return Truncated();
    if (!Read(static_cast<size_t>(n), &s)) return false;
    ValueId id = kNoValue;
    if (!PushNew(kind, &id)) return false;
    V(id).text = s;  // not copied: the graph refers to the input
    return true;
  }
  bool Long(size_t len_bytes);
  bool Global(std::string_view module, std::string_view name);
  // A new tuple, list, set or dict of the `count` ids at `items`.
  bool Sequence(Kind kind, const ValueId* items, size_t count) {
    ValueId id = kNoValue;
    if (!New(kind, &id)) return false;
    V(id).items = g_->MakeIds(items, count);
    return Push(id);
  }
  // Sequence of what is above the last MARK, which it removes.
  bool SequenceOfMarked(Kind kind, bool pairs) {
    size_t first = 0, count = 0;
    if (!Marked(&first, &count)) return false;
    if (pairs && count % 2) return Error("DICT with an odd number of items");
    ValueId id = kNoValue;
    if (!New(kind, &id)) return false;
    V(id).items = g_->MakeIds(stack_.data() + first, count);
    DropMark();
    return Push(id);
  }
  bool AddItems(ValueId target, const ValueId* items, size_t count, bool pairs);
  bool AddMarked(bool pairs);
  bool Reduce();
  bool NewObj(ValueId cls, ValueId args);
  bool Build();
  bool BuildArrayWrapper(ValueId obj);

  std::string_view data_;
  size_t pos_;
  size_t op_pos_ = 0;
  const UnpickleLimits& limits_;
  PickleGraph* g_;
  bool joblib_;
  Shared* shared_;
  Status error_;
  std::vector<ValueId> stack_;
  std::vector<size_t> marks_;
  std::vector<ValueId> memo_dense_;
  std::unordered_map<uint64_t, ValueId> memo_;
  size_t memo_entries_ = 0;
};

bool Machine::Long(size_t len_bytes) {
  uint64_t n = 0;
  if (!ReadUint(len_bytes, &n)) return false;
  std::string_view b;
  if (n > data_.size() - pos_) return Truncated();
  if (!Read(static_cast<size_t>(n), &b)) return false;
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

bool Machine::Global(std::string_view module, std::string_view name) {
  GlobalRole role = ClassifyGlobal(module, name);
  if (role == GlobalRole::kForeignClass) {
    return Fail(Unsupported(fmt::format(
        "unsupported model: {}.{} (at byte {}): forestbatch reads scikit-learn's own estimators "
        "and XGBoost's scikit-learn wrappers (see docs/sklearn-models.md, docs/xgboost.md); nothing "
        "in the file was run",
        module.substr(0, 100), name.substr(0, 100), op_pos_)));
  }
  if (role == GlobalRole::kRejected) {
    std::string shown = fmt::format("{}.{}", module.substr(0, 100), name.substr(0, 100));
    return Error(
        fmt::format("global '{}' is not allowed: forestbatch loads only scikit-learn, numpy and "
                    "joblib objects and never runs code from a model file",
                    shown));
  }
  ValueId id = kNoValue;
  if (!PushNew(Kind::kGlobal, &id)) return false;
  V(id).text = g_->pool.Copy(fmt::format("{}.{}", module, name));
  V(id).i = static_cast<int64_t>(role);
  return true;
}

bool Machine::AddItems(ValueId target, const ValueId* items, size_t count, bool pairs) {
  const Value& t = V(target);
  if (pairs) {
    if (t.kind != Kind::kDict) return Error(fmt::format("SETITEM(S) on a {}, not a dict", KindName(t.kind)));
    if (count % 2) return Error("SETITEMS with an odd number of items");
  } else if (t.kind != Kind::kList && t.kind != Kind::kSet) {
    return Error(fmt::format("APPEND(S)/ADDITEMS on a {}, not a list or set", KindName(t.kind)));
  }
  // Ids count in 32 bits and grow by doubling: 2^30 at most, whatever the limit says.
  const size_t max_items = std::min<size_t>(limits_.max_items, size_t{1} << 30);
  if (count > max_items - t.items.size())
    return Error(fmt::format("a {} of more than {} items", KindName(t.kind), max_items));
  g_->Append(target, items, count);
  return true;
}

// APPENDS, SETITEMS, ADDITEMS: what is above the last MARK into the value below it.
bool Machine::AddMarked(bool pairs) {
  size_t first = 0, count = 0;
  if (!Marked(&first, &count)) return false;
  // The target lies below the mark (Top after the mark is gone, as before).
  const size_t floor = marks_.size() >= 2 ? marks_[marks_.size() - 2] : 0;
  if (first <= floor) return Error("stack underflow");
  ValueId target = stack_[first - 1];
  if (!AddItems(target, stack_.data() + first, count, pairs)) return false;
  DropMark();
  return true;
}

bool Machine::NewObj(ValueId cls, ValueId args) {
  const Value& c = V(cls);
  if (c.kind != Kind::kGlobal) return Error(fmt::format("NEWOBJ on a {}, not a class", KindName(c.kind)));
  auto role = static_cast<GlobalRole>(c.i);
  if (role != GlobalRole::kSklearnClass && role != GlobalRole::kArrayWrapper &&
      role != GlobalRole::kTreeClass && role != GlobalRole::kXgboostClass)
    return Error(fmt::format("NEWOBJ on '{}' is not allowed", c.text));
  if (V(args).kind != Kind::kTuple) return Error("NEWOBJ arguments are not a tuple");
  ValueId id = kNoValue;
  if (!PushNew(Kind::kObject, &id)) return false;
  V(id).cls = cls;
  V(id).args = args;
  return true;
}

bool Machine::Reduce() {
  ValueId fn = kNoValue, args = kNoValue;
  if (!Pop(&args) || !Pop(&fn)) return false;
  const Value& f = V(fn);
  if (f.kind != Kind::kGlobal) return Error(fmt::format("REDUCE on a {}, not a callable", KindName(f.kind)));
  if (V(args).kind != Kind::kTuple) return Error("REDUCE arguments are not a tuple");
  auto role = static_cast<GlobalRole>(f.i);
  switch (role) {
    case GlobalRole::kTreeClass:
    case GlobalRole::kSlice:
    case GlobalRole::kInertCallable: {
      ValueId id = kNoValue;
      if (!PushNew(Kind::kObject, &id)) return false;
      V(id).cls = fn;
      V(id).args = args;
      return true;
    }
    case GlobalRole::kOrderedDict:
    case GlobalRole::kSet:
    case GlobalRole::kBytearray:
    case GlobalRole::kCodecsEncode:
    case GlobalRole::kDtype:
    case GlobalRole::kScalar:
    case GlobalRole::kReconstruct:
    case GlobalRole::kFromBuffer: {
      ValueId id = kNoValue;
      if (!New(Kind::kNone, &id)) return false;
      Status st = ReduceBuiltin(g_, role, std::string(f.text), args, id);
      if (!st.ok()) return Error(st.message());
      if (!Charge(MadeBytes(V(id)))) return false;
      return Push(id);
    }
    case GlobalRole::kSklearnClass:
      // Not an attack (nothing is called either way), but nothing this reader
      // knows how to read.
      return Fail(Unsupported(
          fmt::format("unsupported model: the file calls {} (REDUCE at byte {}), which forestbatch does not "
                      "read; nothing in the file was run",
                      f.text, op_pos_)));
    default: break;
  }
  return Error(
      fmt::format("REDUCE on '{}' is not allowed: forestbatch never calls functions named in a "
                  "model file",
                  f.text));
}

bool Machine::Build() {
  ValueId state = kNoValue, obj = kNoValue;
  if (!Pop(&state) || !Top(&obj)) return false;
  Value& o = V(obj);
  if (o.kind == Kind::kArray || o.kind == Kind::kDtype) {
    Status st = o.kind == Kind::kArray ? BuildArray(g_, obj, state) : BuildDtype(g_, obj, state);
    if (!st.ok()) return Error(st.message());
    return Charge(MadeBytes(V(obj)));
  }
  if (o.kind != Kind::kObject) return Error(fmt::format("BUILD on a {}", KindName(o.kind)));
  o.state = state;
  if (static_cast<GlobalRole>(V(o.cls).i) == GlobalRole::kArrayWrapper) return BuildArrayWrapper(obj);
  return true;
}

// joblib: the wrapper's state names the array; its bytes follow in the stream.
bool Machine::BuildArrayWrapper(ValueId obj) {
  if (!joblib_) return Error("a joblib NumpyArrayWrapper inside a nested pickle");
  WrapperInfo w;
  Status st = ReadWrapperState(g_, V(obj).state, &w);
  if (!st.ok()) return Error(st.message());
  const Value& dtype = V(w.dtype);
  Value array;
  array.kind = Kind::kArray;
  array.shape = w.shape;
  array.fortran = w.fortran;
  array.state = w.dtype;
  if (dtype.dtype_kind == 'O') {
    // joblib pickles object arrays as a nested protocol-2 pickle.
    Machine nested(data_, pos_, limits_, g_, /*joblib=*/false, shared_);
    Result<ValueId> inner = nested.Run();
    if (!inner.ok()) return Fail(std::move(inner).take_status());
    pos_ = nested.pos();
    const Value& a = V(*inner);
    if (a.kind != Kind::kArray || V(a.state).dtype_kind != 'O' || !std::ranges::equal(a.shape, w.shape))
      return Error("the object array after a NumpyArrayWrapper does not match it");
    array.items = a.items.Shared();
  } else {
    if (w.has_alignment) {
      uint64_t pad = 0;
      if (!ReadUint(1, &pad)) return false;
      if (pad > 255) return Error("bad alignment padding");
      std::string_view skip;
      if (!Read(static_cast<size_t>(pad), &skip)) return false;
    }
    if (w.nbytes > data_.size() - pos_)
      return Error(fmt::format("array of {} bytes, but only {} bytes are left in the file", w.nbytes,
                               data_.size() - pos_));
    std::string_view raw;
    if (!Read(static_cast<size_t>(w.nbytes), &raw)) return false;
    array.text = raw;  // not copied: the graph refers to the input
  }
  if (!Charge(MadeBytes(array))) return false;
  V(obj) = array;
  return true;
}

Result<ValueId> Machine::Run() {
  // Each case leaves `ok` false, with error_ set, when the pickle is broken.
  while (true) {
    op_pos_ = pos_;
    if (pos_ >= data_.size()) {
      Error("truncated file: no STOP opcode");
      return std::move(error_);
    }
    auto op = static_cast<uint8_t>(data_[pos_++]);
    uint64_t n = 0;
    ValueId a = kNoValue, b = kNoValue, c = kNoValue;
    std::string_view s, s2;
    bool ok = true;
    switch (op) {
      case PROTO:
        ok = ReadUint(1, &n);
        if (ok && n > 5) ok = Error(fmt::format("pickle protocol {} is not supported (2 to 5 are)", n));
        break;
      case FRAME:
        ok = ReadUint(8, &n);
        if (ok && n > data_.size() - pos_) ok = Truncated();
        break;
      case STOP:
        if (!Pop(&a)) return std::move(error_);
        return a;
      case MARK:
        if (marks_.size() >= limits_.max_marks) {
          ok = Error("too deeply nested (MARK)");
        } else {
          marks_.push_back(stack_.size());
        }
        break;
      case POP:
        if (!marks_.empty() && stack_.size() == marks_.back()) {
          marks_.pop_back();  // pickle's POP of a MARK
        } else {
          ok = Pop(&a);
        }
        break;
      case POP_MARK: {
        size_t first = 0, count = 0;
        ok = Marked(&first, &count);
        if (ok) DropMark();
        break;
      }
      case DUP: ok = Top(&a) && Push(a); break;
      case NONE: ok = PushShared(&shared_->none, Kind::kNone, 0); break;
      case NEWTRUE:
      case NEWFALSE: {
        const bool value = op == NEWTRUE;
        ok = PushShared(&shared_->bools[value], Kind::kBool, value);
        break;
      }
      case BININT: ok = ReadUint(4, &n) && PushInt(static_cast<int32_t>(static_cast<uint32_t>(n))); break;
      case BININT1: ok = ReadUint(1, &n) && PushInt(static_cast<int64_t>(n)); break;
      case BININT2: ok = ReadUint(2, &n) && PushInt(static_cast<int64_t>(n)); break;
      case LONG1: ok = Long(1); break;
      case LONG4: ok = Long(4); break;
      case BINFLOAT: {
        ok = Read(8, &s);
        if (!ok) break;
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i)
          bits = (bits << 8) | static_cast<unsigned char>(s[static_cast<size_t>(i)]);
        double d;
        std::memcpy(&d, &bits, 8);
        ok = PushNew(Kind::kFloat, &a);
        if (ok) V(a).f = d;
        break;
      }
      case SHORT_BINUNICODE: ok = PushText(Kind::kStr, 1); break;
      case BINUNICODE: ok = PushText(Kind::kStr, 4); break;
      case BINUNICODE8: ok = PushText(Kind::kStr, 8); break;
      case SHORT_BINBYTES:
      case SHORT_BINSTRING: ok = PushText(Kind::kBytes, 1); break;
      case BINBYTES:
      case BINSTRING: ok = PushText(Kind::kBytes, 4); break;
      case BINBYTES8:
      case BYTEARRAY8: ok = PushText(Kind::kBytes, 8); break;
      case EMPTY_TUPLE: ok = PushShared(&shared_->empty_tuple, Kind::kTuple, 0); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        size_t k = op - TUPLE1 + 1;
        ValueId items[3];
        for (size_t i = k; ok && i-- > 0;) ok = Pop(&items[i]);
        if (ok) ok = Sequence(Kind::kTuple, items, k);
        break;
      }
      case TUPLE: ok = SequenceOfMarked(Kind::kTuple, false); break;
      case LIST: ok = SequenceOfMarked(Kind::kList, false); break;
      case FROZENSET: ok = SequenceOfMarked(Kind::kSet, false); break;
      case DICT: ok = SequenceOfMarked(Kind::kDict, true); break;
      case EMPTY_LIST: ok = Sequence(Kind::kList, nullptr, 0); break;
      case EMPTY_DICT: ok = Sequence(Kind::kDict, nullptr, 0); break;
      case EMPTY_SET: ok = Sequence(Kind::kSet, nullptr, 0); break;
      case APPEND: ok = Pop(&b) && Top(&a) && AddItems(a, &b, 1, false); break;
      case SETITEM: {
        ValueId pair[2];
        ok = Pop(&c) && Pop(&b) && Top(&a);
        pair[0] = b;
        pair[1] = c;
        if (ok) ok = AddItems(a, pair, 2, true);
        break;
      }
      case APPENDS:
      case ADDITEMS: ok = AddMarked(false); break;
      case SETITEMS: ok = AddMarked(true); break;
      case GLOBAL: ok = ReadLine(&s) && ReadLine(&s2) && Global(s, s2); break;
      case STACK_GLOBAL: {
        ok = Pop(&b) && Pop(&a);
        if (!ok) break;
        if (V(a).kind != Kind::kStr || V(b).kind != Kind::kStr) {
          ok = Error("STACK_GLOBAL needs two strings");
          break;
        }
        ok = Global(V(a).text, V(b).text);
        break;
      }
      case REDUCE: ok = Reduce(); break;
      case NEWOBJ: ok = Pop(&b) && Pop(&a) && NewObj(a, b); break;
      case NEWOBJ_EX:
        ok = Pop(&c) && Pop(&b) && Pop(&a);
        if (!ok) break;
        if (V(c).kind != Kind::kDict || !V(c).items.empty()) {
          ok = Error("NEWOBJ_EX with keyword arguments is not supported");
          break;
        }
        ok = NewObj(a, b);
        break;
      case BUILD: ok = Build(); break;
      case BINPUT: ok = ReadUint(1, &n) && Memo(n); break;
      case LONG_BINPUT: ok = ReadUint(4, &n) && Memo(n); break;
      case MEMOIZE: ok = Memo(memo_entries_); break;
      case BINGET: ok = ReadUint(1, &n) && Get(n); break;
      case LONG_BINGET: ok = ReadUint(4, &n) && Get(n); break;
      case PERSID:
      case BINPERSID:
        ok = Error("persistent IDs are not supported (the pickle refers to outside objects)");
        break;
      case NEXT_BUFFER:
      case READONLY_BUFFER: ok = Error("out-of-band buffers (pickle protocol 5) are not supported"); break;
      case EXT1:
      case EXT2:
      case EXT4: ok = Error("copyreg extension codes are not supported"); break;
      case INST:
      case OBJ: ok = Error("INST/OBJ (protocol 0/1 instance opcodes) are not allowed"); break;
      case INT:
      case LONG:
      case FLOAT:
      case STRING:
      case UNICODE:
      case GET:
      case PUT:
        ok =
            Error(fmt::format("text opcode '{}' of pickle protocol 0/1 is not supported; save the model "
                              "with protocol 2 or later",
                              static_cast<char>(op)));
        break;
      default: ok = Error(fmt::format("unknown opcode 0x{:02x}", op)); break;
    }
    if (!ok) [[unlikely]]
      return std::move(error_);
  }
}

}  // namespace

Result<PickleGraph> Unpickle(std::string_view bytes, const UnpickleLimits& limits) {
  PickleGraph g;
  Shared shared;
  Machine m(bytes, 0, limits, &g, /*joblib=*/true, &shared);
  FB_ASSIGN_OR_RETURN(g.root, m.Run());
  return g;
}

}  // namespace fb::pickle
