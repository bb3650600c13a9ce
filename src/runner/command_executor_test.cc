// --exec under hostile file names: no byte of a path is parsed by a shell,
// placeholders are replaced once, and nothing a command started outlives it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/atomic_file.h"
#include "runner/file_executor.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

class HostileNames : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) / ("fb_hostile_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "in");
    old_cwd_ = fs::current_path();
    // Injected commands would create files here.
    fs::current_path(root_);
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(root_);
  }
  // Runs `command` on an input named `name` holding "row\n"; the output is
  // out/<name>. Expects success and a faithful copy.
  void RunOn(const std::string& command, bool shell, const std::string& name) {
    SCOPED_TRACE(command + " on " + name);
    const fs::path in = root_ / "in" / name;
    std::ofstream(in) << "row\n";
    auto e = MakeCommandExecutor(command, shell);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    const fs::path out = root_ / "out" / name;
    auto st = (*e)->Run(in.string(), out.string(), nullptr);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(*ReadFile(out.string()), "row\n");
    EXPECT_FALSE(fs::exists(root_ / "PWNED")) << "a file name ran a command";
  }
  fs::path root_, old_cwd_;
};

const char* const kNames[] = {
    "$(touch PWNED){output}.csv", "$(touch PWNED).csv",  "`touch PWNED`.csv",  "a'b\"c;touch PWNED.csv",
    "new\nline;touch PWNED.csv",  "{input}{output}.csv", "sp ace $HOME *.csv",
};

TEST_F(HostileNames, ArgumentsWithoutAShell) {
  for (const char* name : kNames) RunOn("cp {input} {output}", false, name);
}

TEST_F(HostileNames, ShellWithBarePlaceholders) {
  for (const char* name : kNames) RunOn("cp {input} {output}", true, name);
}

TEST_F(HostileNames, ShellWithQuotedPlaceholders) {
  for (const char* name : kNames) RunOn(R"x(cp "{input}" "{output}")x", true, name);
  for (const char* name : kNames) RunOn(R"x(cat < "$(echo {input})" > {output})x", true, name);
}

TEST_F(HostileNames, ShellReadsTheEnvironmentVariables) {
  for (const char* name : kNames) RunOn(R"x(sh -c 'cp "$FB_INPUT" "$FB_OUTPUT"' {output})x", true, name);
}

TEST_F(HostileNames, LeadingDashIsNeverAnOption) {
  std::ofstream(root_ / "-n.csv") << "row\n";
  auto e = MakeCommandExecutor("cp {input} {output}", false);
  ASSERT_TRUE(e.ok());
  auto st = (*e)->Run("-n.csv", "-out.csv", nullptr);  // relative to the working folder
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(*ReadFile((root_ / "-out.csv").string()), "row\n");
}

TEST(ShellScript, PlaceholdersBecomeQuotedVariables) {
  EXPECT_EQ(*ShellScriptFor("cp {input} {output}"), R"x(cp "${FB_INPUT}" "${FB_OUTPUT}")x");
  EXPECT_EQ(*ShellScriptFor(R"x(cp "{input}" "x-{output}.tmp")x"),
            R"x(cp "${FB_INPUT}" "x-${FB_OUTPUT}.tmp")x");
  EXPECT_EQ(*ShellScriptFor(R"x(f "$(basename {input})" {output})x"),
            R"x(f "$(basename "${FB_INPUT}")" "${FB_OUTPUT}")x");
  EXPECT_EQ(*ShellScriptFor(R"x(echo 'it''s' \{input} $((1+(2))) {output})x"),
            R"x(echo 'it''s' \{input} $((1+(2))) "${FB_OUTPUT}")x");
}

TEST(ShellScript, RefusesPlaceholdersThatAShellWouldReadAgain) {
  for (const char* bad : {"sh -c 'cat {input}' > {output}", "echo `cat {input}` > {output}",
                          "cat > {output} <<EOF\n{input}\nEOF", R"x(sh -c "cat '{input}'" > {output})x",
                          R"x(eval "cp {input} x; mv x {output}")x"}) {
    auto s = ShellScriptFor(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("FB_INPUT"), std::string::npos) << s.status().message();
  }
  EXPECT_FALSE(ShellScriptFor("cp \"{input} {output}").ok());
  EXPECT_FALSE(ShellScriptFor("cp $({input} {output}").ok());
}

TEST(CommandGroup, NothingTheCommandStartedOutlivesIt) {
  fs::path root = fs::path(testing::TempDir()) / ("fb_group_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  std::ofstream(root / "in.txt") << "a\n";
  const std::string late = (root / "late").string();
  // A background subshell that would write after the command exits.
  auto e = MakeCommandExecutor("(sleep 0.3; touch " + late + ") & cp {input} {output}", true);
  ASSERT_TRUE(e.ok());
  auto st = (*e)->Run((root / "in.txt").string(), (root / "out.txt").string(), nullptr);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  // Cancelled: the subshell is stopped with the command.
  std::atomic<bool> cancel{false};
  auto slow = MakeCommandExecutor("(sleep 0.3; touch " + late + "2) & sleep 5; cp {input} {output}", true);
  ASSERT_TRUE(slow.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel.store(true);
  });
  st = (*slow)->Run((root / "in.txt").string(), (root / "slow.txt").string(), &cancel);
  stopper.join();
  EXPECT_EQ(st.status().code(), StatusCode::kCancelled);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(fs::exists(late)) << "a subshell outlived its finished command";
  EXPECT_FALSE(fs::exists(late + "2")) << "a subshell outlived its cancelled command";
  fs::remove_all(root);
}

}  // namespace
}  // namespace fb
