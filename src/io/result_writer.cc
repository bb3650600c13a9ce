#include "io/result_writer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/format.h"

namespace fb {
namespace {

// Label texts shorter than this (with their line end: 16 bytes) are
// written by one fixed-size copy per row, for models of at most kMaxLabels
// classes.
constexpr size_t kShortLabel = 16;
constexpr size_t kMaxLabels = 16;

void AppendJsonNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
  } else {
    AppendPythonFloat(out, v);
  }
}

}  // namespace

const char* ResultFormatName(ResultFormat f) {
  switch (f) {
    case ResultFormat::kCsv: return "csv";
    case ResultFormat::kSeed: return "seed";
    case ResultFormat::kJsonl: return "jsonl";
    case ResultFormat::kParquet: return "parquet";
  }
  return "?";
}

void AppendCsvField(std::string* out, std::string_view f) {
  if (f.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(f);
    return;
  }
  out->push_back('"');
  for (char c : f) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string ResultFormatter::ValueName(int32_t k) const {
  const ResultLayout& L = layout_;
  if (L.proba && k < static_cast<int32_t>(L.value_names.size())) return L.value_names[k];
  return (L.proba ? "proba_" : "margin_") +
         (k < static_cast<int32_t>(L.labels.size()) ? L.labels[k] : std::to_string(k));
}

Result<ResultFormatter> ResultFormatter::Create(ResultLayout l) {
  if (l.proba && l.margin) return InvalidArgument("choose either probabilities or margins, not both");
  if (l.proba && !l.classifier)
    return InvalidArgument("--proba needs a classifier; this model is a regressor");
  if (l.format == ResultFormat::kSeed && (l.proba || l.margin)) {
    return InvalidArgument("the seed format holds predicted labels only: drop --proba or use --format csv");
  }
  if (l.classifier && l.labels.empty()) return InvalidArgument("a classifier needs class labels");
  if (l.n_values < 1) return InvalidArgument("no output values");
  if (!l.value_names.empty() && l.value_names.size() != static_cast<size_t>(l.n_values) && l.proba)
    return InvalidArgument("value names do not match the output values");
  if (l.format == ResultFormat::kSeed && (!l.kept.empty() || !l.output_columns.empty())) {
    return InvalidArgument(
        "the seed format holds the row number and the label only: use --format csv, jsonl or parquet with "
        "--keep-columns or --output-columns");
  }
  ResultFormatter r;
  r.layout_ = std::move(l);
  const ResultLayout& L = r.layout_;
  // Every prediction column, named as the csv header names it.
  std::vector<OutputColumn> all;
  {
    const bool extra = L.classifier && (L.proba || L.margin);
    if (L.classifier) {
      all.push_back({OutputColumn::kLabel, 0, "prediction"});
    } else if (L.n_values > 1) {
      for (int32_t k = 0; k < L.n_values; ++k)
        all.push_back({OutputColumn::kValue, k, "prediction_" + std::to_string(k)});
    } else {
      all.push_back({OutputColumn::kValue, 0, "prediction"});
    }
    if (extra) {
      if (L.margin && L.n_values == 1) {
        all.push_back({OutputColumn::kValue, 0, "margin"});
      } else {
        for (int32_t k = 0; k < L.n_values; ++k) all.push_back({OutputColumn::kValue, k, r.ValueName(k)});
      }
    }
  }
  if (L.output_columns.empty()) {
    r.columns_ = all;
  } else {
    for (const std::string& item : L.output_columns) {
      const size_t eq = item.find('=');
      const std::string want = item.substr(0, eq);
      auto it = std::find_if(all.begin(), all.end(), [&](const OutputColumn& c) { return c.name == want; });
      if (it == all.end()) {
        std::string names;
        for (const OutputColumn& c : all) names += (names.empty() ? "" : ", ") + c.name;
        return InvalidArgument("--output-columns: no prediction column '" + want +
                               "' (this model and these options give: " + names +
                               (L.classifier && !L.proba ? "; proba_<label> columns need --proba" : "") +
                               ")");
      }
      OutputColumn c = *it;
      if (eq != std::string::npos) {
        c.name = item.substr(eq + 1);
        if (c.name.empty())
          return InvalidArgument("--output-columns: '" + item + "' renames to an empty name");
      }
      r.columns_.push_back(std::move(c));
    }
  }
  for (size_t i = 0; i < r.columns_.size(); ++i) {
    for (size_t j = 0; j < L.kept.size(); ++j) {
      if (L.kept[j].name == r.columns_[i].name) {
        return InvalidArgument(
            "the output would have two columns named '" + r.columns_[i].name +
            "' (a kept column and a prediction column): rename one with --output-columns " +
            r.columns_[i].name + "=NEW");
      }
    }
  }
  r.general_ = !L.kept.empty() || !L.output_columns.empty();
  std::string& h = r.header_;
  if (r.general_ && L.format == ResultFormat::kCsv) {
    bool first = true;
    for (const KeptColumnInfo& k : L.kept) {
      if (!first) h.push_back(',');
      first = false;
      AppendCsvField(&h, k.name);
    }
    for (const OutputColumn& c : r.columns_) {
      if (!first) h.push_back(',');
      first = false;
      AppendCsvField(&h, c.name);
    }
    h.push_back('\n');
  } else
    switch (L.format) {
      case ResultFormat::kCsv:
        if (!L.classifier && L.n_values > 1) {
          for (int32_t k = 0; k < L.n_values; ++k)
            h += (k ? ",prediction_" : "prediction_") + std::to_string(k);
        } else {
          h = "prediction";
        }
        if (L.classifier && (L.proba || L.margin)) {
          if (L.margin && L.n_values == 1) {
            h += ",margin";
          } else {
            for (int32_t k = 0; k < L.n_values; ++k) {
              h.push_back(',');
              AppendCsvField(&h, r.ValueName(k));
            }
          }
        }
        h.push_back('\n');
        break;
      case ResultFormat::kSeed:
        h = ",0";
        if (!L.classifier)
          for (int32_t k = 1; k < L.n_values; ++k) h += "," + std::to_string(k);
        h.push_back('\n');
        break;
      case ResultFormat::kJsonl:
      case ResultFormat::kParquet: break;
    }
  for (const std::string& label : L.labels) {
    std::string t;
    if (L.format == ResultFormat::kJsonl) {
      if (L.labels_are_integers) {
        t = label;
      } else {
        AppendJsonString(&t, label);
      }
    } else {
      AppendCsvField(&t, label);
    }
    r.label_text_.push_back(std::move(t));
  }
  size_t longest = 0;
  for (const std::string& t : r.label_text_) longest = std::max(longest, t.size());
  r.label_rows_ = L.format == ResultFormat::kSeed && L.classifier && !r.general_ && longest < kShortLabel &&
                  r.label_text_.size() <= kMaxLabels;
  // Format's labels-only branch (no kept columns or selection: general_),
  // or Parquet's writer (ParquetResultWriter reads values for value columns
  // only; kept columns come from the input).
  bool value_columns = false;
  for (const OutputColumn& c : r.columns_) value_columns |= c.kind == OutputColumn::kValue;
  r.labels_only_ = L.classifier && !L.proba && !L.margin && !value_columns &&
                   (L.format == ResultFormat::kParquet ||
                    ((L.format == ResultFormat::kCsv || L.format == ResultFormat::kSeed) && !r.general_));
  return r;
}

void ResultFormatter::Format(const PredictionRows& rows, FormattedRows* out,
                             const std::vector<KeptValues>* kept) const {
  if (general_) {
    FormatGeneral(rows, out, kept);
    return;
  }
  const ResultLayout& L = layout_;
  std::string& s = out->text;
  s.clear();
  out->ends.clear();
  const bool numbered = numbers_rows();
  if (numbered) out->ends.reserve(rows.n_rows);
  const bool extra = L.classifier && (L.proba || L.margin);
  const int32_t nv = rows.n_cols;
  if (L.format != ResultFormat::kJsonl && L.classifier && !extra) {
    // Labels only (the seed's output): one copy of the label's text per row.
    size_t longest = 0;
    for (const std::string& t : label_text_) longest = std::max(longest, t.size());
    if (numbered) out->ends.resize(rows.n_rows);
    if (longest < kShortLabel && label_text_.size() <= kMaxLabels) {
      // Each label's text and line end padded to a fixed 16 bytes: one
      // fixed-size copy per row (no memcpy call), then the row's true length
      // counted; the buffer has 16 bytes of room past the last row.
      s.resize(rows.n_rows * (longest + 1) + kShortLabel);
      char padded[kMaxLabels][kShortLabel] = {};
      uint8_t length[kMaxLabels] = {};
      for (size_t k = 0; k < label_text_.size(); ++k) {
        std::memcpy(padded[k], label_text_[k].data(), label_text_[k].size());
        padded[k][label_text_[k].size()] = '\n';
        length[k] = static_cast<uint8_t>(label_text_[k].size() + 1);
      }
      char* p = s.data();
      for (size_t r = 0; r < rows.n_rows; ++r) {
        const int32_t l = rows.label[r];
        std::memcpy(p, padded[l], kShortLabel);
        p += length[l];
        if (numbered) out->ends[r] = static_cast<uint32_t>(p - s.data());
      }
      s.resize(static_cast<size_t>(p - s.data()));
      return;
    }
    s.resize(rows.n_rows * (longest + 1));
    char* p = s.data();
    for (size_t r = 0; r < rows.n_rows; ++r) {
      const std::string& t = label_text_[rows.label[r]];
      p = std::copy(t.begin(), t.end(), p);
      *p++ = '\n';
      if (numbered) out->ends[r] = static_cast<uint32_t>(p - s.data());
    }
    s.resize(static_cast<size_t>(p - s.data()));
    return;
  }
  for (size_t r = 0; r < rows.n_rows; ++r) {
    const double* v = rows.values + r * nv;
    if (L.format == ResultFormat::kJsonl) {
      s.append("\"prediction\":");
      if (L.classifier) {
        s.append(label_text_[rows.label[r]]);
      } else if (nv == 1) {
        AppendJsonNumber(&s, v[0]);
      } else {
        s.push_back('[');
        for (int32_t k = 0; k < nv; ++k) {
          if (k) s.push_back(',');
          AppendJsonNumber(&s, v[k]);
        }
        s.push_back(']');
      }
      if (extra && L.proba) {
        s.append(L.value_names.empty() ? ",\"proba\":{" : ",\"scores\":{");
        for (int32_t k = 0; k < nv; ++k) {
          if (k) s.push_back(',');
          AppendJsonString(&s, L.value_names.empty() ? L.labels[k] : L.value_names[k]);
          s.push_back(':');
          AppendJsonNumber(&s, v[k]);
        }
        s.push_back('}');
      } else if (extra) {
        s.append(",\"margin\":[");
        for (int32_t k = 0; k < nv; ++k) {
          if (k) s.push_back(',');
          AppendJsonNumber(&s, v[k]);
        }
        s.push_back(']');
      }
      s.append("}\n");
    } else {
      if (L.classifier) {
        s.append(label_text_[rows.label[r]]);
      } else {
        for (int32_t k = 0; k < nv; ++k) {
          if (k) s.push_back(',');
          if (!std::isnan(v[k])) AppendPythonFloat(&s, v[k]);  // pandas writes NaN as ""
        }
      }
      if (extra) {
        for (int32_t k = 0; k < nv; ++k) {
          s.push_back(',');
          AppendPythonFloat(&s, v[k]);
        }
      }
      s.push_back('\n');
    }
    if (numbered) out->ends.push_back(static_cast<uint32_t>(s.size()));
  }
}

namespace {

// A JSON number literal exactly (RFC 8259 grammar): such CSV text stays a number.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

void AppendFloat32(std::string* out, float f) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  std::string_view t(buf, static_cast<size_t>(r.ptr - buf));
  out->append(t);
  if (t.find_first_of(".eEni") == std::string_view::npos) out->append(".0");
}

// The kept value's text for the csv format and for JSON strings.
void AppendKeptText(std::string* out, const KeptColumnInfo& info, const KeptValues& v, size_t r) {
  switch (info.type) {
    case KeptType::kText:
    case KeptType::kString:
    case KeptType::kDecimal: out->append(v.TextAt(r)); break;
    case KeptType::kBool: out->append(v.ints[r] ? "true" : "false"); break;
    case KeptType::kInt: out->append(std::to_string(v.ints[r])); break;
    case KeptType::kUnsigned: out->append(std::to_string(static_cast<uint64_t>(v.ints[r]))); break;
    case KeptType::kFloat:
      if (!std::isnan(v.doubles[r])) AppendFloat32(out, static_cast<float>(v.doubles[r]));
      break;
    case KeptType::kDouble:
      if (!std::isnan(v.doubles[r])) AppendPythonFloat(out, v.doubles[r]);
      break;
    case KeptType::kDate: out->append(KeptDateText(v.ints[r])); break;
    case KeptType::kTimestamp: out->append(KeptTimestampText(v.ints[r], info.unit, info.utc, false)); break;
    case KeptType::kTime: out->append(KeptTimestampText(v.ints[r], info.unit, false, true)); break;
  }
}

}  // namespace

