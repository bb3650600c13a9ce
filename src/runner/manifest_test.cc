#include "runner/manifest.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

Manifest Sample() {
  Manifest m;
  m.input = "a/b.csv";
  m.input_bytes = 10;
  m.input_mtime_ns = 5;
  m.model_sha256 = "m1";
  m.options = "o1";
  m.rows = 3;
  m.class_counts = {1, 2};
  m.output_sha256 = "s";
  m.output_bytes = 7;
  m.job = "j";
  return m;
}

ObjectInfo Input() {
  ObjectInfo i;
  i.relative = "a/b.csv";
  i.size = 10;
  i.mtime_ns = 5;
  return i;
}

ObjectInfo Output(uint64_t size) {
  ObjectInfo o;
  o.size = size;
  return o;
}

TEST(Manifest, RoundTrips) {
  Manifest m = Sample();
  auto back = Manifest::Parse(m.ToJson(), "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->input, "a/b.csv");
  EXPECT_EQ(back->class_counts, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(back->output_bytes, 7u);
  EXPECT_EQ(back->model_sha256, "m1");
}

TEST(Manifest, RejectsGarbage) {
  EXPECT_FALSE(Manifest::Parse("{", "x").ok());
  EXPECT_FALSE(Manifest::Parse("{\"forestbatch_manifest\": 1}", "x").ok());
  EXPECT_FALSE(Manifest::Parse("[]", "x").ok());
}

TEST(Manifest, PathsAndNames) {
  EXPECT_EQ(ManifestPathFor("out/a/b.csv"), "out/a/.b.csv.fbmanifest.json");
  EXPECT_EQ(ManifestPathFor("b.csv"), ".b.csv.fbmanifest.json");
  EXPECT_EQ(ManifestPathFor("s3://bk/out/b.csv"), "s3://bk/out/.b.csv.fbmanifest.json");
  // A name near NAME_MAX (255 bytes) still has a manifest name that fits: its
  // first bytes, "~", a hash of the whole name.
  const std::string long_a = std::string(246, 'a') + ".csv";
  const std::string long_b = std::string(246, 'a') + ".tsv";
  const std::string ma = ManifestPathFor("out/" + long_a);
  const std::string mb = ManifestPathFor("out/" + long_b);
  EXPECT_EQ(ma.size() - 4, 255u);
  EXPECT_NE(ma, mb);
  EXPECT_EQ(ma.rfind("out/.aaaa", 0), 0u);
  EXPECT_TRUE(IsManifestName(ma.substr(4)));
  EXPECT_EQ(ManifestPathFor("out/" + long_a), ma);  // stable
  EXPECT_TRUE(IsManifestName(".b.csv.fbmanifest.json"));
  EXPECT_FALSE(IsManifestName("b.csv.fbmanifest.json"));
  EXPECT_FALSE(IsManifestName("b.csv"));
}

TEST(Decide, SkipsOnlyAMatchingCompleteOutput) {
  std::string why;
  Existing e;
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why), Decision::kProcess);  // nothing there
  e.output = Output(7);
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why),
            Decision::kProcess);  // output without manifest: redo
  e.manifest = Sample();
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why), Decision::kSkip);
  e.output = Output(6);  // truncated or replaced
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why), Decision::kProcess);
  e.output = Output(7);
  e.output_sha256 = "other";  // --verify found other bytes
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why), Decision::kProcess);
  e.output_sha256 = "s";
  EXPECT_EQ(Decide(e, Input(), "m1", "o1", false, &why), Decision::kSkip);
}

TEST(Decide, AnotherModelOrOptionsConflictsUnlessOverwrite) {
  std::string why;
  Existing e;
  e.output = Output(7);
  e.manifest = Sample();
  EXPECT_EQ(Decide(e, Input(), "m2", "o1", false, &why), Decision::kConflict);
  EXPECT_NE(why.find("--overwrite"), std::string::npos);
  EXPECT_EQ(Decide(e, Input(), "m1", "o2", false, &why), Decision::kConflict);
  EXPECT_EQ(Decide(e, Input(), "m2", "o1", true, &why), Decision::kProcess);
}

TEST(Decide, AChangedInputIsRedone) {
  std::string why;
  Existing e;
  e.output = Output(7);
  e.manifest = Sample();
  ObjectInfo in = Input();
  in.size = 11;
  EXPECT_EQ(Decide(e, in, "m1", "o1", false, &why), Decision::kProcess);
  in = Input();
  in.mtime_ns = 6;
  EXPECT_EQ(Decide(e, in, "m1", "o1", false, &why), Decision::kProcess);
  in.mtime_ns = 0;  // storage without times: size decides
  EXPECT_EQ(Decide(e, in, "m1", "o1", false, &why), Decision::kSkip);
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace fb
