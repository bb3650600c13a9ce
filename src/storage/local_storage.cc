#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "storage/s3_storage.h"
#include "storage/storage.h"

namespace fb {
namespace {

namespace fs = std::filesystem;

// A stat's modification time in nanoseconds (ObjectInfo::mtime_ns).
int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// A local file, or stdin ("-"), read with read(2) straight into the
// caller's buffer (through stdio, a chunk that is not a multiple of 4 KiB
// took a second call and a copy for its tail). A regular file notes its size
// and modification time when opened, for CheckUnchanged.
class FileReadStream final : public ReadStream {
 public:
  FileReadStream(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    struct stat st {};
    regular_ = fd_ != STDIN_FILENO && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
    if (regular_) {
      size_ = st.st_size;
      mtime_ns_ = MtimeNs(st);
    }
  }
  ~FileReadStream() override {
    if (fd_ != STDIN_FILENO) ::close(fd_);
  }
  // As fread: n bytes unless the end comes first (a pipe is waited for), and
  // nothing more once the end has been seen (a terminal's end of file).
  Result<size_t> Read(char* buf, size_t n) override {
    size_t got = 0;
    while (got < n && !at_end_) {
      const ssize_t r = ::read(fd_, buf + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        return IoError(std::string("read failed: ") + std::strerror(errno)).At(path_);
      }
      if (r == 0) at_end_ = true;
      got += static_cast<size_t>(r);
    }
    return got;
  }
  Status CheckUnchanged() override {
    if (!regular_) return Status::Ok();
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return IoError(std::string("cannot stat: ") + std::strerror(errno)).At(path_);
    if (st.st_size != size_) {
      return IoError("the file changed while it was read (" + std::to_string(size_) + " bytes when opened, " +
                     std::to_string(st.st_size) + " now)")
          .At(path_);
    }
    if (MtimeNs(st) != mtime_ns_) return IoError("the file was written to while it was read").At(path_);
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
  bool regular_ = false;
  bool at_end_ = false;
  off_t size_ = 0;
  int64_t mtime_ns_ = 0;
};

class FileWriteStream final : public WriteStream {
 public:
  explicit FileWriteStream(AtomicFile f) : f_(std::move(f)) {}
  Status Write(std::string_view b) override { return f_.Write(b); }
  Status Commit() override { return f_.Commit(); }
  void Abort() override { f_.Abort(); }

 private:
  AtomicFile f_;
};

class Local final : public Storage {
 public:
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    fs::path root(prefix);
    auto st = fs::status(root, ec);
    if (ec || !fs::exists(st)) return NotFound("no such file or folder").At(prefix);
    if (fs::is_regular_file(st)) {
      out.push_back(Info(root, root.filename().string()));
      return out;
    }
    for (auto it =
             fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (IsTemporaryName(name)) continue;
      if (!it->is_regular_file(ec)) continue;
      out.push_back(Info(it->path(), it->path().lexically_relative(root).generic_string()));
    }
    if (ec) return IoError("cannot list folder: " + ec.message()).At(prefix);
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.relative < b.relative; });
    return out;
  }

  Result<std::optional<ObjectInfo>> Stat(const std::string& uri) override {
    struct stat s;
    if (::stat(uri.c_str(), &s) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<ObjectInfo>();
      return IoError(std::string("stat failed: ") + std::strerror(errno)).At(uri);
    }
    ObjectInfo i{uri, fs::path(uri).filename().string(), static_cast<uint64_t>(s.st_size), MtimeNs(s)};
    return std::optional<ObjectInfo>(i);
  }

  Result<std::unique_ptr<ReadStream>> OpenRead(const std::string& uri) override {
    if (uri == "-") return std::unique_ptr<ReadStream>(new FileReadStream(STDIN_FILENO, "-"));
    const int fd = ::open(uri.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound("no such file").At(uri);
      return IoError(std::string("cannot open: ") + std::strerror(errno)).At(uri);
    }
    return std::unique_ptr<ReadStream>(new FileReadStream(fd, uri));
  }