void AppendKeptCsv(std::string* out, const KeptColumnInfo& info, const KeptValues& v, size_t r) {
  if (!v.valid[r]) return;
  if (info.type == KeptType::kText || info.type == KeptType::kString) {
    AppendCsvField(out, v.TextAt(r));
    return;
  }
  AppendKeptText(out, info, v, r);
}

void AppendKeptJson(std::string* out, const KeptColumnInfo& info, const KeptValues& v, size_t r) {
  if (!v.valid[r]) {
    out->append("null");
    return;
  }
  switch (info.type) {
    case KeptType::kText: {
      std::string_view t = v.TextAt(r);
      if (t.empty()) {
        out->append("null");
      } else if (IsJsonNumber(t)) {
        out->append(t);
      } else {
        AppendJsonString(out, t);
      }
      return;
    }
    case KeptType::kString: AppendJsonString(out, v.TextAt(r)); return;
    case KeptType::kBool:
    case KeptType::kInt:
    case KeptType::kUnsigned:
    case KeptType::kDecimal: AppendKeptText(out, info, v, r); return;
    case KeptType::kFloat:
    case KeptType::kDouble:
      if (!std::isfinite(v.doubles[r])) {
        out->append("null");
      } else {
        AppendKeptText(out, info, v, r);
      }
      return;
    case KeptType::kDate:
    case KeptType::kTimestamp:
    case KeptType::kTime: {
      std::string t;
      AppendKeptText(&t, info, v, r);
      AppendJsonString(out, t);
      return;
    }
  }
}

