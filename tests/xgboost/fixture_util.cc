#include "fixture_util.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fb::testing {

std::string FixtureDir() { return std::string(FB_SOURCE_DIR) + "/tests/xgboost/fixtures"; }

std::string Xgboost3FixtureDir() { return std::string(FB_SOURCE_DIR) + "/tests/xgboost/xgboost3/fixtures"; }

std::vector<std::string> FixtureNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string f = e.path().filename().string();
    if (f.size() > 5 && f.ends_with(".json") && !f.ends_with(".meta.json"))
      names.push_back(f.substr(0, f.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<double>> ReadCsvMatrix(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(ReadText(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) row.push_back(std::strtod(cell.c_str(), nullptr));  // "nan" -> NaN
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace fb::testing
