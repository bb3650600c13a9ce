#include "common/redact.h"

#include <regex>

namespace fb {

std::string RedactSecrets(std::string_view text) {
  static const std::regex kUrlPassword(R"(([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@/\s]*@)");
  // An option followed by its value, or NAME=VALUE, whose name mentions a secret.
  static const std::regex kOption(
      R"((--?[A-Za-z0-9_-]*(?:token|secret|password|passwd|credential|key)[A-Za-z0-9_-]*)(=|\s+)(\S+))",
      std::regex::icase);
  static const std::regex kAssignment(
      R"(([A-Za-z0-9_]*(?:token|secret|password|passwd|credential|key)[A-Za-z0-9_]*)=(\S+))",
      std::regex::icase);
  static const std::regex kAccessKey(R"(\b(AKIA|ASIA)[A-Z0-9]{16}\b)");
  std::string s(text);
  s = std::regex_replace(s, kUrlPassword, "$1:[hidden]@");
  s = std::regex_replace(s, kOption, "$1$2[hidden]");
  s = std::regex_replace(s, kAssignment, "$1=[hidden]");
  s = std::regex_replace(s, kAccessKey, "[hidden]");
  return s;
}

}  // namespace fb
