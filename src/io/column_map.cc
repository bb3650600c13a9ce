#include "io/column_map.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "io/csv_text.h"

namespace fb {
namespace {

// The input columns fill every feature exactly once.
Status CheckInputColumns(const CsvSchema& schema) {
  std::vector<uint8_t> filled(schema.n_features, 0);
  for (const CsvInputColumn& c : schema.input_columns) {
    const int64_t width = c.categories.empty() ? 1 : static_cast<int64_t>(c.categories.size());
    if (c.first_feature < 0 || c.first_feature + width > schema.n_features)
      return InvalidArgument("input column '" + c.name + "' fills features beyond the model's");
    for (int64_t f = c.first_feature; f < c.first_feature + width; ++f) {
      if (filled[f]++) return InvalidArgument("input columns overlap at feature " + std::to_string(f));
    }
  }
  for (int32_t f = 0; f < schema.n_features; ++f)
    if (!filled[f]) return InvalidArgument("no input column fills feature " + std::to_string(f));
  return Status::Ok();
}

std::string ListSome(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < 20; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 20) list += ", ... (" + std::to_string(names.size() - 20) + " more)";
  return list;
}

struct Mapper {
  const std::vector<std::string>& header;
  bool has_header;
  const CsvSchema& schema;
  char delimiter;
  const std::string& file;
  uint64_t line;
  ColumnMap m;
  std::vector<uint8_t> is_kept;

  // The header's columns by name (blanks around them trimmed); InvalidData
  // when a name appears twice.
  Status IndexHeader(std::unordered_map<std::string_view, int32_t>* by_name) const {
    const int32_t nc = static_cast<int32_t>(header.size());
    for (int32_t c = 0; c < nc; ++c) {
      std::string_view col_name = TrimBlanks(header[c], delimiter);
      auto [it, inserted] = by_name->emplace(col_name, c);
      if (!inserted) {
        return InvalidData("column '" + std::string(col_name) + "' appears twice (columns " +
                           std::to_string(it->second + 1) + " and " + std::to_string(c + 1) + ")")
            .At(file, line, c + 1);
      }
    }
    return Status::Ok();
  }

  // InvalidData naming what the header lacks of the model's `total` `what`
  // (features, input columns); Ok when it lacks nothing.
  Status Lacks(const std::vector<std::string>& missing, size_t total, const char* what) const {
    if (missing.empty()) return Status::Ok();
    return InvalidData("the header lacks " + std::to_string(missing.size()) + " of the model's " +
                       std::to_string(total) + " " + what + ": " + ListSome(missing))
        .At(file, line);
  }

  Status ByFeatureNames() {
    const int32_t nf = schema.n_features;
    const int32_t nc = static_cast<int32_t>(header.size());
    std::unordered_map<std::string_view, int32_t> by_name;
    for (int32_t f = 0; f < nf; ++f) by_name.emplace(schema.feature_names[f], f);
    std::vector<int32_t> feature_col(nf, -1);
    for (int32_t c = 0; c < nc; ++c) {
      auto it = by_name.find(header[c]);
      if (it == by_name.end()) continue;
      if (feature_col[it->second] >= 0) {
        return InvalidData("column '" + header[c] + "' appears twice (columns " +
                           std::to_string(feature_col[it->second] + 1) + " and " + std::to_string(c + 1) +
                           ")")
            .At(file, line, c + 1);
      }
      feature_col[it->second] = c;
      m.col_to_feature[c] = it->second;
    }
    std::vector<std::string> missing;
    for (int32_t f = 0; f < nf; ++f)
      if (feature_col[f] < 0) missing.push_back(schema.feature_names[f]);
    return Lacks(missing, static_cast<size_t>(nf), "features");
  }

