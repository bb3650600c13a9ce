#include "pipeline/file_predictor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "common/atomic_file.h"
#include "common/format.h"
#include "common/test_dir.h"
#include "io/parquet_reader.h"
#include "model/forest_builder.h"
#include "storage/memory_storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// A random forest of full depth-3 trees over n_features named features.
std::shared_ptr<const Forest> RandomForest(ModelKind kind, std::vector<std::string> labels, uint32_t seed,
                                           bool missing_ok = true) {
  std::mt19937 rng(seed);
  Forest f;
  f.kind = kind;
  f.n_features = 4;
  f.feature_names = {"f0", "f1", "f2", "f3"};
  const bool clf = kind == ModelKind::kClassifier;
  f.n_outputs = clf ? static_cast<int32_t>(labels.size()) : 1;
  f.leaf_width = f.n_outputs;
  f.class_labels = labels;
  f.labels_are_integers = clf;
  f.missing_values_supported = missing_ok;
  std::uniform_real_distribution<float> thr(-1, 1);
  std::uniform_real_distribution<double> val(0, 1);
  for (int t = 0; t < 7; ++t) {
    Tree tree;
    tree.nodes.resize(15);
    tree.values.assign(15 * f.leaf_width, 0.0);
    for (int i = 0; i < 7; ++i) {
      tree.nodes[i] = Node{2 * i + 1, 2 * i + 2, static_cast<int32_t>(rng() % 4), thr(rng), (rng() & 1) != 0};
    }
    for (int i = 7; i < 15; ++i) {
      double sum = 0;
      for (int k = 0; k < f.leaf_width; ++k) sum += tree.values[i * f.leaf_width + k] = val(rng);
      if (clf)
        for (int k = 0; k < f.leaf_width; ++k) tree.values[i * f.leaf_width + k] /= sum;
    }
    f.trees.push_back(tree);
  }
  auto r = BuildForest(std::move(f));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::make_shared<const Forest>(std::move(r).value());
}

class FilePredictorTest : public testing::TestDirTest {
 protected:
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(Path(name), text).ok());
  }
  std::string Read(const std::string& name) { return *ReadFile(Path(name)); }
  // Files in the folder (including temporaries).
  std::vector<std::string> Listing() {
    std::vector<std::string> v;
    for (auto& e : fs::directory_iterator(dir_)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }
};

// Rows of 4 features, in columns ordered f2,id,f0,f3,f1; x[] in feature order.
std::string MakeInput(int rows, uint32_t seed, std::vector<float>* x) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.2, 1.2);
  std::string text = "f2,id,f0,f3,f1\n";
  for (int r = 0; r < rows; ++r) {
    double v[4];
    for (double& d : v) d = std::round(u(rng) * 1000) / 1000;
    if (r % 5 == 0) v[3] = static_cast<int>(v[3] * 2);  // some plain integers
    text += PythonFloat(v[2]) + ",\"id " + std::to_string(r) + "\"," + PythonFloat(v[0]) + "," +
            PythonFloat(v[3]) + "," + PythonFloat(v[1]) + (r % 3 ? "\n" : "\r\n");
    for (double d : v) x->push_back(static_cast<float>(d));
  }
  return text;
}

std::string Sha256Hex(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", d[i]);
    hex += b;
  }
  return hex;
}

