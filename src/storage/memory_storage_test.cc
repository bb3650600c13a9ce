#include "storage/memory_storage.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

TEST(MemoryStorageTest, WritesAppearOnlyOnCommit) {
  MemoryStorage s;
  auto w = s.OpenWrite("mem://out/a.csv");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("abc").ok());
  EXPECT_FALSE(s.Get("mem://out/a.csv"));
  EXPECT_EQ(s.open_writes(), 1);
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(*s.Get("mem://out/a.csv"), "abc");
  EXPECT_EQ(s.open_writes(), 0);

  auto w2 = s.OpenWrite("mem://out/b.csv");
  ASSERT_TRUE((*w2)->Write("x").ok());
  w2->reset();  // destroyed without Commit: nothing appears
  EXPECT_FALSE(s.Get("mem://out/b.csv"));
  EXPECT_EQ(s.open_writes(), 0);
}

TEST(MemoryStorageTest, WriteIfAbsentIsAnExclusiveCreate) {
  MemoryStorage m;
  EXPECT_TRUE(m.WriteIfAbsent("mem://c/a", "1").ok());
  EXPECT_EQ(m.WriteIfAbsent("mem://c/a", "2").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*m.Get("mem://c/a"), "1");
  m.set_conditional_writes(false);
  EXPECT_EQ(m.WriteIfAbsent("mem://c/b", "1").code(), StatusCode::kUnsupported);
  EXPECT_FALSE(m.Get("mem://c/b").has_value());

  auto base = std::make_shared<MemoryStorage>();
  FaultInjectingStorage f(base);
  FaultRule lost;
  lost.op = StorageOp::kWriteIfAbsent;
  lost.nth = 1;
  lost.after_commit = true;
  f.AddRule(lost);
  EXPECT_EQ(f.WriteIfAbsent("mem://c/x", "1").code(), StatusCode::kIoError);
  EXPECT_EQ(*base->Get("mem://c/x"), "1");  // written although the caller was told it failed
  EXPECT_EQ(f.calls(StorageOp::kWriteIfAbsent), 1);
}

TEST(MemoryStorageTest, ListsLikeAFolder) {
  MemoryStorage s;
  s.Put("in/b.csv", "bb");
  s.Put("in/a/z.csv", "z");
  s.Put("input-other/x.csv", "x");
  auto list = s.List("in");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].relative, "a/z.csv");
  EXPECT_EQ((*list)[1].relative, "b.csv");
  EXPECT_EQ((*list)[1].size, 2u);
  EXPECT_EQ(s.List("nothing").status().code(), StatusCode::kNotFound);
  auto one = s.List("in/b.csv");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].relative, "b.csv");
  EXPECT_EQ(*s.ReadAll("in/b.csv"), "bb");
  EXPECT_EQ(s.OpenRead("in/none").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(s.Delete("in/b.csv").ok());
  EXPECT_FALSE((*s.Stat("in/b.csv")).has_value());
}

TEST(FaultInjectingStorageTest, FailsTheNthCall) {
  auto mem = std::make_shared<MemoryStorage>();
  mem->Put("a", "1");
  FaultInjectingStorage f(mem);
  FaultRule rule;
  rule.op = StorageOp::kOpenRead;
  rule.nth = 2;
  f.AddRule(rule);
  EXPECT_TRUE(f.ReadAll("a").ok());
  auto second = f.ReadAll("a");
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_EQ(second.status().path(), "a");
  EXPECT_TRUE(f.ReadAll("a").ok());
  EXPECT_EQ(f.calls(StorageOp::kOpenRead), 3);
  EXPECT_EQ(f.injected(), 1);
}

TEST(FaultInjectingStorageTest, FailsOnlyMatchingUris) {
  auto mem = std::make_shared<MemoryStorage>();
  FaultInjectingStorage f(mem);
  FaultRule r;
  r.op = StorageOp::kOpenWrite;
  r.uri_contains = "bad";
  r.code = StatusCode::kNotFound;
  f.AddRule(r);
  EXPECT_TRUE(f.WriteAll("good.csv", "x").ok());
  EXPECT_EQ(f.WriteAll("bad.csv", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(mem->Keys(), std::vector<std::string>{"good.csv"});
}

TEST(FaultInjectingStorageTest, ReadsFailOrTruncateAfterNBytes) {
  auto mem = std::make_shared<MemoryStorage>();
  mem->Put("a", std::string(1000, 'x'));
  FaultInjectingStorage f(mem);
  FaultRule fail;
  fail.op = StorageOp::kRead;
  fail.nth = 1;
  fail.after_bytes = 100;
  f.AddRule(fail);
  EXPECT_EQ(f.ReadAll("a").status().code(), StatusCode::kIoError);
  f.ClearRules();
  FaultRule cut = fail;
  cut.truncate = true;
  f.AddRule(cut);
  auto got = f.ReadAll("a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 100u);
  EXPECT_EQ(f.ReadAll("a")->size(), 1000u);  // only the first stream
}

TEST(FaultInjectingStorageTest, FailedCommitLeavesNothing) {
  auto mem = std::make_shared<MemoryStorage>();
  FaultInjectingStorage f(mem);
  FaultRule rule;
  rule.op = StorageOp::kCommit;
  rule.nth = 1;
  f.AddRule(rule);
  EXPECT_FALSE(f.WriteAll("out.csv", "data").ok());
  EXPECT_FALSE(mem->Get("out.csv"));
  EXPECT_EQ(mem->open_writes(), 0);
  EXPECT_TRUE(f.WriteAll("out.csv", "data").ok());
  EXPECT_EQ(*mem->Get("out.csv"), "data");
}

}  // namespace
}  // namespace fb