  // The raw input columns of the model's preprocessing: by name from the
  // header, or by position.
  Status ByPreprocessing() {
    const Preprocessing& p = *schema.preprocessing;
    const int32_t nc = static_cast<int32_t>(header.size());
    if (p.by_name) {
      if (!has_header) {
        return InvalidData(
                   "the model reads its " + std::to_string(p.inputs.size()) +
                   " input columns by name (its Pipeline was fitted on a DataFrame): give the input a "
                   "header row naming them")
            .At(file, line);
      }
      std::unordered_map<std::string_view, int32_t> by_name;
      FB_RETURN_IF_ERROR(IndexHeader(&by_name));
      std::vector<std::string> missing;
      for (size_t i = 0; i < p.inputs.size(); ++i) {
        auto it = by_name.find(p.inputs[i].name);
        if (it == by_name.end()) {
          missing.push_back(p.inputs[i].name);
          continue;
        }
        m.col_to_feature[it->second] = kPreprocessedColumn;
        m.col_input[it->second] = static_cast<int32_t>(i);
      }
      return Lacks(missing, p.inputs.size(), "input columns");
    }
    // By position: the columns that are not kept are the Pipeline's input, in order.
    std::vector<int32_t> data_cols;
    for (int32_t c = 0; c < nc; ++c)
      if (!is_kept[c]) data_cols.push_back(c);
    if (static_cast<int32_t>(data_cols.size()) != p.n_positions) {
      return InvalidData(std::string(has_header ? "the header has " : "the first row has ") +
                         std::to_string(data_cols.size()) + " columns" +
                         (m.kept.empty() ? "" : " besides the " + std::to_string(m.kept.size()) + " kept") +
                         " but the model's Pipeline was fitted on " + std::to_string(p.n_positions) +
                         " (without column names, so columns are taken by position)")
          .At(file, line);
    }
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      const int32_t c = data_cols[p.inputs[i].position];
      m.col_to_feature[c] = kPreprocessedColumn;
      m.col_input[c] = static_cast<int32_t>(i);
    }
    return Status::Ok();
  }

  Status ByInputColumns() {
    FB_RETURN_IF_ERROR(CheckInputColumns(schema));
    std::unordered_map<std::string_view, int32_t> by_name;
    FB_RETURN_IF_ERROR(IndexHeader(&by_name));
    std::vector<std::string> missing;
    for (const CsvInputColumn& ic : schema.input_columns) {  // schema outlives the views below
      auto it = by_name.find(ic.name);
      if (it == by_name.end()) {
        missing.push_back(ic.name);
        continue;
      }
      const int32_t c = it->second;
      if (ic.categories.empty()) {
        m.col_to_feature[c] = ic.first_feature;
        continue;
      }
      m.col_to_feature[c] = kCategoricalColumn;
      m.col_categorical[c] = static_cast<int32_t>(m.categorical.size());
      ColumnMap::Categorical cat;
      cat.first_feature = ic.first_feature;
      cat.width = static_cast<int32_t>(ic.categories.size());
      cat.name = ic.name;
      for (size_t k = 0; k < ic.categories.size(); ++k)
        cat.index.emplace(ic.categories[k], static_cast<int32_t>(k));
      m.categorical.push_back(std::move(cat));
    }
    return Lacks(missing, schema.input_columns.size(), "input columns");
  }
};

}  // namespace

