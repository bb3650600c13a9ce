#include "io/csv_reader.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "io/csv_reader_impl.h"
#include "io/csv_text.h"

namespace fb {

const std::vector<std::string_view> kMissingSpellings = {
    "",        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A",      "NA",  "NULL",    "NaN",      "n/a",  "nan",  "null"};

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
  int32_t f = col_to_feature[col];
  if (f >= 0 && !schema.feature_names.empty()) s += " ('" + schema.feature_names[f] + "')";
  return s;
}

Status CsvReader::Impl::StoreText(std::string_view text, int32_t col, float* row, uint64_t line) const {
  const int32_t f = col_to_feature[col];
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

  // Column mapping.
  m->col_to_feature.assign(m->n_columns, -1);
  const int32_t nf = schema.n_features;
  if (header && !schema.feature_names.empty()) {
    std::unordered_map<std::string_view, int32_t> by_name;
    for (int32_t f = 0; f < nf; ++f) by_name.emplace(schema.feature_names[f], f);
    std::vector<int32_t> feature_col(nf, -1);
    for (int32_t c = 0; c < m->n_columns; ++c) {
      auto it = by_name.find(fields[c]);
      if (it == by_name.end()) continue;
      if (feature_col[it->second] >= 0) {
        return InvalidData("column '" + fields[c] + "' appears twice (columns " +
                           std::to_string(feature_col[it->second] + 1) + " and " + std::to_string(c + 1) +
                           ")")
            .At(m->name, line, c + 1);
      }
      feature_col[it->second] = c;
      m->col_to_feature[c] = it->second;
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
          .At(m->name, line);
    }
  } else {
    if (m->n_columns != nf) {
      std::string what = header ? "the header has " : "the first row has ";
      std::string why = header ? " (the model has no feature names to match columns by)" : "";
      return InvalidData(what + std::to_string(m->n_columns) + " columns but the model expects " +
                         std::to_string(nf) + " features" + why)
          .At(m->name, line);
    }
    for (int32_t c = 0; c < nf; ++c) m->col_to_feature[c] = c;
  }
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(m)));
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