TEST_F(FilePredictorTest, MatchesReferenceWithAnyThreadCountAndChunking) {
  // Three classes, and two (whose class counts are summed, not counted).
  for (const std::vector<std::string>& labels :
       {std::vector<std::string>{"-1", "3", "7"}, std::vector<std::string>{"no", "yes"}}) {
    const int nk = static_cast<int>(labels.size());
    auto forest = RandomForest(ModelKind::kClassifier, labels, 1);
    std::vector<float> x;
    const int rows = 20000;
    Write("in.csv", MakeInput(rows, 2, &x));
    // Expected: the reference predictor on the same float32 values.
    std::vector<double> raw(rows * nk);
    MakeReferencePredictor(forest)->PredictRaw(x.data(), rows, raw.data());
    Predictions pred;
    Finalize(*forest, raw.data(), rows, OutputKind::kPrediction, &pred);
    std::string want = "prediction";
    for (const std::string& l : labels) want += ",proba_" + l;
    want += "\n";
    std::vector<uint64_t> counts(nk, 0);
    for (int r = 0; r < rows; ++r) {
      want += forest->class_labels[pred.label[r]];
      for (int k = 0; k < nk; ++k) want += "," + PythonFloat(pred.values[r * nk + k]);
      want += "\n";
      ++counts[pred.label[r]];
    }
    for (uint64_t c : counts) EXPECT_GT(c, 0u);  // every class is predicted somewhere
    // Labels only (PredictLabels: a two-class forest's label margins), down
    // to chunks of a row or two, whose few rows are summed exactly.
    std::string want_labels = "prediction\n";
    for (int r = 0; r < rows; ++r) want_labels += forest->class_labels[pred.label[r]] + "\n";
    for (int threads : {1, 2}) {
      for (size_t chunk : {size_t{0}, size_t{3000}, size_t{60}}) {
        PredictOptions o;
        o.threads = threads;
        o.chunk_bytes = chunk;
        auto fp = FilePredictor::Create(forest, o);
        ASSERT_TRUE(fp.ok()) << fp.status().ToString();
        auto st = (*fp)->Run(Path("in.csv"), Path("labels.csv"));
        ASSERT_TRUE(st.ok()) << st.status().ToString();
        ASSERT_EQ(Read("labels.csv"), want_labels) << threads << " threads, chunk " << chunk;
        EXPECT_EQ(st->class_counts, counts);
      }
    }
    for (int threads : {1, 2, 5}) {
      for (size_t chunk : {size_t{1} << 20, size_t{3000}, size_t{0}}) {  // 0: ChunkBytesFor
        PredictOptions o;
        o.proba = true;
        o.threads = threads;
        o.chunk_bytes = chunk;
        auto fp = FilePredictor::Create(forest, o);
        ASSERT_TRUE(fp.ok()) << fp.status().ToString();
        auto st = (*fp)->Run(Path("in.csv"), Path("out.csv"));
        ASSERT_TRUE(st.ok()) << st.status().ToString();
        ASSERT_EQ(Read("out.csv"), want) << threads << " threads, chunk " << chunk;
        EXPECT_EQ(st->rows, static_cast<uint64_t>(rows));
        EXPECT_EQ(st->class_counts, counts);
        EXPECT_EQ(st->output_bytes, want.size());
        EXPECT_EQ(st->output_sha256, Sha256Hex(want));
        EXPECT_GT(st->total_seconds, 0);
        // The same FilePredictor runs again (its pool is reused).
        ASSERT_TRUE((*fp)->Run(Path("in.csv"), Path("out2.csv")).ok());
        EXPECT_EQ(Read("out2.csv"), want);
      }
    }
  }
}

