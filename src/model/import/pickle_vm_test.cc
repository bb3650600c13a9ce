// The pickle reader on hand-built byte strings: each opcode family, and
// hostile inputs that must give clear errors (never a crash or a hang).
#include "model/import/pickle_vm.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <sstream>
#include <string>

#include "model/import/model_loader.h"
#include "model/import/pickle_numpy.h"

namespace fb::pickle {
namespace {

using namespace std::string_literals;

std::string Le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string P2(const std::string& body) { return "\x80\x02"s + body + "."; }
std::string ShortStr(const std::string& s) { return "\x8c"s + static_cast<char>(s.size()) + s; }

// A graph refers to the bytes it was read from (bytes and array data are not
// copied): the inputs are kept for the whole test program.
Result<PickleGraph> Load(const std::string& bytes, const UnpickleLimits& limits = {}) {
  static std::deque<std::string> inputs;
  return Unpickle(inputs.emplace_back(bytes), limits);
}

const Value& Root(const PickleGraph& g) { return g.at(g.root); }

void ExpectError(const std::string& bytes, const std::string& text, const UnpickleLimits& limits = {},
                 StatusCode code = StatusCode::kInvalidData) {
  auto r = Load(bytes, limits);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << text;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(text), std::string::npos)
      << r.status().message() << " / wanted: " << text;
}

TEST(PickleVm, Integers) {
  struct C {
    std::string body;
    int64_t want;
  } cases[] = {
      {"K\xff", 255},
      {"M\x34\x12", 0x1234},
      {"J" + Le(static_cast<uint32_t>(-5), 4), -5},
      {"\x8a\x01\xff", -1},
      {"\x8a\x08" + Le(0x7fffffffffffffffull, 8), INT64_MAX},
      {"\x8a\x08" + Le(0x8000000000000000ull, 8), INT64_MIN},
      {"\x8a\x00"s, 0},
      {"\x8b" + Le(2, 4) + "\x00\x80"s, -32768},
  };
  for (const auto& c : cases) {
    auto g = Load(P2(c.body));
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_EQ(Root(*g).kind, Kind::kInt);
    EXPECT_EQ(Root(*g).i, c.want);
  }
  auto big = Load(P2("\x8a\x09" + std::string(9, '\x01')));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(Root(*big).kind, Kind::kBigInt);
}

TEST(PickleVm, FloatsNoneBools) {
  auto g = Load(P2("G\x3f\xf8\x00\x00\x00\x00\x00\x00"s));  // 1.5 big-endian
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).f, 1.5);
  g = Load(P2("N\x88\x89\x87"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value& t = Root(*g);
  ASSERT_EQ(t.items.size(), 3u);
  EXPECT_EQ(g->at(t.items[0]).kind, Kind::kNone);
  EXPECT_EQ(g->at(t.items[1]).i, 1);
  EXPECT_EQ(g->at(t.items[2]).i, 0);
}

TEST(PickleVm, StringsAndBytes) {
  struct C {
    std::string body;
    Kind kind;
  } cases[] = {
      {"\x8c\x03"
       "abc",
       Kind::kStr},
      {"X" + Le(3, 4) + "abc", Kind::kStr},
      {"\x8d" + Le(3, 8) + "abc", Kind::kStr},
      {"C\x03"
       "abc",
       Kind::kBytes},
      {"B" + Le(3, 4) + "abc", Kind::kBytes},
      {"\x8e" + Le(3, 8) + "abc", Kind::kBytes},
      {"\x96" + Le(3, 8) + "abc", Kind::kBytes},
      {"U\x03"
       "abc",
       Kind::kBytes},
  };
  for (const auto& c : cases) {
    auto g = Load("\x80\x05" + c.body + ".");
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_EQ(Root(*g).kind, c.kind);
    EXPECT_EQ(Root(*g).bytes(), "abc");
  }
  // Protocol 2 bytes: _codecs.encode(u'\xe9', 'latin1').
  auto g = Load(P2("c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1\x86R"s));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kBytes);
  EXPECT_EQ(Root(*g).bytes(), "\xe9");
}

