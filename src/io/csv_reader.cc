#include "io/csv_reader.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "io/csv_reader_impl.h"
#include "io/csv_text.h"

namespace fb {

namespace {

void EnsureSize(std::vector<char>* v, size_t n) {
  if (v->size() < n) v->resize(std::max(n, v->size() + v->size() / 2));
}

}  // namespace

Result<bool> CsvReader::Impl::NextChunk(CsvChunk* chunk) {
  size_t size = carry.size();
  size_t target = std::max(opt.chunk_bytes, size + 1);
  EnsureSize(&chunk->bytes, target + 1);
  if (size) std::memcpy(chunk->bytes.data(), carry.data(), size);
  carry.clear();
  for (;;) {
    while (size < target && !eof) {
      FB_ASSIGN_OR_RETURN(size_t got, stream->Read(chunk->bytes.data() + size, target - size));
      if (got == 0) {
        eof = true;
      } else {
        size += got;
      }
    }
    peak = std::max(peak, chunk->bytes.size() + carry.capacity());
    char* b = chunk->bytes.data();
    if (eof) {
      if (size == 0) {
        chunk->size = 0;
        return false;
      }
      if (b[size - 1] != '\n') b[size++] = '\n';  // room reserved above
      chunk->size = size;
      chunk->has_quotes = std::memchr(b, '"', size) != nullptr;
      return true;
    }
    bool quotes = std::memchr(b, '"', size) != nullptr;
    size_t boundary = quotes ? LastRowBoundaryQuoted(b, size, opt.delimiter) : LastRowBoundary(b, size);
    if (boundary == 0) {
      if (size >= opt.max_row_bytes) {
        locate_next = true;
        return InvalidData("a row is longer than " + std::to_string(opt.max_row_bytes) +
                           " bytes (or a quoted field is never closed)")
            .At(name);
      }
      target = std::min(size * 2, opt.max_row_bytes);
      EnsureSize(&chunk->bytes, target + 1);
      continue;
    }
    carry.assign(b + boundary, b + size);
    chunk->size = boundary;
    chunk->has_quotes = quotes;
    return true;
  }
}

std::string CsvReader::Impl::ColumnLabel(int32_t col) const {
  std::string s = "column " + std::to_string(col + 1);
  if (has_header && !schema.input_columns.empty()) return s + " ('" + column_names[col] + "')";
  int32_t f = col_to_feature[col];
  if (f >= 0 && !schema.feature_names.empty()) s += " ('" + schema.feature_names[f] + "')";
  return s;
}

Status CsvReader::Impl::StoreText(std::string_view text, int32_t col, float* row, uint64_t line) const {
  const int32_t f = col_to_feature[col];
  if (f == kCategoricalColumn) {
    // Every indicator is written, so a row never keeps an earlier row's 1.
    const Categorical& c = categorical[col_categorical[col]];
    std::fill(row + c.first_feature, row + c.first_feature + c.width, 0.0f);
    auto it = c.index.find(TrimBlanks(text, opt.delimiter));
    if (it != c.index.end()) row[c.first_feature + it->second] = 1.0f;
    return Status::Ok();
  }
  if (f < 0) return Status::Ok();
  std::string_view t = TrimBlanks(text, opt.delimiter);
  double v;
  bool missing = IsMissingSpelling(t);
  if (!missing) {
    if (!ParseNumber(t, &v)) {
      std::string shown(text.substr(0, 40));
      if (text.size() > 40) shown += "...";
      return InvalidData("not a number: '" + shown + "' in " + ColumnLabel(col)).At(name, line, col + 1);
    }
    missing = std::isnan(v);
  }
  if (missing) {
    if (opt.missing_is_error) {
      return InvalidData("Input X contains NaN: missing value '" + std::string(t) + "' in " +
                         ColumnLabel(col) + "; this model does not accept missing values")
          .At(name, line, col + 1);
    }
    row[f] = std::numeric_limits<float>::quiet_NaN();
    return Status::Ok();
  }
  row[f] = static_cast<float>(v);
  return Status::Ok();
}

CsvReader::CsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvReader::~CsvReader() = default;

Result<std::unique_ptr<CsvReader>> CsvReader::Open(std::unique_ptr<ReadStream> stream, std::string name,
                                                   const CsvOptions& options, const CsvSchema& schema) {
  const char d = options.delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0') {
    return InvalidArgument(std::string("the delimiter cannot be a quote, a line end or NUL"));
  }
  if (schema.n_features <= 0) return InvalidArgument("the model has no features");
  auto m = std::make_unique<Impl>();
  m->stream = std::move(stream);
  m->name = std::move(name);
  m->opt = options;
  m->opt.chunk_bytes = std::max<size_t>(options.chunk_bytes, 64);
  m->opt.max_row_bytes = std::max(options.max_row_bytes, m->opt.chunk_bytes);
  m->schema = schema;

