#include "train/raw_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "io/parquet_reader.h"
#include "io/result_writer.h"
#include "model/input_encoding.h"
#include "storage/storage.h"

namespace fb::train {

int RawTable::FindColumn(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name) return static_cast<int>(i);
  return -1;
}

Status SplitCsvLine(std::string_view line, std::vector<std::string_view>* fields,
                    std::deque<std::string>* scratch) {
  fields->clear();
  scratch->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      size_t start = i + 1, j = start;
      bool escaped = false;
      while (true) {
        if (j >= line.size())
          return InvalidData(fmt::format("unterminated quote in column {}", fields->size() + 1));
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            escaped = true;
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      std::string_view inner = line.substr(start, j - start);
      if (escaped) {
        std::string s;
        for (size_t k = 0; k < inner.size(); ++k) {
          s += inner[k];
          if (inner[k] == '"') ++k;
        }
        scratch->push_back(std::move(s));
        fields->push_back(scratch->back());
      } else {
        fields->push_back(inner);
      }
      i = j + 1;
      if (i < line.size() && line[i] != ',')
        return InvalidData(fmt::format("text after closing quote in column {}", fields->size()));
    } else {
      size_t j = line.find(',', i);
      if (j == std::string_view::npos) j = line.size();
      fields->push_back(line.substr(i, j - i));
      i = j;
    }
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields->push_back(std::string_view());
      break;
    }
  }
  return Status::Ok();
}

namespace {

struct LineReader {
  std::ifstream in;
  std::string line;
  uint64_t line_no = 0;
  std::vector<char> buf = std::vector<char>(1 << 20);

  bool Open(const std::string& path) {
    in.rdbuf()->pubsetbuf(buf.data(), buf.size());
    in.open(path, std::ios::binary);
    return in.is_open();
  }
  bool Next() {
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line == "\r") continue;  // blank lines are skipped
      return true;
    }
    return false;
  }
};

}  // namespace

Result<RawTable> ReadCsvTable(const std::string& path, const std::set<std::string>& text_columns) {
  LineReader r;
  if (!r.Open(path)) return NotFound("cannot open " + path);
  std::vector<std::string_view> fields;
  std::deque<std::string> scratch;
  if (!r.Next()) return InvalidData("empty file (no header)").At(path, 1);
  if (Status st = SplitCsvLine(r.line, &fields, &scratch); !st.ok()) return std::move(st).At(path, r.line_no);
  RawTable t;
  for (auto f : fields) {
    RawColumn c;
    c.name = std::string(TrimField(f));
    if (t.FindColumn(c.name) >= 0) return InvalidData("column '" + c.name + "' appears twice").At(path, 1);
    t.columns.push_back(std::move(c));
  }
  const size_t n_cols = t.columns.size();
  std::vector<uint8_t> keep_text(n_cols);
  for (size_t c = 0; c < n_cols; ++c) keep_text[c] = text_columns.count(t.columns[c].name) ? 1 : 0;

  // Pass 1: column types, distinct text values of text columns, row count.
  std::vector<std::unordered_set<std::string>> distinct(n_cols);
  int64_t rows = 0;
  auto check_width = [&]() -> Status {
    if (fields.size() != n_cols)
      return InvalidData(fmt::format("row has {} fields, the header {}", fields.size(), n_cols))
          .At(path, r.line_no);
    return Status::Ok();
  };
  while (r.Next()) {
    if (Status st = SplitCsvLine(r.line, &fields, &scratch); !st.ok())
      return std::move(st).At(path, r.line_no);
    FB_RETURN_IF_ERROR(check_width());
    for (size_t c = 0; c < n_cols; ++c) {
      std::string_view f = TrimField(fields[c]);
      if (IsMissingToken(f)) continue;
      RawColumn& col = t.columns[c];
      float v;
      if (col.numeric && !ParseNumber(f, &v)) {
        col.numeric = false;
      }
      if (!col.numeric || keep_text[c]) {
        if (distinct[c].size() < (1u << 20) || distinct[c].count(std::string(f))) {
          distinct[c].emplace(f);
        } else if (!col.numeric) {
          return InvalidData(fmt::format("column '{}' has over {} distinct text values", col.name, 1 << 20))
              .At(path, r.line_no);
        }
      }
    }
    ++rows;
  }
  if (rows == 0) return InvalidData("no data rows").At(path);
  t.n_rows = rows;
  std::vector<std::unordered_map<std::string, int32_t>> code_of(n_cols);
  std::vector<uint8_t> text(n_cols);
  for (size_t c = 0; c < n_cols; ++c) {
    RawColumn& col = t.columns[c];
    text[c] = (!col.numeric || keep_text[c]) ? 1 : 0;
    if (col.numeric) col.values.resize(rows);
    if (!text[c]) continue;
    col.categories.assign(distinct[c].begin(), distinct[c].end());
    std::sort(col.categories.begin(), col.categories.end());
    for (size_t k = 0; k < col.categories.size(); ++k)
      code_of[c].emplace(col.categories[k], static_cast<int32_t>(k));
    col.codes.resize(rows);
    distinct[c].clear();
  }

  // Pass 2: values.
  LineReader r2;
  if (!r2.Open(path)) return NotFound("cannot reopen " + path);
  r2.Next();  // header
  int64_t row = 0;
  while (row < rows && r2.Next()) {
    if (Status st = SplitCsvLine(r2.line, &fields, &scratch); !st.ok())
      return std::move(st).At(path, r2.line_no);
    if (fields.size() != n_cols) return InvalidData("file changed while reading").At(path, r2.line_no);
    for (size_t c = 0; c < n_cols; ++c) {
      RawColumn& col = t.columns[c];
      std::string_view f = TrimField(fields[c]);
      bool missing = IsMissingToken(f);
      if (col.numeric) {
        float v = std::numeric_limits<float>::quiet_NaN();
        if (!missing) ParseNumber(f, &v);
        col.values[row] = v;
      }
      if (text[c]) {
        int32_t code = -1;
        if (!missing) {
          auto it = code_of[c].find(std::string(f));
          if (it == code_of[c].end()) return InvalidData("file changed while reading").At(path, r2.line_no);
          code = it->second;
        }
        col.codes[row] = code;
      }
    }
    ++row;
  }
  if (row != rows) return InvalidData("file changed while reading").At(path);
  return t;
}

