#include "common/missing_values.h"

namespace fb {

const std::vector<std::string_view> kMissingSpellings = {
    "",        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A",      "NA",  "NULL",    "NaN",      "n/a",  "nan",  "null"};

bool IsMissingSpelling(std::string_view s) {
  if (s.size() > 8) return false;
  for (std::string_view m : kMissingSpellings)
    if (s == m) return true;
  return false;
}

}  // namespace fb