void ResultFormatter::FormatGeneral(const PredictionRows& rows, FormattedRows* out,
                                    const std::vector<KeptValues>* kept) const {
  const ResultLayout& L = layout_;
  std::string& s = out->text;
  s.clear();
  out->ends.clear();
  const bool json = L.format == ResultFormat::kJsonl;
  const bool numbered = numbers_rows();
  const int32_t nv = rows.n_cols;
  const size_t nk = kept ? std::min(kept->size(), L.kept.size()) : 0;
  const bool selected = !L.output_columns.empty();
  // jsonl without a selection: the usual layout after the kept columns.
  FormattedRows plain;
  if (json && !selected) {
    ResultFormatter f = *this;
    f.general_ = false;
    f.Format(rows, &plain);
  }
  for (size_t r = 0; r < rows.n_rows; ++r) {
    const double* v = rows.values + r * nv;
    bool first = true;
    for (size_t k = 0; k < nk; ++k) {
      if (json) {
        AppendJsonString(&s, L.kept[k].name);
        s.push_back(':');
        AppendKeptJson(&s, L.kept[k], (*kept)[k], r);
        s.push_back(',');
      } else {
        if (!first) s.push_back(',');
        AppendKeptCsv(&s, L.kept[k], (*kept)[k], r);
      }
      first = false;
    }
    if (json && !selected) {
      const uint32_t b = r ? plain.ends[r - 1] : 0;
      s.append(plain.text, b, plain.ends[r] - b);
      out->ends.push_back(static_cast<uint32_t>(s.size()));
      continue;
    }
    bool first_col = true;
    for (const OutputColumn& c : columns_) {
      if (json) {
        if (!first_col) s.push_back(',');
        AppendJsonString(&s, c.name);
        s.push_back(':');
      } else if (!first) {
        s.push_back(',');
      }
      first = false;
      first_col = false;
      if (c.kind == OutputColumn::kLabel) {
        s.append(label_text_[rows.label[r]]);
      } else if (json) {
        AppendJsonNumber(&s, v[c.k]);
      } else if (!std::isnan(v[c.k])) {
        AppendPythonFloat(&s, v[c.k]);
      }
    }
    s.append(json ? "}\n" : "\n");
    if (numbered) out->ends.push_back(static_cast<uint32_t>(s.size()));
  }
}

