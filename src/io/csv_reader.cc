#include "io/csv_reader.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "common/text_escape.h"
#include "io/csv_reader_impl.h"
#include "io/csv_text.h"

namespace fb {

namespace {

void EnsureSize(DefaultInitVector<char>* v, size_t n) {
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
  if (has_header && (!schema.input_columns.empty() || schema.preprocessing))
    return s + " ('" + EscapeForMessage(column_names[col]) + "')";
  int32_t f = col_to_feature[col];
  if (f >= 0 && !schema.feature_names.empty()) s += " ('" + EscapeForMessage(schema.feature_names[f]) + "')";
  return s;
}

Status CsvReader::Impl::StoreText(std::string_view text, int32_t col, float* row, uint64_t line,
                                  PrepRow* prep) const {
  const int32_t f = col_to_feature[col];
  if (f == kPreprocessedColumn) return StoreRaw(text, col, line, prep);
  if (f == kCategoricalColumn) {
    // Every indicator is written, so a row never keeps an earlier row's 1.
    const Categorical& c = map.categorical[map.col_categorical[col]];
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
      std::string shown = EscapeForMessage(text.substr(0, 40));
      if (text.size() > 40) shown += "...";
      return InvalidData("not a number: '" + shown + "' in " + ColumnLabel(col)).At(name, line, col + 1);
    }
    missing = std::isnan(v);
    if (!missing && opt.infinity_is_error && std::isinf(static_cast<float>(v))) {
      return InvalidData("Input X contains infinity or a value too large for dtype('float32'): '" +
                         EscapeForMessage(t) + "' in " + ColumnLabel(col))
          .At(name, line, col + 1);
    }
  }
  if (missing) {
    if (opt.missing_is_error) {
      return InvalidData("Input X contains NaN: missing value '" + EscapeForMessage(t) + "' in " +
                         ColumnLabel(col) + "; this model does not accept missing values")
          .At(name, line, col + 1);
    }
    row[f] = std::numeric_limits<float>::quiet_NaN();
    return Status::Ok();
  }
  row[f] = FeatureValue(f, v);
  return Status::Ok();
}

Status CsvReader::Impl::StoreRaw(std::string_view text, int32_t col, uint64_t line, PrepRow* prep) const {
  const int32_t i = map.col_input[col];
  const PrepInput& in = schema.preprocessing->inputs[i];
  if (in.text) {
    // Text as pandas reads it: exact bytes (no trimming); an empty field or a
    // default NA spelling is missing (NaN).
    prep->SetText(i, in.slot, text, text.empty() || IsMissingSpelling(text));
    return Status::Ok();
  }
  std::string_view t = TrimBlanks(text, opt.delimiter);
  double v = std::numeric_limits<double>::quiet_NaN();
  if (!IsMissingSpelling(t)) {
    if (!ParseNumber(t, &v)) {
      std::string shown(text.substr(0, 40));
      if (text.size() > 40) shown += "...";
      return InvalidData("not a number: '" + shown + "' in " + ColumnLabel(col) +
                         ", which the model's preprocessing reads as numbers")
          .At(name, line, col + 1);
    }
    // Every scikit-learn transformer checks its input: infinity is refused.
    if (opt.infinity_is_error && std::isinf(v)) {
      return InvalidData("Input X contains infinity or a value too large for dtype('float64'): '" +
                         std::string(t) + "' in " + ColumnLabel(col))
          .At(name, line, col + 1);
    }
  }
  prep->num[in.slot] = v;
  return Status::Ok();
}

Status CsvReader::Impl::FinishPreprocessedRow(PrepRow* prep, float* row, uint64_t line) const {
  Status st = RunPreprocessing(schema, opt, prep, row);
  if (!st.ok()) st.At(name, line);
  return st;
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
  bool bom_checked = false;
  const char* p = nullptr;
  const char* end = nullptr;
  for (;;) {
    FB_ASSIGN_OR_RETURN(bool got, m->NextChunk(&first));
    if (!got) return InvalidData("empty file: no header and no rows").At(m->name);
    p = first.bytes.data();
    end = p + first.size;
    // A UTF-8 byte order mark (Excel, PowerShell) is not part of the first field.
    if (!bom_checked) {
      bom_checked = true;
      if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    }
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
    // Kept columns given as positions (no field of the first row is named
    // like them) hold text ids: they do not make the first row a header.
    std::vector<uint8_t> skip(fields.size(), 0);
    for (const std::string& k : options.keep_columns) {
      char* e = nullptr;
      const long pos = std::strtol(k.c_str(), &e, 10);
      const bool named = std::find(fields.begin(), fields.end(), k) != fields.end();
      if (!k.empty() && *e == '\0' && pos >= 1 && static_cast<size_t>(pos) <= fields.size() && !named)
        skip[pos - 1] = 1;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string_view t = TrimBlanks(fields[i], d);
      double v;
      if (!skip[i] && !IsMissingSpelling(t) && !ParseNumber(t, &v)) header = true;
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

  // Column mapping (io/column_map.h): views into m->schema, which lives as long.
  FB_ASSIGN_OR_RETURN(m->map, MapColumns(fields, header, m->schema, options.keep_columns, d, m->name, line));
  m->col_to_feature = m->map.col_to_feature;
  for (const std::string& k : m->map.kept_names) m->kept_info.push_back({k, KeptType::kText});
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(m)));
}

void CsvReader::Impl::ExtractKept(const CsvChunk& chunk, CsvBlock* b) const {
  const size_t nk = map.kept.size();
  b->kept.resize(nk);
  for (KeptValues& k : b->kept) k.Clear();
  // Per input column: its slot among the kept columns, or -1.
  std::vector<int32_t> slot(n_columns, -1);
  for (size_t k = 0; k < nk; ++k) slot[map.kept[k]] = static_cast<int32_t>(k);
  const char d = opt.delimiter;
  const char* p = chunk.bytes.data();
  const char* const end = p + chunk.size;
  std::string field;
  for (size_t r = 0; r < b->rows && p < end;) {
    if (*p == '\n') {
      ++p;
      continue;
    }
    if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2;
      continue;
    }
    // One row, quote-aware (the parse pass already checked its shape).
    for (int32_t c = 0; c < n_columns; ++c) {
      field.clear();
      if (*p == '"') {
        uint64_t newlines = 0;
        const char* e = ReadQuotedField(p, end, d, &field, &newlines);
        p = e != nullptr ? e : end;  // (the parse pass refused an unclosed quote)
      } else {
        const char* e = p;
        while (e < end && *e != d && *e != '\n') ++e;
        if (e < end && *e == '\n' && e > p && e[-1] == '\r') --e;
        field.assign(p, e);
        p = e;
      }
      if (slot[c] >= 0) b->kept[slot[c]].AddText(field, true);
      if (p < end && *p == d) ++p;
    }
    if (p < end && *p == '\r') ++p;
    if (p < end && *p == '\n') ++p;
    ++r;
  }
}

Result<bool> CsvReader::NextChunk(CsvChunk* chunk) { return impl_->NextChunk(chunk); }
bool CsvReader::at_end() const { return impl_->eof; }
bool CsvReader::has_header() const { return impl_->has_header; }
const std::vector<std::string>& CsvReader::column_names() const { return impl_->column_names; }
int32_t CsvReader::n_columns() const { return impl_->n_columns; }
uint64_t CsvReader::rows_accounted() const { return impl_->rows_accounted; }
const std::vector<KeptColumnInfo>& CsvReader::kept_columns() const { return impl_->kept_info; }
size_t CsvReader::peak_buffer_bytes() const { return impl_->peak; }
Status CsvReader::CheckUnchanged() { return impl_->stream->CheckUnchanged(); }

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
