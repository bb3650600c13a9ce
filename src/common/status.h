// Status and Result<T>: how expected failures travel in forestbatch.
//
// Bad input, unreadable models, I/O and network errors are values, never
// exceptions across a folder boundary. A Status carries a code (which the CLI
// maps to an exit code), a message, and where it applies the place in a file
// (path, line, column; 0 means "not known").
//
// Thread safety: values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fb {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,  // bad command line or option combination
  kInvalidData,      // malformed input file: CSV, model, manifest
  kUnsupported,      // well-formed but not supported (estimator, format version)
  kNotFound,         // file, object or job that does not exist
  kIoError,          // read/write/rename failed, network failure
  kAlreadyExists,    // refusing to overwrite
  kCancelled,        // stopped by a signal or a cancel request
  kInternal,         // a bug: an invariant did not hold
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& path() const { return path_; }
  uint64_t line() const { return line_; }
  uint64_t column() const { return column_; }

  // Attaches a location; returns *this so calls chain:
  //   return InvalidData("not a number").At(path, line, col);
  Status& At(std::string path, uint64_t line = 0, uint64_t column = 0) & {
    path_ = std::move(path);
    line_ = line;
    column_ = column;
    return *this;
  }
  Status&& At(std::string path, uint64_t line = 0, uint64_t column = 0) && {
    return std::move(At(std::move(path), line, column));
  }
  // Sets the path only if none is set yet (for callers that know the file but
  // not the line).
  Status& WithPath(const std::string& path) & {
    if (path_.empty()) path_ = path;
    return *this;
  }
  Status&& WithPath(const std::string& path) && { return std::move(WithPath(path)); }
  // Prefixes context to the message: "loading model: <message>".
  Status& Prefix(const std::string& context) & {
    message_ = context + ": " + message_;
    return *this;
  }
  Status&& Prefix(const std::string& context) && { return std::move(Prefix(context)); }

  // "path:line:column: message" (the parts that are known).
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string path_;
  uint64_t line_ = 0;
  uint64_t column_ = 0;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status InvalidData(std::string m) { return {StatusCode::kInvalidData, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(implicit); must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  Status take_status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace fb

#define FB_CONCAT_INNER(a, b) a##b
#define FB_CONCAT(a, b) FB_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define FB_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::fb::Status fb_status_ = (expr);        \
    if (!fb_status_.ok()) return fb_status_; \
  } while (0)

// FB_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result or returns its Status.
#define FB_ASSIGN_OR_RETURN(lhs, rexpr) FB_ASSIGN_OR_RETURN_IMPL(FB_CONCAT(fb_result_, __LINE__), lhs, rexpr)
#define FB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr)     \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return std::move(tmp).take_status(); \
  lhs = std::move(tmp).value()