TEST(PickleVm, Containers) {
  // [1, 2, 3] via EMPTY_LIST APPEND + MARK APPENDS; (1, 2) via MARK TUPLE;
  // {'a': 1, 'b': 2} via SETITEM + SETITEMS; set via EMPTY_SET ADDITEMS.
  auto g =
      Load(P2("]K\x01"
              "a(K\x02K\x03"
              "e"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kList);
  EXPECT_EQ(Root(*g).items.size(), 3u);
  g = Load(P2("(K\x01K\x02t"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kTuple);
  EXPECT_EQ(Root(*g).items.size(), 2u);
  g = Load(P2("}" + ShortStr("a") + "K\x01s(" + ShortStr("b") + "K\x02u"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kDict);
  EXPECT_EQ(g->at(DictGet(*g, g->root, "b")).i, 2);
  g =
      Load(P2("(K\x01K\x02"
              "d"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kDict);
  g = Load("\x80\x04\x8f(K\x01K\x02\x90.");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kSet);
  EXPECT_EQ(Root(*g).items.size(), 2u);
  g = Load("\x80\x04(K\x01\x91.");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kSet);
  g = Load(P2("(K\x01K\x02l"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kList);
  // POP, POP_MARK, DUP.
  g =
      Load(P2("K\x01K\x02"
              "0(K\x03K\x04"
              "12\x86"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(Root(*g).items.size(), 2u);
  EXPECT_EQ(Root(*g).items[0], Root(*g).items[1]);
}

TEST(PickleVm, MemoSharesObjects) {
  // l = []; t = (l, l); l.append(7) through the memo: both see it.
  auto g = Load(
      "\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94h\x00h\x00\x86\x94h\x00K\x07"
      "a0."s);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value& t = Root(*g);
  ASSERT_EQ(t.kind, Kind::kTuple);
  EXPECT_EQ(t.items[0], t.items[1]);
  EXPECT_EQ(g->at(t.items[0]).items.size(), 1u);
  g =
      Load(P2("K\x05q\x07"
              "0h\x07"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).i, 5);
  g = Load(P2("K\x05r" + Le(70000, 4) + "0j" + Le(70000, 4)));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).i, 5);
  // A PUT again replaces the entry; MEMOIZE numbers an entry by how many
  // there are, whether small or large indexes (kept in a vector and a map).
  g = Load(P2("K\x05q\x00"s + "0K\x06q\x00"s + "0h\x00"s));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).i, 6);
  g = Load("\x80\x04Nr"s + Le(70000, 4) + "0K\x07\x94"s + "0h\x01."s);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).i, 7);
  UnpickleLimits two;
  two.max_memo = 2;
  g = Load(P2("Nq\x00q\x00q\x00r"s + Le(70000, 4) + "r"s + Le(70000, 4) + "0K\x01h\x00"s), two);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ExpectError(P2("Nq\x00r"s + Le(70000, 4) + "q\x01"s), "too many memo entries", two);
  ExpectError(P2("Nq\x00"s + "0h\x01"s), "memo entry 1 does not exist");
  ExpectError(P2("Nq\x03"s + "0h\x02"s), "memo entry 2 does not exist");
}

TEST(PickleVm, NumpyDtypeScalarAndArrays) {
  // numpy.dtype('f8') with BUILD state, then numpy scalar(dtype, bytes).
  std::string dtype_f8 =
      "cnumpy\ndtype\nX\x02\x00\x00\x00"
      "f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ"s +
      Le(0xffffffff, 4) + "J" + Le(0xffffffff, 4) + "K\x00tb"s;
  auto g = Load(
      P2("cnumpy.core.multiarray\nscalar\n" + dtype_f8 + "C\x08" + Le(0x3ff8000000000000ull, 8) + "\x86R"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kFloat);
  EXPECT_EQ(Root(*g).f, 1.5);
  // _reconstruct(ndarray, (0,), b'b') + BUILD (1, (2,), dtype, False, data).
  std::string arr =
      "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
      "C\x01"
      "b\x87R(K\x01K\x02\x85"s +
      dtype_f8 +
      "\x89"
      "C\x10" +
      Le(0x3ff0000000000000ull, 8) + Le(0x4000000000000000ull, 8) + "tb";
  g = Load(P2(arr));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kArray);
  EXPECT_EQ(std::vector<int64_t>(Root(*g).shape.begin(), Root(*g).shape.end()), std::vector<int64_t>{2});
  EXPECT_EQ(Root(*g).bytes().size(), 16u);
  // Data of the wrong size is refused.
  std::string bad = arr;
  bad.replace(bad.find("C\x10"), 2, "C\x08");
  bad.erase(bad.size() - 3 - 8, 8);
  ExpectError(P2(bad), "does not match");
}