// Prepare writes the whole output but shows nothing at its name until its
// commit (a worker commits on another thread); dropping it uncommitted
// leaves nothing. Without hashing (predict) the bytes are the same and the
// digest is empty.
TEST_F(FilePredictorTest, PreparedOutputsAppearOnlyWhenCommitted) {
  auto forest = RandomForest(ModelKind::kClassifier, {"a", "b"}, 1);
  std::vector<float> x;
  Write("in.csv", MakeInput(5000, 2, &x));
  PredictOptions o;
  o.threads = 2;
  o.chunk_bytes = 4000;
  auto fp = FilePredictor::Create(forest, o);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  ASSERT_TRUE((*fp)->Run(Path("in.csv"), Path("want.csv")).ok());
  const std::string want = Read("want.csv");
  {
    auto p = (*fp)->Prepare(Path("in.csv"), Path("dropped.csv"));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(Path("dropped.csv")));
  }
  EXPECT_FALSE(std::filesystem::exists(Path("dropped.csv")));
  for (const auto& e : std::filesystem::directory_iterator(Path("")))
    EXPECT_EQ(e.path().filename().string().find("dropped.csv"), std::string::npos) << e.path();
  auto p = (*fp)->Prepare(Path("in.csv"), Path("out.csv"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));
  EXPECT_EQ(p->stats.output_sha256, Sha256Hex(want));
  EXPECT_EQ(p->stats.output_bytes, want.size());
  ASSERT_TRUE(p->output->Commit().ok());
  EXPECT_EQ(Read("out.csv"), want);

  o.hash_output = false;
  auto quiet = FilePredictor::Create(forest, o);
  ASSERT_TRUE(quiet.ok());
  auto st = (*quiet)->Run(Path("in.csv"), Path("unhashed.csv"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(Read("unhashed.csv"), want);
  EXPECT_EQ(st->output_sha256, "");
  EXPECT_EQ(st->output_bytes, want.size());
}

TEST(ChunkBytesForTest, SmallChunksOnlyWhenEveryTreeIsSmall) {
  auto small = RandomForest(ModelKind::kRegressor, {}, 2);  // 15-node trees
  EXPECT_EQ(ChunkBytesFor(*small), size_t{256} << 10);
  Forest big = *small;
  Tree& t = big.trees.back();  // a chain of 64 internal nodes: 129 nodes
  t.nodes.assign(129, Node{});
  t.values.assign(129, 0.5);
  for (int i = 0; i < 64; ++i) t.nodes[2 * i] = Node{2 * i + 1, 2 * i + 2, 0, 0.0f};
  ASSERT_TRUE(BuildForest(big).ok());
  EXPECT_EQ(ChunkBytesFor(big), size_t{1} << 20);
  t.nodes.resize(127);
  t.values.resize(127);
  t.nodes[124] = Node{125, 126, 0, 0.0f};
  t.nodes[126] = Node{};
  ASSERT_TRUE(BuildForest(big).ok()) << BuildForest(big).status().ToString();
  EXPECT_EQ(ChunkBytesFor(big), size_t{256} << 10);
}

TEST_F(FilePredictorTest, ErrorsNameLineAndColumnAndLeaveNoOutput) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 3);
  std::vector<float> x;
  std::string text = MakeInput(30000, 4, &x);
  // Break a field deep inside: line 20001 (header is line 1), column 3 (f0).
  size_t pos = 0;
  for (int i = 0; i < 20000; ++i) pos = text.find('\n', pos) + 1;
  size_t c1 = text.find(',', pos), c2 = text.find(',', c1 + 1);
  text.replace(c2 + 1, 0, "x");
  Write("bad.csv", text);
  for (int threads : {1, 3}) {
    PredictOptions o;
    o.threads = threads;
    o.chunk_bytes = 4096;
    auto fp = FilePredictor::Create(forest, o);
    ASSERT_TRUE(fp.ok());
    auto st = (*fp)->Run(Path("bad.csv"), Path("out.csv"));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), StatusCode::kInvalidData);
    EXPECT_EQ(st.status().path(), Path("bad.csv"));
    EXPECT_EQ(st.status().line(), 20001u) << st.status().ToString();
    EXPECT_EQ(st.status().column(), 3u) << st.status().ToString();
    EXPECT_NE(st.status().message().find("('f0')"), std::string::npos) << st.status().ToString();
    EXPECT_EQ(Listing(), std::vector<std::string>{"bad.csv"});
  }
}

StorageLookup Handed(std::shared_ptr<Storage> storage);

