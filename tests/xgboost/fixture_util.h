// Helpers for the XGBoost fixtures in tests/xgboost/fixtures/ (see
// make_fixtures.py): file lists and CSV matrices.
#pragma once

#include <string>
#include <vector>

namespace fb::testing {

std::string FixtureDir();
// Base names (NAME of NAME.json) of every fixture, sorted.
std::vector<std::string> FixtureNames();
// A numeric CSV without header ("nan" allowed) as rows of doubles.
std::vector<std::vector<double>> ReadCsvMatrix(const std::string& path);
std::string ReadText(const std::string& path);

}  // namespace fb::testing