TEST(PickleVm, SklearnObjectsAreInert) {
  auto g =
      Load(P2("csklearn.tree._classes\nDecisionTreeClassifier\n)\x81}" + ShortStr("max_depth") + "K\x03sb"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value& o = Root(*g);
  EXPECT_EQ(o.kind, Kind::kObject);
  EXPECT_EQ(g->at(o.cls).text, "sklearn.tree._classes.DecisionTreeClassifier");
  EXPECT_EQ(g->at(DictGet(*g, o.state, "max_depth")).i, 3);
  // STACK_GLOBAL + NEWOBJ_EX with empty kwargs.
  g = Load("\x80\x04" + ShortStr("sklearn.pipeline") + ShortStr("Pipeline") + "\x93)}\x92.");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kObject);
}

TEST(PickleVm, RejectsForbiddenGlobals) {
  ExpectError(P2("cos\nsystem\nX\x02\x00\x00\x00id\x85R"), "global 'os.system' is not allowed");
  ExpectError(P2("cos\nsystem\n"), "(opcode at byte 2)");
  ExpectError("\x80\x04" + ShortStr("builtins") + ShortStr("eval") + "\x93.",
              "'builtins.eval' is not allowed");
  ExpectError(P2("cposix\nsystem\n"), "posix.system");
  ExpectError(P2("csubprocess\nPopen\n"), "subprocess.Popen");
  // Allowed as data, but never callable: calling another scikit-learn
  // function is an unsupported model (exit 4), not an attack.
  ExpectError(P2("csklearn.utils\n_print_elapsed_time\n)R"),
              "unsupported model: the file calls sklearn.utils._print_elapsed_time", {},
              StatusCode::kUnsupported);
  ExpectError(P2("cnumpy\nndarray\n)\x81"), "NEWOBJ on 'numpy.ndarray' is not allowed");
  ExpectError(P2("csklearn.x\nY\n)R"), "unsupported model: the file calls sklearn.x.Y", {},
              StatusCode::kUnsupported);
  // Type references are data; calling them is not allowed.
  ExpectError(P2("cnumpy\nfloat64\n)R"), "REDUCE on 'numpy.float64' is not allowed");
  ExpectError(P2("cbuiltins\nobject\n)\x81"), "NEWOBJ on 'builtins.object' is not allowed");
  // Another library's class: unsupported (exit 4), naming it; its functions
  // stay refused as unsafe.
  ExpectError(P2("cxgboost.dask\nDaskXGBClassifier\n)\x81"),
              "unsupported model: xgboost.dask.DaskXGBClassifier", {}, StatusCode::kUnsupported);
  ExpectError(P2("cxgboost.core\nDMatrix\n)\x81"), "unsupported model: xgboost.core.DMatrix", {},
              StatusCode::kUnsupported);
  // XGBoost's scikit-learn wrappers and Booster are inert records; calling
  // them or any xgboost function is refused.
  ASSERT_TRUE(Load(P2("cxgboost.sklearn\nXGBClassifier\n)\x81")).ok());
  ASSERT_TRUE(Load(P2("cxgboost.core\nBooster\n)\x81")).ok());
  ExpectError(P2("cxgboost.core\nBooster\n)R"), "REDUCE on 'xgboost.core.Booster' is not allowed");
  ExpectError(P2("cxgboost.core\n_load_lib\n)R"), "global 'xgboost.core._load_lib' is not allowed");
  ExpectError(P2("cpandas\neval\n"), "global 'pandas.eval' is not allowed");
  // numpy functions (FunctionTransformer(np.log1p)) are references, never called.
  auto fn = Load(P2("cnumpy.core._multiarray_umath\nlog1p\n"));
  ASSERT_TRUE(fn.ok()) << fn.status().ToString();
  ExpectError(P2("cnumpy\nload\nK\x01\x85R"), "REDUCE on 'numpy.load' is not allowed");
  ExpectError(P2("cpandas.io.x\n../Y\n"), "is not allowed");
  // Module names that are not plain dotted identifiers are not scikit-learn's.
  ExpectError(P2("csklearn.../os\nsystem\n"), "is not allowed");
  ExpectError(P2("N)R"), "REDUCE on a None");
  ExpectError(P2("K\x01)\x81"), "NEWOBJ on a int");
}

TEST(PickleVm, TypeReferencesSlicesAndLossUnpicklersAreData) {
  // dtype=numpy.float64 as an attribute: a global value, nothing called.
  auto g = Load(P2("cnumpy\nfloat64\n"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kGlobal);
  EXPECT_EQ(Root(*g).text, "numpy.float64");
  // slice(1, 3, None): an inert record of its arguments.
  g = Load(P2("cbuiltins\nslice\nK\x01K\x03N\x87R"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kObject);
  EXPECT_EQ(g->at(Root(*g).args).items.size(), 3u);
  // A Cython loss unpickler: REDUCE records (class, checksum, state).
  g = Load(
      P2("csklearn._loss._loss\n__pyx_unpickle_CyHalfBinomialLoss\ncsklearn._loss._loss\nCyHalfBinomialLoss\n"
         "J\x01\x02\x03\x04N\x87R"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Root(*g).kind, Kind::kObject);
  EXPECT_EQ(g->at(Root(*g).cls).text, "sklearn._loss._loss.__pyx_unpickle_CyHalfBinomialLoss");
  // Only the loss unpicklers: other Cython unpicklers are not read.
  ExpectError(P2("csklearn.neighbors._kd_tree\n__pyx_unpickle_X\n)R"), "unsupported model", {},
              StatusCode::kUnsupported);
  // ... and only the loss classes scikit-learn has, by exact name.
  ExpectError(P2("csklearn._loss._loss\n__pyx_unpickle_CyNotALoss\n)R"), "unsupported model", {},
              StatusCode::kUnsupported);
  ExpectError(P2("csklearn._loss._loss\n__pyx_unpickle_CyHalfBinomialLossX\n)R"), "unsupported model", {},
              StatusCode::kUnsupported);
}

TEST(PickleVm, RejectsMalformed) {
  ExpectError("\x80\x06N.", "protocol 6");
  ExpectError(P2("\xff"), "unknown opcode 0xff");
  ExpectError(P2("I1\n"), "text opcode 'I'");
  ExpectError(P2("P1\n"), "persistent IDs");
  ExpectError("\x80\x05\x97.", "out-of-band");
  ExpectError(P2("\x82\x01"), "extension codes");
  ExpectError(P2("0"), "stack underflow");
  ExpectError(P2("t"), "no MARK");
  ExpectError(P2("(K\x01"
                 "d"),
              "odd number");
  ExpectError(P2("K\x01K\x02"
                 "a"),
              "APPEND(S)/ADDITEMS on a int");
  ExpectError(P2("]K\x01K\x02s"), "SETITEM(S) on a list");
  ExpectError(P2("h\x05"), "memo entry 5 does not exist");
  ExpectError("\x80\x02", "no STOP");
  ExpectError("", "no STOP");
}

TEST(PickleVm, HugeDeclaredSizesAreRefusedBeforeAllocating) {
  ExpectError(P2("\x8d" + Le(uint64_t{1} << 62, 8)), "truncated");
  ExpectError(P2("\x8e" + Le(~uint64_t{0}, 8) + "ab"), "truncated");
  ExpectError(P2("X" + Le(0xffffffff, 4)), "truncated");
  ExpectError(P2("\x8b" + Le(0xffffffff, 4)), "truncated");
  ExpectError(P2("\x95" + Le(~uint64_t{0}, 8)), "truncated");
  ExpectError(P2("\x96" + Le(uint64_t{1} << 40, 8)), "truncated");
}

TEST(PickleVm, NestingAndLimits) {
  // 200,000 nested lists: no recursion anywhere, so it just works.
  std::string deep = "\x80\x02" + std::string(200000, ']');
  deep += std::string(199999, 'a') + ".";
  auto g = Load(deep);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  // Unclosed MARKs are capped.
  ExpectError("\x80\x02" + std::string(100000, '('), "too deeply nested");
  UnpickleLimits small;
  small.max_values = 100;
  ExpectError("\x80\x02" + std::string(1000, ']'), "more than 100 objects", small);
  // None, True, False, the empty tuple and 0..255 are one value each, as in
  // Python: a thousand of each (and of 0..63) stay within 100 values.
  std::string many = "\x80\x02(";
  for (int i = 0; i < 1000; ++i) many += "N\x88\x89)K"s + static_cast<char>(i % 64);
  g = Load(many + "t.", small);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_LE(g->size(), 100u);
  const Value& all = Root(*g);
  ASSERT_EQ(all.items.size(), 5000u);
  EXPECT_EQ(all.items[0], all.items[5]);
  EXPECT_EQ(g->at(all.items[1]).i, 1);
  EXPECT_EQ(g->at(all.items[2]).i, 0);
  EXPECT_EQ(g->at(all.items[3]).kind, Kind::kTuple);
  EXPECT_EQ(g->at(all.items[5 * 7 + 4]).i, 7);
  EXPECT_EQ(all.items[4], all.items[5 * 64 + 4]);
  // Integers beyond 255 are values of their own.
  g = Load(P2("M\x00\x01M\x00\x01\x86"s));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_NE(Root(*g).items[0], Root(*g).items[1]);
  EXPECT_EQ(g->at(Root(*g).items[1]).i, 256);
  // A list, set or dict holds at most max_items.
  small = {};
  small.max_items = 10;
  ExpectError(P2("](" + std::string(11, 'N') + "e"), "a list of more than 10 items", small);
  ExpectError(P2("](NNNNNe(NNNNNNe"), "more than 10 items", small);
  g = Load(P2("](" + std::string(10, 'N') + "e"), small);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  small = {};
  small.max_stack = 50;
  ExpectError("\x80\x02N" + std::string(100, '2'), "stack too deep", small);
  small = {};
  small.max_memo = 10;
  std::string memo = "\x80\x04N";
  for (int i = 0; i < 20; ++i) memo += "\x94";
  ExpectError(memo, "too many memo entries", small);
}

// Containers keep their own items when others grow next to them, and a
// set made from a list does not see what is appended to the list later.
TEST(PickleVm, ContainersGrowApart) {
  std::string body = "]q\x00]q\x01"s;
  for (int i = 0; i < 300; ++i)
    body +=
        "h\x00K\x01"
        "a0h\x01K\x02"
        "a0h\x01(K\x03K\x04"
        "e0"s;
  auto g = Load(P2(body + "h\x00h\x01\x86"s));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value& a = g->at(Root(*g).items[0]);
  const Value& b = g->at(Root(*g).items[1]);
  ASSERT_EQ(a.items.size(), 300u);
  ASSERT_EQ(b.items.size(), 900u);
  for (size_t k = 0; k < 300; ++k) {
    EXPECT_EQ(g->at(a.items[k]).i, 1);
    EXPECT_EQ(g->at(b.items[3 * k]).i, 2);
    EXPECT_EQ(g->at(b.items[3 * k + 1]).i, 3);
    EXPECT_EQ(g->at(b.items[3 * k + 2]).i, 4);
  }
  // l = [1]; l += [2]; l += [3] (room for 4); s = set(l); l.append(4); s.add(7).
  g =
      Load(P2("]q\x00K\x01"
              "aK\x02"
              "aK\x03"
              "a0c__builtin__\nset\nh\x00\x85Rq\x01"
              "h\x00K\x04"
              "a0(K\x07\x90"
              "0h\x00h\x01\x86"s));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value& list = g->at(Root(*g).items[0]);
  const Value& set = g->at(Root(*g).items[1]);
  ASSERT_EQ(set.kind, Kind::kSet);
  std::vector<int64_t> in_list, in_set;
  for (ValueId v : list.items) in_list.push_back(g->at(v).i);
  for (ValueId v : set.items) in_set.push_back(g->at(v).i);
  EXPECT_EQ(in_list, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(in_set, (std::vector<int64_t>{1, 2, 3, 7}));
}

TEST(PickleVm, SharedObjectsCannotAmplifyMemory) {
  // A 1000-item list, then set(list) many times through the memo: each REDUCE
  // would copy the list; the copy budget stops it.
  std::string s = "\x80\x02]q\x00("s + std::string(1000, 'N') + "e0";
  for (int i = 0; i < 100000; ++i) s += "c__builtin__\nset\nh\x00\x85R0"s;
  s += "N.";
  ExpectError(s, "far larger than the file");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every prefix of small valid pickles and joblib files is an error, never a
// crash (the ASan build runs this too).
TEST(PickleVm, TruncationAtEveryByte) {
  for (const char* name : {"dt-reg-p2.pkl", "rf-strings-p4.pkl", "rf-strings-p5.pkl", "rf-strings.joblib"}) {
    std::string full = ReadFile(std::string(FB_SOURCE_DIR) + "/fuzz/corpus/pickle/" + name);
    ASSERT_GT(full.size(), 100u) << name;
    ASSERT_TRUE(LoadModelBytes(full, name).ok()) << name;
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = LoadModelBytes(std::string_view(full).substr(0, n), name);
      ASSERT_FALSE(r.ok()) << name << " truncated to " << n;
      EXPECT_EQ(r.status().code(), n == 0 ? StatusCode::kInvalidData : StatusCode::kInvalidData) << n;
    }
  }
}

}  // namespace
}  // namespace fb::pickle
