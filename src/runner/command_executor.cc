#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "common/atomic_file.h"
#include "common/process.h"
#include "runner/file_executor.h"
#include "runner/manifest.h"

namespace fb {
namespace {

// {input} and {output} replaced in one left-to-right pass: a value that
// itself contains "{output}" is never searched again.
std::string SubstituteOnce(const std::string& arg, const std::string& input, const std::string& output) {
  std::string out;
  for (size_t i = 0; i < arg.size();) {
    if (arg.compare(i, 7, "{input}") == 0) {
      out += input;
      i += 7;
    } else if (arg.compare(i, 8, "{output}") == 0) {
      out += output;
      i += 8;
    } else {
      out.push_back(arg[i++]);
    }
  }
  return out;
}

// A path handed to a program as an argument never starts with '-', so that
// no program takes a file name for an option.
std::string NotAnOption(const std::string& path) {
  return !path.empty() && path[0] == '-' ? "./" + path : path;
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
  Result<PreparedFile> Prepare(const std::string& input, const std::string& output,
                               const std::atomic<bool>* cancel) override {
    return p_->Prepare(input, output, cancel);
  }

 private:
  std::unique_ptr<FilePredictor> p_;
};

class CommandExecutor final : public FileExecutor {
 public:
  CommandExecutor(std::string script, std::vector<std::string> args, bool shell)
      : script_(std::move(script)), args_(std::move(args)), shell_(shell) {}

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

    // Paths reach the command as whole arguments (no shell) or only through
    // the environment (a shell): no byte of a file name is ever parsed.
    const std::string in_arg = NotAnOption(input), out_arg = NotAnOption(temp);
    std::vector<std::string> argv;
    if (shell_) {
      argv = {"/bin/sh", "-c", script_, "forestbatch-exec"};
    } else {
      for (const auto& a : args_) argv.push_back(SubstituteOnce(a, in_arg, out_arg));
    }
    ProcessSpec ps;
    ps.argv = argv;
    ps.search_path = true;
    ps.env = EnvironmentWith({"FB_INPUT=" + in_arg, "FB_OUTPUT=" + out_arg});
    // Its own process group, so that stopping the command stops everything
    // it started (and whatever it leaves running in the group, a background
    // job or a subshell, is killed when it ends: nothing writes after it
    // counts as finished); it dies with the worker.
    ps.die_with_parent = true;
    ps.exec_failure_message = "forestbatch: --exec: cannot run the command";
    auto processes = MakeProcessRunner();
    FB_ASSIGN_OR_RETURN(const ProcessId pid, processes->Start(ps));
    bool cancelled = false;
    std::optional<ProcessExit> ended;
    while (!(ended = processes->Poll())) {
      if (!cancelled && cancel != nullptr && cancel->load()) {
        cancelled = true;
        processes->SignalGroup(pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto drop = [&] { ::unlink(temp.c_str()); };
    if (cancelled) {
      drop();
      return Cancelled("stopped before the command finished").At(input);
    }
    if (ended->signal != 0) {
      drop();
      return IoError("command killed by signal " + std::to_string(ended->signal) + ": " + argv[0]).At(input);
    }
    if (ended->exit_code != 0) {
      drop();
      return IoError("command exited with status " + std::to_string(ended->exit_code) + ": " + argv[0])
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
  std::string script_;  // with a shell: the command with placeholders as variables
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

Result<std::string> ShellScriptFor(const std::string& command) {
  // Each open construct that changes how a placeholder would be read.
  enum class Ctx : uint8_t { kPlain, kDouble, kSubst };
  struct Frame {
    Ctx ctx;
    int parens = 0;  // open '(' inside a $( ... ) frame
    // A "..." string that holds a placeholder and looks like code (quotes,
    // ; | & < >, a newline, a substitution) is most likely a script for
    // another interpreter (sh -c "...", eval "..."), which would parse the
    // path: refused.
    bool placeholder = false, code = false;
  };
  std::vector<Frame> stack = {{Ctx::kPlain}};
  bool backquote = false, heredoc = false;
  std::string out;
  auto refuse = [&](const std::string& where) {
    return InvalidArgument(
        "--exec: a placeholder " + where +
        " would be read by a shell again, so a file name could run commands; the shell passes the paths "
        "as the environment variables FB_INPUT and FB_OUTPUT: use \"$FB_INPUT\" and \"$FB_OUTPUT\" there "
        "instead");
  };
  for (size_t i = 0; i < command.size();) {
    const bool in = command.compare(i, 7, "{input}") == 0, outp = command.compare(i, 8, "{output}") == 0;
    if (in || outp) {
      if (backquote) return refuse("inside `...`");
      if (heredoc) return refuse("in a here-document");
      const char* var = in ? "${FB_INPUT}" : "${FB_OUTPUT}";
      if (stack.back().ctx == Ctx::kDouble) stack.back().placeholder = true;
      out += stack.back().ctx == Ctx::kDouble ? std::string(var) : "\"" + std::string(var) + "\"";
      i += in ? 7 : 8;
      continue;
    }
    const char c = command[i];
    Frame& top = stack.back();
    if (c == '\\') {
      out.append(command, i, 2);
      i += 2;
      continue;
    }
    if (top.ctx == Ctx::kDouble && std::strchr("'`;|&<>\n", c) != nullptr) top.code = true;
    if (c == '`') {
      backquote = !backquote;
    } else if (c == '$' && i + 1 < command.size() && command[i + 1] == '(') {
      if (top.ctx == Ctx::kDouble) top.code = true;
      out += "$(";
      i += 2;
      stack.push_back({Ctx::kSubst});
      continue;
    } else if (top.ctx == Ctx::kDouble) {
      if (c == '"') {
        if (top.placeholder && top.code) return refuse("inside a \"...\" that looks like a script");
        stack.pop_back();
      }
    } else if (c == '\'') {
      const size_t close = command.find('\'', i + 1);
      if (close == std::string::npos) return InvalidArgument("--exec: unterminated ' quote");
      const std::string quoted = command.substr(i, close + 1 - i);
      if (quoted.find("{input}") != std::string::npos || quoted.find("{output}") != std::string::npos)
        return refuse("inside '...'");
      out += quoted;
      i = close + 1;
      continue;
    } else if (c == '"') {
      stack.push_back({Ctx::kDouble});
    } else if (c == '<' && command.compare(i, 2, "<<") == 0) {
      heredoc = true;
    } else if (top.ctx == Ctx::kSubst && c == '(') {
      ++top.parens;
    } else if (top.ctx == Ctx::kSubst && c == ')') {
      if (top.parens == 0)
        stack.pop_back();
      else
        --top.parens;
    }
    out.push_back(c);
    ++i;
  }
  if (stack.size() != 1 || backquote) return InvalidArgument("--exec: unterminated quote or substitution");
  return out;
}

Result<std::unique_ptr<FileExecutor>> MakeCommandExecutor(const std::string& command, bool shell) {
  if (command.find("{output}") == std::string::npos)
    return InvalidArgument("--exec: the command must contain {output}");
  std::vector<std::string> args;
  std::string script;
  if (shell) {
    FB_ASSIGN_OR_RETURN(script, ShellScriptFor(command));
  } else {
    FB_ASSIGN_OR_RETURN(args, SplitCommand(command));
  }
  return std::unique_ptr<FileExecutor>(new CommandExecutor(std::move(script), std::move(args), shell));
}

}  // namespace fb