Result<ColumnMap> MapColumns(const std::vector<std::string>& names, bool has_header, const CsvSchema& schema,
                             const std::vector<std::string>& keep, char delimiter, const std::string& file,
                             uint64_t line) {
  const int32_t nc = static_cast<int32_t>(names.size());
  const int32_t nf = schema.n_features;
  Mapper mp{names, has_header, schema, delimiter, file, line, {}, std::vector<uint8_t>(nc, 0)};
  ColumnMap& m = mp.m;
  m.col_to_feature.assign(nc, kIgnoredColumn);
  m.col_categorical.assign(nc, -1);
  m.col_input.assign(nc, -1);

  // Kept columns: by name with a header, else by 1-based position.
  for (const std::string& k : keep) {
    int32_t col = -1;
    if (has_header) {
      for (int32_t c = 0; c < nc; ++c) {
        if (names[c] == k || TrimBlanks(names[c], delimiter) == k) {
          if (col >= 0) {
            return InvalidData("--keep-columns: column '" + k + "' appears twice (columns " +
                               std::to_string(col + 1) + " and " + std::to_string(c + 1) + ")")
                .At(file, line);
          }
          col = c;
        }
      }
      if (col < 0) {
        std::vector<std::string> some(names.begin(), names.begin() + std::min<int32_t>(nc, 20));
        return InvalidData("--keep-columns: no column '" + k + "' in the input (it has: " + ListSome(names) +
                           ")")
            .At(file, line);
      }
    } else {
      char* end = nullptr;
      const long pos = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || pos < 1) {
        return InvalidData(
                   "--keep-columns: the input has no header, so columns are named by 1-based position; '" +
                   k + "' is not a position")
            .At(file, line);
      }
      if (pos > nc) {
        return InvalidData("--keep-columns: column " + k + " is past the input's " + std::to_string(nc) +
                           " columns")
            .At(file, line);
      }
      col = static_cast<int32_t>(pos - 1);
    }
    if (std::find(m.kept.begin(), m.kept.end(), col) != m.kept.end())
      return InvalidArgument("--keep-columns names column '" + k + "' twice");
    m.kept.push_back(col);
    m.kept_names.push_back(has_header ? std::string(TrimBlanks(names[col], delimiter)) : "column_" + k);
    mp.is_kept[col] = 1;
  }

  auto has_all = [&](const std::vector<std::string>& want, bool trim) {
    std::unordered_set<std::string_view> present;
    for (const std::string& f : names) present.insert(trim ? TrimBlanks(f, delimiter) : std::string_view(f));
    return std::all_of(want.begin(), want.end(), [&](const std::string& n) { return present.count(n); });
  };
  std::vector<std::string> raw_names;
  for (const CsvInputColumn& c : schema.input_columns) raw_names.push_back(c.name);
  if (schema.preprocessing) {
    FB_RETURN_IF_ERROR(mp.ByPreprocessing());
  } else if (has_header && !raw_names.empty() &&
             (has_all(raw_names, true) || schema.feature_names.empty() ||
              !has_all(schema.feature_names, false))) {
    FB_RETURN_IF_ERROR(mp.ByInputColumns());
  } else if (has_header && !schema.feature_names.empty()) {
    FB_RETURN_IF_ERROR(mp.ByFeatureNames());
  } else {
    const int32_t n_data = nc - static_cast<int32_t>(m.kept.size());
    if (n_data != nf) {
      std::string what = has_header ? "the header has " : "the first row has ";
      std::string why = has_header ? " (the model has no feature names to match columns by)" : "";
      if (!raw_names.empty())
        why =
            " (the model was trained on raw columns, some categorical: give the input a header row naming "
            "them)";
      std::string kept_note = m.kept.empty() ? "" : " besides the " + std::to_string(m.kept.size()) + " kept";
      return InvalidData(what + std::to_string(n_data) + " columns" + kept_note + " but the model expects " +
                         std::to_string(nf) + " features" + why)
          .At(file, line);
    }
    int32_t f = 0;
    for (int32_t c = 0; c < nc; ++c)
      if (!mp.is_kept[c]) m.col_to_feature[c] = f++;
  }
  return std::move(mp.m);
}

Status RunPreprocessing(const CsvSchema& schema, const CsvOptions& opt, PrepRow* prep, float* row) {
  const Preprocessing& p = *schema.preprocessing;
  FB_RETURN_IF_ERROR(p.Run(prep, row, schema.float64_features.empty() ? nullptr : &schema.float64_features));
  for (int32_t f = 0; f < schema.n_features; ++f) {
    if (opt.missing_is_error && std::isnan(row[f])) {
      return InvalidData(
          "Input X contains NaN: feature " + std::to_string(f) +
          " is missing after the model's preprocessing; the estimator does not accept missing values");
    }
    if (opt.infinity_is_error && std::isinf(row[f])) {
      return InvalidData("Input X contains infinity or a value too large for dtype('float32'): feature " +
                         std::to_string(f) + " after the model's preprocessing");
    }
  }
  return Status::Ok();
}

}  // namespace fb