namespace {

// The decimal text of consecutive row numbers, written by fixed-size copies
// from words made once every ten rows (the last digit patched per row), so
// that no row reads back a counter the previous row just stored into.
class RowNumbers {
 public:
  explicit RowNumbers(uint64_t first) { Load(first); }
  // Writes the current number at p (up to 24 bytes are written; only its
  // digits count), counts up and returns p past the digits.
  char* Put(char* p) {
    std::memcpy(p, words_, sizeof(words_));
    p[len_ - 1] = static_cast<char>('0' + last_);
    p += len_;
    if (++last_ == 10) Load(tens_ + 10);
    return p;
  }

 private:
  void Load(uint64_t n) {
    char text[sizeof(words_)] = {};
    len_ = static_cast<size_t>(std::to_chars(text, text + sizeof(text), n).ptr - text);
    std::memcpy(words_, text, sizeof(words_));
    tens_ = n - n % 10;
    last_ = static_cast<unsigned>(n % 10);
  }

  uint64_t words_[3];  // the text of a number of up to 20 digits, zero-padded
  size_t len_ = 0;
  uint64_t tens_ = 0;  // the number less its last digit
  unsigned last_ = 0;  // its last digit
};

}  // namespace

void ResultFormatter::Number(const FormattedRows& rows, uint64_t first_row,
                             DefaultInitVector<char>* out) const {
  const bool json = layout_.format == ResultFormat::kJsonl;
  constexpr std::string_view kJsonRow = "{\"row\":";
  RowNumbers number(first_row);
  const size_t n = rows.ends.size(), at = out->size();
  // Per row at most the JSON prefix, 20 digits, the comma and the row's
  // text; kRoom more at the end for the fixed-size copies past a row's end.
  constexpr size_t kRoom = 32;
  out->resize(at + rows.text.size() + n * (kJsonRow.size() + 22) + kRoom);
  char* p = out->data() + at;
  const char* const text = rows.text.data();
  const size_t text_size = rows.text.size();
  uint32_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    if (json) p = std::copy(kJsonRow.begin(), kJsonRow.end(), p);
    // Fixed-size copies (no memcpy call per row): only the number's digits
    // and the row's length of the 16 count; the rest is overwritten by the
    // next row or cut off below.
    p = number.Put(p);
    *p++ = ',';
    const uint32_t row_end = rows.ends[i];
    const size_t row_len = row_end - begin;
    if (row_len <= 16 && begin + 16 <= text_size) {
      std::memcpy(p, text + begin, 16);
    } else {
      std::memcpy(p, text + begin, row_len);
    }
    p += row_len;
    begin = row_end;
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

void ResultFormatter::NumberLabels(const int32_t* label, size_t n, uint64_t first_row,
                                   DefaultInitVector<char>* out) const {
  // Each label's text, line end and padding as a fixed 16 bytes (the rows'
  // text Format's labels-only loop would write), after the row number and
  // its comma.
  RowNumbers number(first_row);
  char padded[kMaxLabels][kShortLabel] = {};
  uint8_t length[kMaxLabels] = {};
  size_t longest = 0;
  for (size_t k = 0; k < label_text_.size(); ++k) {
    std::memcpy(padded[k], label_text_[k].data(), label_text_[k].size());
    padded[k][label_text_[k].size()] = '\n';
    length[k] = static_cast<uint8_t>(label_text_[k].size() + 1);
    longest = std::max(longest, label_text_[k].size());
  }
  // Per row at most 20 digits, the comma and the label's line; room at the
  // end for the fixed-size copies past the last row.
  const size_t at = out->size();
  out->resize(at + n * (22 + longest) + 48);
  char* p = out->data() + at;
  for (size_t i = 0; i < n; ++i) {
    p = number.Put(p);
    *p++ = ',';
    const int32_t l = label[i];
    std::memcpy(p, padded[l], kShortLabel);
    p += length[l];
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

ResultSink::ResultSink(std::unique_ptr<WriteStream> stream, size_t hold_back_bytes, bool hash)
    : stream_(std::move(stream)), hold_back_(hold_back_bytes), holding_(hold_back_bytes > 0), hash_(hash) {}

ResultSink::~ResultSink() {
  if (!done_) Abort();
}

Status ResultSink::Write(std::string_view b) {
  if (done_ || sealed_) return Internal("write after seal, commit or abort");
  if (hash_) digest_.Update(b);
  bytes_ += b.size();
  if (holding_) {
    held_.append(b);
    if (held_.size() <= hold_back_) return Status::Ok();
    holding_ = false;
    Status st = stream_->Write(held_);
    std::string().swap(held_);
    return st;
  }
  return stream_->Write(b);
}

void ResultSink::Seal() {
  if (sealed_) return;
  sealed_ = true;
  if (hash_) sha256_ = digest_.HexDigest();
}

Status ResultSink::Commit() {
  if (done_) return Internal("commit after commit or abort");
  Seal();
  if (!held_.empty()) {
    Status st = stream_->Write(held_);
    std::string().swap(held_);
    if (!st.ok()) {
      Abort();
      return st;
    }
  }
  Status st = stream_->Commit();
  if (!st.ok()) {
    Abort();
    return st;
  }
  done_ = true;
  return Status::Ok();
}

void ResultSink::Abort() {
  done_ = true;
  held_.clear();
  if (stream_) stream_->Abort();
}

}  // namespace fb