// Local storage whose read streams call `change` once, after their second
// read: the input changes while the pipeline is reading it.
class ChangingStorage final : public Storage {
 public:
  explicit ChangingStorage(std::function<void()> change) : change_(std::move(change)) {}
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return local_->List(p); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& u) override { return local_->Stat(u); }
  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(auto in, local_->OpenRead(uri));
    return std::unique_ptr<ReadStream>(new Stream(std::move(in), change_));
  }
  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& u) override {
    return local_->OpenWrite(u);
  }
  Status Delete(const std::string& u) override { return local_->Delete(u); }

 private:
  struct Stream final : ReadStream {
    Stream(std::unique_ptr<ReadStream> in, std::function<void()> change)
        : in_(std::move(in)), change_(std::move(change)) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (reads_++ == 2 && change_) change_();
      return in_->Read(buf, n);
    }
    Status CheckUnchanged() override { return in_->CheckUnchanged(); }
    std::unique_ptr<ReadStream> in_;
    std::function<void()> change_;
    int reads_ = 0;
  };
  std::shared_ptr<Storage> local_ = LocalStorage();
  std::function<void()> change_;
};

// An input truncated, grown or written to while it is read is an I/O error
// naming it, with no output (the run's retry rules then read it again),
// never an output computed from a mix of its old and new bytes or from part
// of it; one replaced by a rename is read whole, as it was when opened.
TEST_F(FilePredictorTest, AnInputChangedWhileReadIsAnErrorNamingIt) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 5);
  std::vector<float> x;
  const std::string text = MakeInput(20000, 7, &x);
  const std::string in = Path("in.csv");
  auto fresh = [&] {
    Write("in.csv", text);
    // Dated in the past: a write then changes the time, whatever the clock's granularity.
    const struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, in.c_str(), past, 0), 0);
  };
  fresh();
  PredictOptions o;
  o.chunk_bytes = 4096;
  ASSERT_TRUE((*FilePredictor::Create(forest, o))->Run(in, Path("want.csv")).ok());
  const std::string want = Read("want.csv");
  const std::vector<std::function<void()>> changes = {
      [&] { ASSERT_EQ(::truncate(in.c_str(), static_cast<off_t>(text.size() / 2)), 0); },
      [&] { ASSERT_EQ(::truncate(in.c_str(), 0), 0); },
      [&] { std::ofstream(in, std::ios::app) << "0.5,\"id x\",0.5,0.5,0.5\n"; },
      [&] {
        // The same size, other digits further on: without the check a wrong answer.
        std::string other = text;
        for (size_t i = text.size() / 2; i < text.size(); ++i)
          if (other[i] == '1') other[i] = '2';
        std::fstream f(in, std::ios::in | std::ios::out | std::ios::binary);
        f.write(other.data(), static_cast<std::streamsize>(other.size()));
      },
  };
  for (int threads : {1, 2}) {
    o.threads = threads;
    for (size_t c = 0; c < changes.size(); ++c) {
      fresh();
      auto fp = FilePredictor::Create(forest, o, Handed(std::make_shared<ChangingStorage>(changes[c])));
      ASSERT_TRUE(fp.ok());
      auto st = (*fp)->Run(in, Path("out.csv"));
      ASSERT_FALSE(st.ok()) << threads << " threads, change " << c;
      EXPECT_EQ(st.status().code(), StatusCode::kIoError) << st.status().ToString();
      EXPECT_EQ(st.status().path(), in) << st.status().ToString();
      EXPECT_EQ(Listing(), (std::vector<std::string>{"in.csv", "want.csv"})) << c;
    }
    fresh();
    auto replace = [&] { Write("in.csv", "f2,id,f0,f3,f1\n1,a,1,1,1\n"); };
    auto fp = FilePredictor::Create(forest, o, Handed(std::make_shared<ChangingStorage>(replace)));
    auto st = (*fp)->Run(in, Path("out.csv"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(Read("out.csv"), want);
    ASSERT_TRUE(LocalStorage()->Delete(Path("out.csv")).ok());
  }
}

TEST_F(FilePredictorTest, NanIsAnErrorWhenTheModelRejectsIt) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 5, /*missing_ok=*/false);
  Write("in.csv", "f0,f1,f2,f3\n1,2,3,4\n1,2,,4\n");
  auto fp = FilePredictor::Create(forest, {});
  ASSERT_TRUE(fp.ok());
  auto st = (*fp)->Run(Path("in.csv"), Path("out.csv"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().line(), 3u);
  EXPECT_EQ(st.status().column(), 3u);
  EXPECT_NE(st.status().message().find("Input X contains NaN"), std::string::npos);
  EXPECT_EQ(Listing(), std::vector<std::string>{"in.csv"});
  // A model that supports NaN takes the same file.
  auto ok = FilePredictor::Create(RandomForest(ModelKind::kClassifier, {"0", "1"}, 5), {});
  ASSERT_TRUE((*ok)->Run(Path("in.csv"), Path("out.csv")).ok());
}