  Result<std::unique_ptr<WriteStream>> OpenWrite(const std::string& uri) override {
    FB_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::Create(uri));
    return std::unique_ptr<WriteStream>(new FileWriteStream(std::move(f)));
  }

  Result<std::string> ReadRange(const std::string& uri, uint64_t offset, uint64_t length) override {
    if (uri == "-") return Storage::ReadRange(uri, offset, length);
    const int fd = ::open(uri.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound("no such file").At(uri);
      return IoError(std::string("cannot open: ") + std::strerror(errno)).At(uri);
    }
    std::string out(length, '\0');
    uint64_t got = 0;
    while (got < length) {
      const ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        ::close(fd);
        return IoError(std::string("read failed: ") + std::strerror(e)).At(uri);
      }
      if (n == 0) break;
      got += static_cast<uint64_t>(n);
    }
    ::close(fd);
    if (got < length) {
      return InvalidData("the file ends at byte " + std::to_string(offset + got) + ", before byte " +
                         std::to_string(offset + length))
          .At(uri);
    }
    return out;
  }

  // The NFS-safe exclusive create (open(2)'s manual): the complete object is
  // written and fsynced under a private temporary name, then published with
  // link(2), which fails with EEXIST when the name is taken, on local file
  // systems, NFSv3/v4 (one server-side LINK) and Lustre (one metadata-server
  // operation) alike. An NFS client that retransmits a LINK whose reply was
  // lost may be told EEXIST although its own link succeeded: the temporary's
  // link count (2 after a successful link) tells the truth, so it is checked
  // whatever link(2) answered.
  Status WriteIfAbsent(const std::string& uri, std::string_view bytes) override {
    if (uri == "-") return InvalidArgument("cannot create stdout exclusively");
    const fs::path target(uri);
    std::error_code ec;
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    const fs::path tmp = target.parent_path() / TemporaryNameFor(target.filename().string());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError(std::string("cannot create: ") + std::strerror(errno)).At(tmp.string());
    size_t done = 0;
    bool ok = true;
    while (ok && done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const int write_errno = errno;
    ::close(fd);
    if (!ok) {
      ::unlink(tmp.c_str());
      return IoError(std::string("cannot write: ") + std::strerror(write_errno)).At(tmp.string());
    }
    const int rc = ::link(tmp.c_str(), uri.c_str());
    const int link_errno = errno;
    struct stat st {};
    const bool linked = ::stat(tmp.c_str(), &st) == 0 && st.st_nlink == 2;
    ::unlink(tmp.c_str());
    if (rc == 0 || linked) return Status::Ok();
    if (link_errno == EEXIST) return AlreadyExists("already exists").At(uri);
    if (link_errno == EPERM || link_errno == ENOSYS || link_errno == EOPNOTSUPP)
      return Unsupported(std::string("this file system has no hard links: ") + std::strerror(link_errno))
          .At(uri);
    return IoError(std::string("cannot create: ") + std::strerror(link_errno)).At(uri);
  }

  Status Delete(const std::string& uri) override {
    if (std::remove(uri.c_str()) != 0 && errno != ENOENT) {
      return IoError(std::string("cannot delete: ") + std::strerror(errno)).At(uri);
    }
    return Status::Ok();
  }

 private:
  static ObjectInfo Info(const fs::path& p, std::string rel) {
    ObjectInfo i;
    i.uri = p.string();
    i.relative = std::move(rel);
    struct stat s;
    if (::stat(i.uri.c_str(), &s) == 0) {
      i.size = static_cast<uint64_t>(s.st_size);
      i.mtime_ns = MtimeNs(s);
    }
    return i;
  }
};

}  // namespace

Status Storage::WriteIfAbsent(const std::string& uri, std::string_view) {
  return Unsupported("this storage has no exclusive create").At(uri);
}

Result<std::string> Storage::ReadRange(const std::string& uri, uint64_t offset, uint64_t length) {
  FB_ASSIGN_OR_RETURN(auto in, OpenRead(uri));
  std::string out;
  char buf[1 << 16];
  uint64_t pos = 0;
  while (out.size() < length) {
    const size_t want = pos < offset ? std::min<uint64_t>(sizeof buf, offset - pos)
                                     : std::min<uint64_t>(sizeof buf, length - out.size());
    FB_ASSIGN_OR_RETURN(size_t n, in->Read(buf, want));
    if (n == 0) {
      return InvalidData("the object ends at byte " + std::to_string(pos) + ", before byte " +
                         std::to_string(offset + length))
          .At(uri);
    }
    if (pos >= offset) out.append(buf, n);
    pos += n;
  }
  return out;
}

Result<std::string> Storage::ReadAll(const std::string& uri) {
  FB_ASSIGN_OR_RETURN(auto in, OpenRead(uri));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    FB_ASSIGN_OR_RETURN(size_t n, in->Read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Status Storage::WriteAll(const std::string& uri, std::string_view bytes) {
  FB_ASSIGN_OR_RETURN(auto out, OpenWrite(uri));
  Status st = out->Write(bytes);
  if (st.ok()) st = out->Commit();
  if (!st.ok()) out->Abort();
  return st;
}

Result<std::string> JoinUnder(const std::string& prefix, std::string_view relative) {
  if (relative.empty()) return InvalidArgument("empty relative path under " + prefix);
  if (relative.front() == '/')
    return InvalidArgument("absolute path '" + std::string(relative) + "' under " + prefix);
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view part = relative.substr(start, end - start);
    if (part == ".." || part == ".") {
      return InvalidArgument("path '" + std::string(relative) + "' would escape " + prefix);
    }
    if (part.find('\0') != std::string_view::npos) return InvalidArgument("path contains a NUL byte");
    start = end + 1;
  }
  std::string out = prefix;
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(relative);
  return out;
}

bool IsS3Uri(std::string_view uri) { return uri.substr(0, 5) == "s3://"; }

std::shared_ptr<Storage> LocalStorage() {
  static std::shared_ptr<Storage> local = std::make_shared<Local>();
  return local;
}

Result<std::shared_ptr<Storage>> StorageFor(const std::string& uri) {
  if (IsS3Uri(uri)) return S3StorageFromEnvironment();
  if (uri.find("://") != std::string::npos) return Unsupported("unknown URI scheme").At(uri);
  return LocalStorage();
}

}  // namespace fb
