#include "common/status.h"

#include "common/text_escape.h"

namespace fb {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kInvalidData: return "invalid data";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out;
  if (!path_.empty()) {
    AppendEscapedForMessage(&out, path_, /*keep_line_breaks=*/false);
    if (line_ > 0) {
      out += ":" + std::to_string(line_);
      if (column_ > 0) out += ":" + std::to_string(column_);
    }
    out += ": ";
  }
  AppendEscapedForMessage(&out, message_, /*keep_line_breaks=*/true);
  return out;
}

}  // namespace fb
