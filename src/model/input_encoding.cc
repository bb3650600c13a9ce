#include "model/input_encoding.h"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/missing_values.h"

namespace fb {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

}  // namespace

std::string_view TrimField(std::string_view f) {
  while (!f.empty() && IsBlank(f.front())) f.remove_prefix(1);
  while (!f.empty() && IsBlank(f.back())) f.remove_suffix(1);
  return f;
}

bool IsMissingToken(std::string_view f) { return IsMissingSpelling(TrimField(f)); }

bool ParseNumber(std::string_view f, float* out) {
  f = TrimField(f);
  if (f.empty() || IsMissingToken(f)) return false;
  const char* begin = f.data();
  if (*begin == '+') ++begin;  // fast_float rejects a leading '+'
  double v = 0;
  auto r = fast_float::from_chars(begin, f.data() + f.size(), v);
  if (r.ec != std::errc() || r.ptr != f.data() + f.size()) return false;
  *out = static_cast<float>(v);
  return true;
}

Result<InputEncoder> InputEncoder::Make(const InputEncoding& encoding, int32_t n_features,
                                        const std::vector<std::string>& header) {
  InputEncoder e;
  e.n_features_ = n_features;
  e.n_fields_ = header.size();
  for (const InputColumn& c : encoding.columns) {
    auto it = std::find(header.begin(), header.end(), c.name);
    if (it == header.end()) {
      return InvalidData(fmt::format("input has no column '{}', which the model was trained on", c.name));
    }
    Column col;
    col.field = static_cast<size_t>(it - header.begin());
    col.first_feature = c.first_feature;
    col.width = c.width();
    col.categorical = c.categorical();
    col.name = c.name;
    for (size_t k = 0; k < c.categories.size(); ++k)
      col.index.emplace(c.categories[k], static_cast<int32_t>(k));
    e.columns_.push_back(std::move(col));
  }
  return e;
}

Status InputEncoder::EncodeRow(const std::vector<std::string_view>& fields, float* out) const {
  for (const Column& c : columns_) {
    std::string_view f = c.field < fields.size() ? TrimField(fields[c.field]) : std::string_view();
    if (c.categorical) {
      std::fill(out + c.first_feature, out + c.first_feature + c.width, 0.0f);
      auto it = c.index.find(std::string(f));
      if (it != c.index.end()) out[c.first_feature + it->second] = 1.0f;
      continue;
    }
    float v;
    if (ParseNumber(f, &v)) {
      out[c.first_feature] = v;
    } else if (IsMissingToken(f)) {
      out[c.first_feature] = std::numeric_limits<float>::quiet_NaN();
    } else {
      return InvalidData(
          fmt::format("column {} ('{}') is numeric in the model but holds '{}'", c.field + 1, c.name, f));
    }
  }
  return Status::Ok();
}

}  // namespace fb