namespace {

// A string column's values, back to back; or a typed column's numbers and,
// when its text is wanted, their text.
struct ParquetColumnValues {
  std::string text;
  std::vector<size_t> ends;
  std::vector<uint8_t> present;
  std::vector<float> numbers;
  std::string_view At(size_t r) const {
    const size_t b = r ? ends[r - 1] : 0;
    return std::string_view(text).substr(b, ends[r] - b);
  }
};

float TypedNumber(const KeptColumnInfo& info, const KeptValues& v, size_t r) {
  if (!v.valid[r]) return std::numeric_limits<float>::quiet_NaN();
  switch (info.type) {
    case KeptType::kFloat:
    case KeptType::kDouble: return static_cast<float>(v.doubles[r]);
    case KeptType::kUnsigned:
      return static_cast<float>(static_cast<double>(static_cast<uint64_t>(v.ints[r])));
    case KeptType::kDecimal: {
      const std::string digits(v.TextAt(r));
      return static_cast<float>(std::strtod(digits.c_str(), nullptr));
    }
    default: return static_cast<float>(static_cast<double>(v.ints[r]));
  }
}

}  // namespace

Result<RawTable> ReadParquetTable(const std::string& path, const std::set<std::string>& text_columns) {
  std::shared_ptr<Storage> storage = LocalStorage();
  CsvOptions options;
  options.keep_all_columns = true;
  CsvSchema none;  // no model: every column is read as a kept column
  FB_ASSIGN_OR_RETURN(std::unique_ptr<ParquetReader> reader,
                      ParquetReader::Open(storage, path, options, none));
  RawTable t;
  std::vector<std::string> names;
  for (const KeptColumnInfo& k : reader->kept_columns()) {
    if (t.FindColumn(k.name) >= 0) return InvalidData("column '" + k.name + "' appears twice").At(path);
    RawColumn c;
    c.name = k.name;
    t.columns.push_back(std::move(c));
    names.push_back(k.name);
  }
  const std::vector<KeptColumnInfo>& info = reader->kept_columns();
  const size_t n_cols = names.size();
  std::vector<uint8_t> is_string(n_cols), keep_text(n_cols);
  for (size_t c = 0; c < n_cols; ++c) {
    is_string[c] = info[c].type == KeptType::kString || info[c].type == KeptType::kText;
    keep_text[c] = text_columns.count(names[c]) ? 1 : 0;
  }
  std::vector<ParquetColumnValues> cols(n_cols);
  TableChunk chunk;
  TableBlock block;
  while (true) {
    FB_ASSIGN_OR_RETURN(bool more, reader->NextChunk(&chunk));
    if (!more) break;
    reader->Parse(chunk, &block);
    FB_RETURN_IF_ERROR(reader->Account(block));
    for (size_t c = 0; c < n_cols; ++c) {
      const KeptValues& v = block.kept[c];
      ParquetColumnValues& out = cols[c];
      for (size_t r = 0; r < block.rows; ++r) {
        if (!is_string[c]) out.numbers.push_back(TypedNumber(info[c], v, r));
        if (is_string[c] || keep_text[c]) {
          // Strings as they stand (AppendKeptCsv would quote them); typed
          // values as --keep-columns writes them, appended in place.
          if (v.valid[r] && is_string[c]) out.text.append(v.TextAt(r));
          if (v.valid[r] && !is_string[c]) AppendKeptCsv(&out.text, info[c], v, r);
          out.ends.push_back(out.text.size());
          out.present.push_back(v.valid[r]);
        }
      }
    }
    t.n_rows += static_cast<int64_t>(block.rows);
  }
  if (t.n_rows == 0) return InvalidData("no data rows").At(path);
  const size_t rows = static_cast<size_t>(t.n_rows);
  for (size_t c = 0; c < n_cols; ++c) {
    RawColumn& col = t.columns[c];
    ParquetColumnValues& in = cols[c];
    if (!is_string[c]) {
      col.values = std::move(in.numbers);
    } else {
      // As the CSV reader: numeric when every non-missing field parses.
      col.values.assign(rows, std::numeric_limits<float>::quiet_NaN());
      for (size_t r = 0; r < rows && col.numeric; ++r) {
        const std::string_view f = TrimField(in.At(r));
        if (!in.present[r] || IsMissingToken(f)) continue;
        if (!ParseNumber(f, &col.values[r])) col.numeric = false;
      }
      if (!col.numeric) col.values.clear();
    }
    if (!(is_string[c] && !col.numeric) && !keep_text[c]) {
      in = ParquetColumnValues();
      continue;
    }
    // Text codes: the distinct non-missing values, sorted by byte value.
    std::unordered_map<std::string_view, int32_t> code_of;
    for (size_t r = 0; r < rows; ++r) {
      const std::string_view f = TrimField(in.At(r));
      if (!in.present[r] || IsMissingToken(f)) continue;
      if (code_of.emplace(f, 0).second && code_of.size() > (1u << 20) && !col.numeric)
        return InvalidData(fmt::format("column '{}' has over {} distinct text values", col.name, 1 << 20))
            .At(path);
    }
    for (const auto& [k, _] : code_of) col.categories.emplace_back(k);
    std::sort(col.categories.begin(), col.categories.end());
    for (size_t k = 0; k < col.categories.size(); ++k) code_of[col.categories[k]] = static_cast<int32_t>(k);
    col.codes.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      const std::string_view f = TrimField(in.At(r));
      col.codes[r] = (!in.present[r] || IsMissingToken(f)) ? -1 : code_of.at(f);
    }
    in = ParquetColumnValues();
  }
  return t;
}

Result<RawTable> ReadTable(const std::string& path, const std::set<std::string>& text_columns) {
  bool parquet = IsParquetName(path);
  if (!parquet) {
    std::ifstream in(path, std::ios::binary);
    char head[4] = {};
    parquet = in.read(head, 4) && HasParquetMagic(std::string_view(head, 4));
  }
  return parquet ? ReadParquetTable(path, text_columns) : ReadCsvTable(path, text_columns);
}

}  // namespace fb::train