TEST_F(FilePredictorTest, CancelledRunLeavesNothing) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 6);
  std::vector<float> x;
  Write("in.csv", MakeInput(5000, 7, &x));
  std::atomic<bool> cancel{true};
  PredictOptions o;
  o.chunk_bytes = 4096;
  o.threads = 2;
  auto fp = FilePredictor::Create(forest, o);
  auto st = (*fp)->Run(Path("in.csv"), Path("out.csv"), &cancel);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(Listing(), std::vector<std::string>{"in.csv"});
}

TEST_F(FilePredictorTest, RegressorSeedFormatAndGzipInput) {
  auto forest = RandomForest(ModelKind::kRegressor, {}, 8);
  std::vector<float> x;
  std::string text = MakeInput(3000, 9, &x);
  // gzip it.
  {
    gzFile g = gzopen(Path("in.csv.gz").c_str(), "wb");
    ASSERT_NE(g, nullptr);
    gzwrite(g, text.data(), text.size());
    gzclose(g);
  }
  std::vector<double> raw(3000);
  MakeReferencePredictor(forest)->PredictRaw(x.data(), 3000, raw.data());
  std::string want = ",0\n";
  for (int r = 0; r < 3000; ++r) want += std::to_string(r) + "," + PythonFloat(raw[r] / 7) + "\n";
  PredictOptions o;
  o.format = ResultFormat::kSeed;
  o.chunk_bytes = 2048;
  o.threads = 3;
  auto fp = FilePredictor::Create(forest, o);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  auto st = (*fp)->Run(Path("in.csv.gz"), Path("out.csv"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(Read("out.csv"), want);
  // --proba makes no sense for a regressor.
  o.proba = true;
  o.format = ResultFormat::kCsv;
  EXPECT_EQ(FilePredictor::Create(forest, o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FilePredictorTest, JsonlAndMissingColumns) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 10);
  Write("in.csv", "f3,f1,f0,f2\n1,2,3,4\n");
  PredictOptions o;
  o.format = ResultFormat::kJsonl;
  auto fp = FilePredictor::Create(forest, o);
  ASSERT_TRUE((*fp)->Run(Path("in.csv"), Path("out.jsonl")).ok());
  std::string out = Read("out.jsonl");
  EXPECT_TRUE(out == "{\"row\":0,\"prediction\":0}\n" || out == "{\"row\":0,\"prediction\":1}\n") << out;
  Write("short.csv", "f3,f1,x\n1,2,3\n");
  auto st = (*fp)->Run(Path("short.csv"), Path("out2.jsonl"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("lacks 2 of the model's 4 features: f0, f2"), std::string::npos)
      << st.status().ToString();
  EXPECT_FALSE(fs::exists(Path("out2.jsonl")));
}

// The pipeline opens every file through the storage it is handed.
StorageLookup Handed(std::shared_ptr<Storage> storage) {
  return [storage](const std::string&) -> Result<std::shared_ptr<Storage>> { return storage; };
}

TEST(FilePredictorStorage, CsvToParquetToCsvInMemoryWithKeptColumns) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 11);
  auto mem = std::make_shared<MemoryStorage>();
  std::vector<float> x;
  mem->Put("mem://in.csv", MakeInput(3000, 5, &x));
  PredictOptions o;
  o.threads = 3;
  o.chunk_bytes = 4096;
  o.keep_columns = {"id"};
  o.proba = true;
  auto csv = FilePredictor::Create(forest, o, Handed(mem));
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  ASSERT_TRUE((*csv)->Run("mem://in.csv", "mem://out.csv").ok());
  o.format = ResultFormat::kParquet;
  o.parquet_rows_per_group = 1000;
  auto pq = FilePredictor::Create(forest, o, Handed(mem));
  auto st = (*pq)->Run("mem://in.csv", "mem://out.parquet");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->rows, 3000u);
  const std::string first = *mem->Get("mem://out.csv");
  EXPECT_EQ(first.substr(0, first.find('\n')), "id,prediction,proba_0,proba_1");
  EXPECT_EQ(first.substr(first.find('\n') + 1, 5), "id 0,");
  // Typed columns: DOUBLE probabilities read back exactly as the csv text says.
  CsvSchema s;
  s.n_features = 2;
  s.feature_names = {"proba_1", "prediction"};
  CsvOptions co;
  co.keep_columns = {"id"};
  auto r = ParquetReader::Open(mem, "mem://out.parquet", co, s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->num_rows(), 3000);
  EXPECT_EQ((*r)->num_row_groups(), 3u);
  TableChunk chunk;
  TableBlock block;
  ASSERT_TRUE(*(*r)->NextChunk(&chunk));
  (*r)->Parse(chunk, &block);
  ASSERT_TRUE(block.error.ok()) << block.error.ToString();
  EXPECT_EQ(block.kept[0].TextAt(1), "id 1");
  const std::string line2 = first.substr(first.find('\n') + 1);
  const std::string row0 = line2.substr(0, line2.find('\n'));
  EXPECT_EQ(PythonFloat(block.values[0]).substr(0, 4), row0.substr(row0.rfind(',') + 1, 4));
}

