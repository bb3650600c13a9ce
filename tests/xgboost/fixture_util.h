// Helpers for the XGBoost fixtures in tests/xgboost/fixtures/ (see
// make_fixtures.py): file lists and CSV matrices.
#pragma once

#include <string>
#include <vector>

namespace fb::testing {

// fixtures/: made by python3-xgboost 1.7.4 (Debian 12), plus the crafted
// 2.x/3.1 layouts.
std::string FixtureDir();
// xgboost3/fixtures/: the same generator run by XGBoost 3.0.0 (Debian 13's
// python3-xgboost; xgboost3/README.md).
std::string Xgboost3FixtureDir();
// Base names (NAME of NAME.json) of every fixture in dir, sorted.
std::vector<std::string> FixtureNames(const std::string& dir = FixtureDir());
// A numeric CSV without header ("nan" allowed) as rows of doubles.
std::vector<std::vector<double>> ReadCsvMatrix(const std::string& path);
std::string ReadText(const std::string& path);

}  // namespace fb::testing