  // The first non-blank row decides the header and the column count.
  CsvChunk first;
  uint64_t line = 1;
  const char* p = nullptr;
  const char* end = nullptr;
  for (;;) {
    FB_ASSIGN_OR_RETURN(bool got, m->NextChunk(&first));
    if (!got) return InvalidData("empty file: no header and no rows").At(m->name);
    p = first.bytes.data();
    end = p + first.size;
    p = SkipBlankLines(p, end, &line);
    if (p < end) break;
  }
  std::vector<std::string> fields;
  const char* next = nullptr;
  uint64_t row_lines = 0;
  if (!SplitRow(p, end, d, &fields, &next, &row_lines)) {
    return InvalidData("a quoted field is never closed").At(m->name, line, fields.size() + 1);
  }
  bool header = options.header == CsvHeader::kYes;
  if (options.header == CsvHeader::kAuto) {
    for (const std::string& f : fields) {
      std::string_view t = TrimBlanks(f, d);
      double v;
      if (!IsMissingSpelling(t) && !ParseNumber(t, &v)) header = true;
    }
  }
  m->n_columns = static_cast<int32_t>(fields.size());
  m->has_header = header;
  const char* data_start = p;
  m->lines_accounted = line - 1;
  if (header) {
    data_start = next;
    m->lines_accounted += row_lines;
    m->column_names = fields;
  }
  // Put the unread part back in front of what the reader still holds.
  std::vector<char> rest(data_start, end);
  rest.insert(rest.end(), m->carry.begin(), m->carry.end());
  m->carry = std::move(rest);

  // Column mapping. A model trained on raw columns reads them by name; a
  // file that has instead every one of its (expanded) features by name is
  // read by those, as is any other model's.
  m->col_to_feature.assign(m->n_columns, kIgnoredColumn);
  m->col_categorical.assign(m->n_columns, -1);
  const int32_t nf = schema.n_features;
  auto has_all = [&](const std::vector<std::string>& names, bool trim) {
    std::unordered_set<std::string_view> present;
    for (const std::string& f : fields) present.insert(trim ? TrimBlanks(f, d) : std::string_view(f));
    return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return present.count(n); });
  };
  std::vector<std::string> raw_names;
  for (const CsvInputColumn& c : schema.input_columns) raw_names.push_back(c.name);
  if (header && !raw_names.empty() &&
      (has_all(raw_names, true) || schema.feature_names.empty() || !has_all(schema.feature_names, false))) {
    FB_RETURN_IF_ERROR(m->MapInputColumns(fields, line));
  } else if (header && !schema.feature_names.empty()) {
    FB_RETURN_IF_ERROR(m->MapFeatureNames(fields, line));
  } else {
    if (m->n_columns != nf) {
      std::string what = header ? "the header has " : "the first row has ";
      std::string why = header ? " (the model has no feature names to match columns by)" : "";
      if (!raw_names.empty())
        why =
            " (the model was trained on raw columns, some categorical: give the input a header row naming "
            "them)";
      return InvalidData(what + std::to_string(m->n_columns) + " columns but the model expects " +
                         std::to_string(nf) + " features" + why)
          .At(m->name, line);
    }
    for (int32_t c = 0; c < nf; ++c) m->col_to_feature[c] = c;
  }
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(m)));
}

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

}  // namespace

