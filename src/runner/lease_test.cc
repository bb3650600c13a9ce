#include "runner/lease.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/atomic_file.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

class LeaseTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) / ("fb_lease_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    path_ = (root_ / "x.lease").string();
  }
  void TearDown() override { fs::remove_all(root_); }
  // Writes a lease as another owner would have.
  void Plant(const ProcessIdentity& owner, int64_t heartbeat_age = 0) {
    LeaseInfo l;
    l.owner = owner;
    l.what = "planted";
    l.token = "planted-token";
    l.acquired_unix = l.heartbeat_unix = static_cast<int64_t>(std::time(nullptr)) - heartbeat_age;
    std::ofstream(path_) << l.ToJson();
  }
  // A child that takes the lease, says so on a pipe, and waits to be killed.
  pid_t HolderChild() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto l = Lease::Acquire(path_, "job child");
      char c = l.ok() ? 'y' : 'n';
      (void)!::write(fds[1], &c, 1);
      ::pause();
      ::_exit(0);
    }
    ::close(fds[1]);
    char c = 0;
    EXPECT_EQ(::read(fds[0], &c, 1), 1);
    ::close(fds[0]);
    EXPECT_EQ(c, 'y');
    return pid;
  }
  fs::path root_;
  std::string path_;
};

TEST_F(LeaseTest, OneOwnerThenTheNextAfterRelease) {
  auto a = Lease::Acquire(path_, "job a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto again = Lease::Acquire(path_, "job b");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto read = Lease::Read(path_);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_EQ((*read)->what, "job a");
  EXPECT_EQ((*read)->owner.pid, ::getpid());
  EXPECT_TRUE((*a)->Renew().ok());
  a->reset();  // releases
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_TRUE(Lease::Acquire(path_, "job b").ok());
}

// A writer SIGKILLed between writing its private file and publishing it
// leaves the file; the next holder removes it once the lease is its own,
// and leaves alone a live process's file and every other name.
TEST_F(LeaseTest, TheNextHolderRemovesWhatDeadWritersLeft) {
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const std::string left = ".lease.new.fbtmp." + std::to_string(dead) + ".0a1b2c3d";
  const std::string live = ".lease.new.fbtmp." + std::to_string(::getppid()) + ".0a1b2c3d";
  const std::string other = ".data.csv.fbtmp." + std::to_string(dead) + ".0a1b2c3d";
  for (const std::string& n : {left, live, other}) std::ofstream(root_ / n) << "{}";
  auto a = Lease::Acquire(path_, "job a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(fs::exists(root_ / left));
  EXPECT_TRUE(fs::exists(root_ / live));
  EXPECT_TRUE(fs::exists(root_ / other));  // an output's temporary: the workers' sweep decides
  // A refused contender removes nothing.
  std::ofstream(root_ / left) << "{}";
  EXPECT_EQ(Lease::Acquire(path_, "job b").status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(fs::exists(root_ / left));
}

TEST_F(LeaseTest, ALiveOwnerIsNamedAndADeadOneIsTakenOver) {
  pid_t child = HolderChild();
  auto refused = Lease::Acquire(path_, "job me");
  ASSERT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("job child"), std::string::npos) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("pid " + std::to_string(child)), std::string::npos);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto mine = Lease::Acquire(path_, "job me");
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ((*Lease::Read(path_))->what, "job me");
}

TEST_F(LeaseTest, AReusedPidIsNotTheOwner) {
  // The parent process is alive, but it started at another time than the
  // recorded owner: that PID was reused, the owner is dead.
  auto parent = IdentityOfPid(::getppid());
  ASSERT_TRUE(parent.ok());
  ProcessIdentity reused = *parent;
  reused.start_ticks += 12345;
  EXPECT_EQ(CheckLiveness(*parent), Liveness::kAlive);
  EXPECT_EQ(CheckLiveness(reused), Liveness::kDead);
  EXPECT_EQ(SignalProcess(reused, SIGTERM).code(), StatusCode::kNotFound);  // never signals the parent
  Plant(reused);
  EXPECT_TRUE(Lease::Acquire(path_, "job me").ok());
  // An earlier boot of this host: dead too.
  fs::remove(path_);
  ProcessIdentity rebooted = *parent;
  rebooted.boot_id = "00000000-0000-0000-0000-000000000000";
  Plant(rebooted);
  EXPECT_TRUE(Lease::Acquire(path_, "job me").ok());
}

TEST_F(LeaseTest, AnotherHostCountsByItsHeartbeat) {
  ProcessIdentity remote = CurrentProcess();
  remote.host = "another-host";
  remote.pid = 1;
  Plant(remote, 5);
  auto refused = Lease::Acquire(path_, "job me");
  ASSERT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("another-host"), std::string::npos);
  Plant(remote, 500);  // stale: its owner stopped renewing
  EXPECT_TRUE(Lease::Acquire(path_, "job me", LeaseOptions{120}).ok());
}

TEST_F(LeaseTest, AnOwnerThatLostItsLeaseIsTold) {
  auto a = Lease::Acquire(path_, "job a");
  ASSERT_TRUE(a.ok());
  ProcessIdentity remote = CurrentProcess();
  remote.host = "another-host";
  Plant(remote);  // someone else's lease now (as after a takeover)
  Status s = (*a)->Renew();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_NE(s.message().find("lease lost"), std::string::npos);
  a->reset();
  EXPECT_TRUE(fs::exists(path_));  // releasing never removes another owner's lease
}

TEST_F(LeaseTest, ContendersRacingForOneLeaseHaveOneWinner) {
  for (bool dead_owner : {false, true}) {
    fs::remove(path_);
    if (dead_owner) {
      auto parent = IdentityOfPid(::getppid());
      ProcessIdentity gone = *parent;
      gone.start_ticks += 1;
      Plant(gone);
    }
    constexpr int kContenders = 8;
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < kContenders; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::close(go[1]);
        char c;
        (void)!::read(go[0], &c, 1);  // all start together
        auto l = Lease::Acquire(path_, "contender");
        if (l.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        ::_exit(l.ok() ? 0 : l.status().code() == StatusCode::kAlreadyExists ? 1 : 2);
      }
      kids.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);  // EOF releases them all
    int winners = 0, refused = 0;
    for (pid_t k : kids) {
      int ws = 0;
      ::waitpid(k, &ws, 0);
      winners += WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
      refused += WIFEXITED(ws) && WEXITSTATUS(ws) == 1;
    }
    EXPECT_EQ(winners, 1) << (dead_owner ? "taking over a dead owner's lease" : "a free lease");
    EXPECT_EQ(refused, kContenders - 1);
  }
}

TEST(ProcessIdentity, RoundTripsAndKnowsItself) {
  const ProcessIdentity& me = CurrentProcess();
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_GT(me.start_ticks, 0u);
  EXPECT_FALSE(me.boot_id.empty());
  auto back = ProcessIdentity::FromJson(me.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->start_ticks, me.start_ticks);
  EXPECT_EQ(back->pid_namespace, me.pid_namespace);
  EXPECT_EQ(CheckLiveness(*back), Liveness::kAlive);
  EXPECT_FALSE(ProcessStartTicks(-1).has_value());
  // A zombie is gone.
  pid_t z = ::fork();
  if (z == 0) ::_exit(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ProcessStartTicks(z).has_value());
  ::waitpid(z, nullptr, 0);
}

}  // namespace
}  // namespace fb
