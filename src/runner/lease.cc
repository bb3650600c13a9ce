#include "runner/lease.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/random.h"

namespace fb {
namespace {

using json = nlohmann::json;

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

std::string Errno() { return std::strerror(errno); }

// A private name beside `path`: a temporary by the one rule (atomic_file.h),
// so listings and the stale-temporary sweep know it.
std::string PrivateName(const std::string& path, const char* kind) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return dir + TemporaryNameFor(std::string("lease.") + kind);
}

// The private files of lease writers that died between writing one and
// publishing it (a SIGKILLed run), beside the lease at `path`: removed by the
// next holder once it holds the lease. Only names of the lease's own rule
// whose writer pid is gone from this host; a contender's file on another
// host that shares the folder could be removed too, which only turns its
// refusal ("in use by ...") into a failed link: it could not have won.
void RemoveDeadWritersFiles(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    std::string_view prefix;
    long pid = 0;
    if (name.rfind(".lease.", 0) != 0 || !ParseTemporaryName(name, &prefix, &pid)) continue;
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    std::filesystem::remove(e.path(), rm);
  }
}

// Writes `bytes` to a new file at `path`, flushed to disk.
Status WriteNew(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create lease: " + Errno()).At(path);
  const bool ok =
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  const std::string why = Errno();
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return IoError("cannot write lease: " + why).At(path);
  }
  return Status::Ok();
}

}  // namespace

std::string LeaseInfo::ToJson() const {
  return json{{"owner", json::parse(owner.ToJson())},
              {"what", what},
              {"token", token},
              {"acquired_unix", acquired_unix},
              {"heartbeat_unix", heartbeat_unix}}
             .dump() +
         "\n";
}

Result<LeaseInfo> LeaseInfo::FromJson(const std::string& text) {
  try {
    json j = json::parse(text);
    LeaseInfo l;
    FB_ASSIGN_OR_RETURN(l.owner, ProcessIdentity::FromJson(j.at("owner").dump()));
    l.what = j.at("what").get<std::string>();
    l.token = j.at("token").get<std::string>();
    l.acquired_unix = j.at("acquired_unix").get<int64_t>();
    l.heartbeat_unix = j.at("heartbeat_unix").get<int64_t>();
    return l;
  } catch (const std::exception& e) {
    return InvalidData(std::string("bad lease: ") + e.what());
  }
}

std::string LeaseInfo::Describe() const {
  return what + " (" + owner.Describe() + ", heartbeat " + std::to_string(NowUnix() - heartbeat_unix) +
         " s ago)";
}

Result<std::optional<LeaseInfo>> Lease::Read(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<LeaseInfo>();
    return text.status();
  }
  auto info = LeaseInfo::FromJson(*text);
  if (!info.ok()) return Status(info.status()).At(path);
  return std::optional<LeaseInfo>(std::move(info).value());
}

Liveness Lease::HolderLiveness(const LeaseInfo& info, const LeaseOptions& o) {
  const Liveness l = CheckLiveness(info.owner);
  if (l != Liveness::kUnknown) return l;
  return static_cast<double>(NowUnix() - info.heartbeat_unix) > o.stale_seconds ? Liveness::kDead
                                                                                : Liveness::kUnknown;
}

Result<std::unique_ptr<Lease>> Lease::Acquire(const std::string& path, const std::string& what,
                                              const LeaseOptions& o) {
  LeaseInfo mine;
  mine.owner = CurrentProcess();
  mine.what = what;
  mine.token = RandomHex(16);
  for (int round = 0; round < 50; ++round) {
    mine.acquired_unix = mine.heartbeat_unix = NowUnix();
    const std::string fresh = PrivateName(path, "new");
    FB_RETURN_IF_ERROR(WriteNew(fresh, mine.ToJson()));
    const int rc = ::link(fresh.c_str(), path.c_str());
    const int err = errno;
    ::unlink(fresh.c_str());
    if (rc == 0) {
      RemoveDeadWritersFiles(path);
      return std::unique_ptr<Lease>(new Lease(path, mine, o));
    }
    if (err != EEXIST) return IoError(std::string("cannot take lease: ") + std::strerror(err)).At(path);

    FB_ASSIGN_OR_RETURN(auto held, Read(path));
    if (!held) continue;  // released meanwhile
    if (held->owner.pid == mine.owner.pid && held->owner.start_ticks == mine.owner.start_ticks &&
        held->owner.host == mine.owner.host) {
      return AlreadyExists("this process already holds the lease for " + held->what).At(path);
    }
    if (HolderLiveness(*held, o) != Liveness::kDead) {
      return AlreadyExists("in use by " + held->Describe() + "; wait for it to finish or cancel it").At(path);
    }
    // Take over a dead owner's lease. Contenders that judged this same
    // lease dead agree through a takeover mark named by its token (link(2):
    // one wins); the winner checks the dead lease is still in place and
    // replaces it in one rename(2). A mark left by a contender that died
    // within those two calls is removed after a minute.
    const std::string mark = path + ".takeover." + held->token;
    FB_RETURN_IF_ERROR(WriteNew(fresh, mine.ToJson()));
    if (::link(fresh.c_str(), mark.c_str()) != 0) {
      const int e = errno;
      ::unlink(fresh.c_str());
      if (e != EEXIST) return IoError(std::string("cannot take over lease: ") + std::strerror(e)).At(path);
      struct stat st {};
      if (::stat(mark.c_str(), &st) == 0 && NowUnix() - static_cast<int64_t>(st.st_mtime) > 60)
        ::unlink(mark.c_str());
      ::usleep(20000);
      continue;
    }
    auto still = Read(path);
    bool won = false;
    if (still.ok() && *still && (*still)->token == held->token)
      won = ::rename(fresh.c_str(), path.c_str()) == 0;
    ::unlink(fresh.c_str());
    ::unlink(mark.c_str());
    if (won) {
      RemoveDeadWritersFiles(path);
      return std::unique_ptr<Lease>(new Lease(path, mine, o));
    }
  }
  return AlreadyExists("could not take the lease: other processes keep taking it").At(path);
}

Status Lease::Renew() {
  if (!held_) return Cancelled("lease lost: released").At(path_);
  auto now = Read(path_);
  if (!now.ok()) return now.status();
  if (!*now || (*now)->token != info_.token) {
    held_ = false;
    return Cancelled("lease lost: " + (*now ? "taken by " + (*now)->Describe() : std::string("removed")))
        .At(path_);
  }
  info_.heartbeat_unix = NowUnix();
  const std::string fresh = PrivateName(path_, "new");
  FB_RETURN_IF_ERROR(WriteNew(fresh, info_.ToJson()));
  if (::rename(fresh.c_str(), path_.c_str()) != 0) {
    const std::string why = Errno();
    ::unlink(fresh.c_str());
    return IoError("cannot renew lease: " + why).At(path_);
  }
  return Status::Ok();
}

Status Lease::Release() {
  if (!held_) return Status::Ok();
  held_ = false;
  auto now = Read(path_);
  if (!now.ok()) return now.status();
  if (!*now || (*now)->token != info_.token) return Status::Ok();  // not ours any more
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    return IoError("cannot release lease: " + Errno()).At(path_);
  return Status::Ok();
}

Lease::~Lease() { (void)Release(); }

}  // namespace fb
