#include "common/format.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace fb {

void AppendPythonFloat(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("nan");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-inf" : "inf");
    return;
  }
  // Python's repr: shortest round-trip digits; scientific when the decimal
  // exponent is < -4 or >= 16, else positional with at least one decimal.
  char digits[32];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v, std::chars_format::scientific);
  (void)ec;
  // digits = "[-]d[.ddd]e[+-]XX"
  std::string_view s(digits, end - digits);
  bool neg = s[0] == '-';
  if (neg) s.remove_prefix(1);
  size_t epos = s.find('e');
  int exp10 = 0;
  std::from_chars(s.data() + epos + 1 + (s[epos + 1] == '+' ? 1 : 0), s.data() + s.size(), exp10);
  std::string mant;
  for (size_t i = 0; i < epos; ++i)
    if (s[i] != '.') mant.push_back(s[i]);
  if (neg) out->push_back('-');
  if (exp10 < -4 || exp10 >= 16) {
    out->push_back(mant[0]);
    if (mant.size() > 1) {
      out->push_back('.');
      out->append(mant, 1);
    }
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out->append(e);
    return;
  }
  if (exp10 < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exp10 - 1), '0');
    out->append(mant);
    return;
  }
  size_t int_digits = static_cast<size_t>(exp10) + 1;
  if (mant.size() <= int_digits) {
    out->append(mant);
    out->append(int_digits - mant.size(), '0');
    out->append(".0");
  } else {
    out->append(mant, 0, int_digits);
    out->push_back('.');
    out->append(mant, int_digits);
  }
}

std::string PythonFloat(double v) {
  std::string s;
  AppendPythonFloat(&s, v);
  return s;
}

}  // namespace fb