TEST(FilePredictorStorage, FailuresLeaveNoOutputInAnyStorage) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1"}, 12);
  auto mem = std::make_shared<MemoryStorage>();
  auto faulty = std::make_shared<FaultInjectingStorage>(mem);
  std::vector<float> x;
  mem->Put("mem://in.csv", MakeInput(2000, 6, &x));
  for (ResultFormat f : {ResultFormat::kCsv, ResultFormat::kParquet}) {
    PredictOptions o;
    o.format = f;
    o.chunk_bytes = 2048;
    o.threads = 2;
    auto fp = FilePredictor::Create(forest, o, Handed(faulty));
    ASSERT_TRUE(fp.ok());
    // A read that fails part way, a truncated read, a failed commit.
    for (int which = 0; which < 3; ++which) {
      faulty->ClearRules();
      FaultRule rule;
      rule.op = which == 2 ? StorageOp::kCommit : StorageOp::kRead;
      rule.nth = 0;  // every call: the read fails (or ends) after after_bytes
      rule.truncate = which == 1;
      rule.after_bytes = 10000;
      faulty->AddRule(rule);
      ASSERT_TRUE(mem->Delete("mem://out").ok());
      auto st = (*fp)->Run("mem://in.csv", "mem://out");
      if (which == 1) {
        // A silently short stream still ends on a row boundary or inside a row:
        // either an error or fewer rows, never a partial row.
        if (st.ok()) {
          EXPECT_LT(st->rows, 2000u);
        }
        continue;
      }
      EXPECT_FALSE(st.ok()) << which;
      EXPECT_FALSE(mem->Get("mem://out").has_value()) << which;
      EXPECT_EQ(mem->open_writes(), 0);
    }
  }
  // A Parquet input whose column chunk read fails.
  PredictOptions o;
  o.format = ResultFormat::kParquet;
  faulty->ClearRules();
  auto make = FilePredictor::Create(forest, o, Handed(mem));
  ASSERT_TRUE((*make)->Run("mem://in.csv", "mem://t.parquet").ok());
  PredictOptions in;
  in.keep_columns = {"prediction"};
  auto reader_model = RandomForest(ModelKind::kClassifier, {"0", "1"}, 13);
  faulty->AddRule({StorageOp::kRead, 2, "t.parquet", StatusCode::kIoError});
  auto fp = FilePredictor::Create(reader_model, in, Handed(faulty));
  auto st = (*fp)->Run("mem://t.parquet", "mem://never.csv");
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(mem->Get("mem://never.csv").has_value());
}

