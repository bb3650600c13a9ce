#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "common/atomic_file.h"
#include "common/shell_quote.h"
#include "runner/file_executor.h"
#include "runner/manifest.h"

namespace fb {
namespace {

std::string Substitute(std::string arg, const std::string& input, const std::string& output) {
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"{input}", input}, {"{output}", output}}) {
    for (size_t at = arg.find(key); at != std::string::npos; at = arg.find(key, at + value.size())) {
      arg.replace(at, key.size(), value);
    }
  }
  return arg;
}

std::string Errno() { return std::strerror(errno); }

Status FsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open for fsync: " + Errno()).At(path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("fsync failed: " + Errno()).At(path);
  return Status::Ok();
}

class PredictorExecutor final : public FileExecutor {
 public:
  explicit PredictorExecutor(std::unique_ptr<FilePredictor> p) : p_(std::move(p)) {}
  Result<FileStats> Run(const std::string& input, const std::string& output,
                        const std::atomic<bool>* cancel) override {
    return p_->Run(input, output, cancel);
  }

 private:
  std::unique_ptr<FilePredictor> p_;
};

class CommandExecutor final : public FileExecutor {
 public:
  CommandExecutor(std::string command, std::vector<std::string> args, bool shell)
      : command_(std::move(command)), args_(std::move(args)), shell_(shell) {}

  Result<FileStats> Run(const std::string& input, const std::string& output,
                        const std::atomic<bool>* cancel) override {
    namespace fs = std::filesystem;
    auto start = std::chrono::steady_clock::now();
    if (IsS3Uri(input) || IsS3Uri(output)) return Unsupported("--exec works on local files only").At(input);
    fs::path out(output);
    std::error_code ec;
    if (out.has_parent_path()) {
      fs::create_directories(out.parent_path(), ec);
      if (ec) return IoError("cannot create folder: " + ec.message()).At(out.parent_path().string());
    }
    const std::string temp = (out.parent_path() / TemporaryNameFor(out.filename().string())).string();

    std::vector<std::string> argv;
    if (shell_) {
      argv = {"/bin/sh", "-c", Substitute(command_, ShellQuote(input), ShellQuote(temp))};
    } else {
      for (const auto& a : args_) argv.push_back(Substitute(a, input, temp));
    }
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) return IoError("fork failed: " + Errno());
    if (pid == 0) {
      // Only async-signal-safe calls here. Die with the worker, so a killed
      // worker never leaves a command writing behind it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execvp(cargv[0], cargv.data());
      const char msg[] = "forestbatch: --exec: cannot run the command\n";
      (void)!::write(2, msg, sizeof msg - 1);
      ::_exit(127);
    }
    int wstatus = 0;
    bool cancelled = false;
    for (;;) {
      pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) return IoError("waitpid failed: " + Errno());
      if (!cancelled && cancel != nullptr && cancel->load()) {
        cancelled = true;
        ::kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto drop = [&] { ::unlink(temp.c_str()); };
    if (cancelled) {
      drop();
      return Cancelled("stopped before the command finished").At(input);
    }
    if (WIFSIGNALED(wstatus)) {
      drop();
      return IoError("command killed by signal " + std::to_string(WTERMSIG(wstatus)) + ": " + argv[0])
          .At(input);
    }
    if (WEXITSTATUS(wstatus) != 0) {
      drop();
      return IoError("command exited with status " + std::to_string(WEXITSTATUS(wstatus)) + ": " + argv[0])
          .At(input);
    }
    auto data = LocalStorage()->ReadAll(temp);
    if (!data.ok()) {
      drop();
      return IoError("the command exited 0 but wrote no output at {output}").At(input);
    }
    FileStats st;
    st.output_bytes = data->size();
    st.output_sha256 = Sha256Hex(*data);
    for (char c : *data) st.rows += c == '\n';
    if (!data->empty() && data->back() != '\n') ++st.rows;
    Status s = FsyncPath(temp, O_RDONLY);
    if (s.ok() && ::rename(temp.c_str(), output.c_str()) != 0)
      s = IoError("rename failed: " + Errno()).At(output);
    if (!s.ok()) {
      drop();
      return s;
    }
    (void)FsyncPath(out.has_parent_path() ? out.parent_path().string() : ".", O_RDONLY | O_DIRECTORY);
    st.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return st;
  }

 private:
  std::string command_;
  std::vector<std::string> args_;
  bool shell_;
};

}  // namespace

std::unique_ptr<FileExecutor> MakePredictorExecutor(std::unique_ptr<FilePredictor> predictor) {
  return std::make_unique<PredictorExecutor>(std::move(predictor));
}

Result<std::vector<std::string>> SplitCommand(const std::string& command) {
  std::vector<std::string> out;
  std::string cur;
  bool in_arg = false;
  char quote = 0;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        cur.push_back(c);
    } else if (c == '\\') {
      if (i + 1 >= command.size()) return InvalidArgument("--exec: trailing backslash");
      cur.push_back(command[++i]);
      in_arg = true;
    } else if (quote == '"') {
      if (c == '"')
        quote = 0;
      else
        cur.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_arg = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_arg) out.push_back(std::move(cur));
      cur.clear();
      in_arg = false;
    } else {
      cur.push_back(c);
      in_arg = true;
    }
  }
  if (quote != 0) return InvalidArgument("--exec: unterminated quote");
  if (in_arg) out.push_back(std::move(cur));
  if (out.empty()) return InvalidArgument("--exec: empty command");
  return out;
}

Result<std::unique_ptr<FileExecutor>> MakeCommandExecutor(const std::string& command, bool shell) {
  if (command.find("{output}") == std::string::npos)
    return InvalidArgument("--exec: the command must contain {output}");
  std::vector<std::string> args;
  if (!shell) {
    FB_ASSIGN_OR_RETURN(args, SplitCommand(command));
  }
  return std::unique_ptr<FileExecutor>(new CommandExecutor(command, std::move(args), shell));
}

}  // namespace fb
