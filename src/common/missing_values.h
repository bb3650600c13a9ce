// The spellings of a missing value, one list for every reader: the CSV
// reader of predict/run/worker (io/) and the trainer's (train/, through
// model/input_encoding.h), so a model trained from raw data sees a field the
// same way when it predicts.
//
// The list is pandas' default NA spellings (pandas 1.5 STR_NA_VALUES, which
// includes the empty field); comparisons are exact (callers trim first).
#pragma once

#include <string_view>
#include <vector>

namespace fb {

extern const std::vector<std::string_view> kMissingSpellings;

// Exactly one of kMissingSpellings.
bool IsMissingSpelling(std::string_view s);

}  // namespace fb