// One FilePredictor reuses its chunk buffers from file to file (a worker's
// files): a file after a big one, a failed one or a cancelled one comes out
// exactly as from a fresh predictor.
TEST(FilePredictorStorage, BuffersReusedAcrossFilesCarryNothingOver) {
  auto forest = RandomForest(ModelKind::kClassifier, {"0", "1", "2"}, 14);
  auto mem = std::make_shared<MemoryStorage>();
  std::vector<float> x;
  mem->Put("mem://big.csv", MakeInput(4000, 7, &x));
  mem->Put("mem://small.csv", MakeInput(40, 8, &x));
  std::string bad = MakeInput(3000, 9, &x);
  bad.replace(bad.find("\n", bad.size() / 2) + 1, 1, "x");  // a field that is not a number
  mem->Put("mem://bad.csv", bad);
  mem->Put("mem://wide.csv", MakeInput(2500, 10, &x));
  for (int threads : {1, 3}) {
    PredictOptions o;
    o.threads = threads;
    o.chunk_bytes = 4096;
    o.keep_columns = {"id"};
    o.proba = true;
    auto expected = [&](const std::string& in) {
      auto fresh = FilePredictor::Create(forest, o, Handed(mem));
      EXPECT_TRUE((*fresh)->Run(in, "mem://expected.csv").ok());
      return *mem->Get("mem://expected.csv");
    };
    auto fp = FilePredictor::Create(forest, o, Handed(mem));
    ASSERT_TRUE(fp.ok());
    std::atomic<bool> cancel{true};
    for (const std::string name : {"big", "small", "bad", "wide", "cancel", "big", "small"}) {
      SCOPED_TRACE(name + " with " + std::to_string(threads) + " threads");
      if (name == "cancel") {
        EXPECT_EQ((*fp)->Run("mem://big.csv", "mem://out.csv", &cancel).status().code(),
                  StatusCode::kCancelled);
        continue;
      }
      auto st = (*fp)->Run("mem://" + name + ".csv", "mem://out.csv");
      if (name == "bad") {
        EXPECT_FALSE(st.ok());
        continue;
      }
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      EXPECT_EQ(*mem->Get("mem://out.csv"), expected("mem://" + name + ".csv"));
    }
  }
}

TEST(FilePredictorStorage, OutputNamesFollowTheFormat) {
  EXPECT_EQ(OutputNameFor("a.csv.gz", ResultFormat::kCsv), "a.csv");
  EXPECT_EQ(OutputNameFor("d/a.csv.zst", ResultFormat::kSeed), "d/a.csv");
  EXPECT_EQ(OutputNameFor("a.csv", ResultFormat::kParquet), "a.parquet");
  EXPECT_EQ(OutputNameFor("a.csv.gz", ResultFormat::kJsonl), "a.jsonl");
  EXPECT_EQ(OutputNameFor("p/part-0.snappy.parquet", ResultFormat::kCsv), "p/part-0.snappy.csv");
  EXPECT_EQ(OutputNameFor("p/part-00000", ResultFormat::kParquet), "p/part-00000.parquet");
  EXPECT_EQ(OutputNameFor("p.q/.hidden", ResultFormat::kJsonl), "p.q/.hidden.jsonl");
}

}  // namespace
}  // namespace fb