Status CsvReader::Impl::MapFeatureNames(const std::vector<std::string>& header, uint64_t line) {
  const int32_t nf = schema.n_features;
  std::unordered_map<std::string_view, int32_t> by_name;
  for (int32_t f = 0; f < nf; ++f) by_name.emplace(schema.feature_names[f], f);
  std::vector<int32_t> feature_col(nf, -1);
  for (int32_t c = 0; c < n_columns; ++c) {
    auto it = by_name.find(header[c]);
    if (it == by_name.end()) continue;
    if (feature_col[it->second] >= 0) {
      return InvalidData("column '" + header[c] + "' appears twice (columns " +
                         std::to_string(feature_col[it->second] + 1) + " and " + std::to_string(c + 1) + ")")
          .At(name, line, c + 1);
    }
    feature_col[it->second] = c;
    col_to_feature[c] = it->second;
  }
  std::vector<std::string> missing;
  for (int32_t f = 0; f < nf; ++f)
    if (feature_col[f] < 0) missing.push_back(schema.feature_names[f]);
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 20) list += ", ... (" + std::to_string(missing.size() - 20) + " more)";
    return InvalidData("the header lacks " + std::to_string(missing.size()) + " of the model's " +
                       std::to_string(nf) + " features: " + list)
        .At(name, line);
  }
  return Status::Ok();
}

Status CsvReader::Impl::MapInputColumns(const std::vector<std::string>& header, uint64_t line) {
  FB_RETURN_IF_ERROR(CheckInputColumns(schema));
  std::unordered_map<std::string_view, int32_t> by_name;
  for (int32_t c = 0; c < n_columns; ++c) {
    std::string_view col_name = TrimBlanks(header[c], opt.delimiter);
    auto [it, inserted] = by_name.emplace(col_name, c);
    if (!inserted) {
      return InvalidData("column '" + std::string(col_name) + "' appears twice (columns " +
                         std::to_string(it->second + 1) + " and " + std::to_string(c + 1) + ")")
          .At(name, line, c + 1);
    }
  }
  std::vector<std::string> missing;
  for (const CsvInputColumn& ic : schema.input_columns) {  // schema outlives the views below
    auto it = by_name.find(ic.name);
    if (it == by_name.end()) {
      missing.push_back(ic.name);
      continue;
    }
    const int32_t c = it->second;
    if (ic.categories.empty()) {
      col_to_feature[c] = ic.first_feature;
      continue;
    }
    col_to_feature[c] = kCategoricalColumn;
    col_categorical[c] = static_cast<int32_t>(categorical.size());
    Categorical cat;
    cat.first_feature = ic.first_feature;
    cat.width = static_cast<int32_t>(ic.categories.size());
    cat.name = ic.name;
    for (size_t k = 0; k < ic.categories.size(); ++k)
      cat.index.emplace(ic.categories[k], static_cast<int32_t>(k));
    categorical.push_back(std::move(cat));
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 20) list += ", ... (" + std::to_string(missing.size() - 20) + " more)";
    return InvalidData("the header lacks " + std::to_string(missing.size()) + " of the model's " +
                       std::to_string(schema.input_columns.size()) + " input columns: " + list)
        .At(name, line);
  }
  return Status::Ok();
}

Result<bool> CsvReader::NextChunk(CsvChunk* chunk) { return impl_->NextChunk(chunk); }
bool CsvReader::at_end() const { return impl_->eof; }
bool CsvReader::has_header() const { return impl_->has_header; }
const std::vector<std::string>& CsvReader::column_names() const { return impl_->column_names; }
int32_t CsvReader::n_columns() const { return impl_->n_columns; }
uint64_t CsvReader::rows_accounted() const { return impl_->rows_accounted; }
size_t CsvReader::peak_buffer_bytes() const { return impl_->peak; }

Status CsvReader::Account(const CsvBlock& block) {
  if (!block.error.ok()) {
    Status e = block.error;
    e.At(impl_->name, impl_->lines_accounted + e.line(), e.column());
    return e;
  }
  impl_->lines_accounted += block.lines;
  impl_->rows_accounted += block.rows;
  return Status::Ok();
}

Status CsvReader::Locate(Status status) const {
  if (impl_->locate_next && status.line() == 0) {
    status.At(impl_->name, impl_->lines_accounted + 1, 0);
  }
  return status;
}

}  // namespace fb
