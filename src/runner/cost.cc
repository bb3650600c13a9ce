#include "runner/cost.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace fb {

std::optional<double> JobCost::Cost() const {
  if (!price_per_vcpu_hour) return std::nullopt;
  return vcpu_seconds / 3600.0 * *price_per_vcpu_hour;
}

std::optional<double> JobCost::PerThousandFiles() const {
  auto c = Cost();
  if (!c || files <= 0) return std::nullopt;
  return *c * 1000.0 / static_cast<double>(files);
}

std::optional<double> JobCost::PerMillionRows() const {
  auto c = Cost();
  if (!c || rows == 0) return std::nullopt;
  return *c * 1e6 / static_cast<double>(rows);
}

Result<double> ParsePrice(const std::string& text, const std::string& source) {
  auto bad = [&] {
    return InvalidArgument(
        fmt::format("{}: '{}' is not a price per vCPU-hour (want a number such as 0.0425)", source, text));
  };
  // Digits with at most one decimal point: no sign, exponent, hex, inf or nan.
  if (text.empty() || text.size() > 32) return bad();
  int points = 0, digits = 0;
  for (char ch : text) {
    if (ch == '.') {
      ++points;
    } else if (ch >= '0' && ch <= '9') {
      ++digits;
    } else {
      return bad();
    }
  }
  if (points > 1 || digits == 0) return bad();
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) return bad();
  return v;
}

Result<std::optional<double>> ResolvePrice(const std::string& flag_text, const char* env_value) {
  if (!flag_text.empty()) {
    FB_ASSIGN_OR_RETURN(double v, ParsePrice(flag_text, "--price-per-vcpu-hour"));
    return std::optional<double>(v);
  }
  if (env_value != nullptr && *env_value != '\0') {
    FB_ASSIGN_OR_RETURN(double v, ParsePrice(env_value, kPriceEnv));
    return std::optional<double>(v);
  }
  return std::optional<double>();
}

std::string FormatAmount(double amount) {
  if (!std::isfinite(amount)) return "-";
  if (amount == 0) return "0";
  if (std::fabs(amount) >= 1) return fmt::format("{:.2f}", amount);
  const int decimals = std::min(12, 2 - static_cast<int>(std::floor(std::log10(std::fabs(amount)))));
  return fmt::format("{:.{}f}", amount, decimals);
}

std::string CostLine(const JobCost& c) {
  std::string s = fmt::format("{:.1f} vCPU-seconds", c.vcpu_seconds);
  if (auto cost = c.Cost()) {
    s += fmt::format(", at {} per vCPU-hour: {}", FormatAmount(*c.price_per_vcpu_hour), FormatAmount(*cost));
    if (auto f = c.PerThousandFiles()) s += fmt::format(", {} per 1,000 files", FormatAmount(*f));
    if (auto r = c.PerMillionRows()) s += fmt::format(", {} per million rows", FormatAmount(*r));
  }
  return s;
}

}  // namespace fb
