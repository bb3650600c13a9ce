#include "io/parquet_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/little_endian.h"

namespace fb {

using parquet::Meaning;
using parquet::PhysicalType;
using parquet::WriteColumn;

namespace {

constexpr int64_t kPageValues = 65536;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Definition levels (bit width 1) as one bit-packed run, 4-byte length first.
void PutLevels(std::string* out, const uint8_t* valid, size_t n) {
  std::string run;
  const size_t groups = (n + 7) / 8;
  PutVarint(&run, (groups << 1) | 1);
  const size_t at = run.size();
  run.resize(at + groups, '\0');
  for (size_t i = 0; i < n; ++i)
    if (valid[i]) run[at + (i >> 3)] = static_cast<char>(run[at + (i >> 3)] | (1 << (i & 7)));
  PutLe<uint32_t>(out, static_cast<uint32_t>(run.size()));
  out->append(run);
}

WriteColumn ColumnForKept(const KeptColumnInfo& k) {
  WriteColumn c;
  c.name = k.name;
  c.optional = true;
  const parquet::TimeUnit unit = k.unit == KeptUnit::kMillis  ? parquet::TimeUnit::kMillis
                                 : k.unit == KeptUnit::kNanos ? parquet::TimeUnit::kNanos
                                                              : parquet::TimeUnit::kMicros;
  switch (k.type) {
    case KeptType::kText:
    case KeptType::kString:
      c.type = PhysicalType::kByteArray;
      c.meaning = Meaning::kString;
      break;
    case KeptType::kBool: c.type = PhysicalType::kBoolean; break;
    case KeptType::kInt:
    case KeptType::kUnsigned:
      c.type = (k.bit_width > 0 && k.bit_width <= 32) ? PhysicalType::kInt32 : PhysicalType::kInt64;
      c.bit_width = k.bit_width > 0 ? k.bit_width : 64;
      c.is_signed = k.type == KeptType::kInt;
      if (c.is_signed && c.bit_width == 64) c.bit_width = 0;
      if (c.is_signed && c.bit_width == 32 && c.type == PhysicalType::kInt32) c.bit_width = 0;
      break;
    case KeptType::kFloat: c.type = PhysicalType::kFloat; break;
    case KeptType::kDouble:
    case KeptType::kDecimal: c.type = PhysicalType::kDouble; break;
    case KeptType::kDate:
      c.type = PhysicalType::kInt32;
      c.meaning = Meaning::kDate;
      break;
    case KeptType::kTimestamp:
      c.type = PhysicalType::kInt64;
      c.meaning = Meaning::kTimestamp;
      c.unit = unit;
      c.utc = k.utc;
      break;
    case KeptType::kTime:
      c.type = unit == parquet::TimeUnit::kMillis ? PhysicalType::kInt32 : PhysicalType::kInt64;
      c.meaning = Meaning::kTime;
      c.unit = unit;
      c.utc = false;
      break;
  }
  return c;
}

}  // namespace

Result<ParquetResultWriter> ParquetResultWriter::Create(const ResultFormatter& formatter, Compression codec,
                                                        int64_t rows_per_group) {
  if (codec != Compression::kSnappy && codec != Compression::kZstd && codec != Compression::kNone &&
      codec != Compression::kGzip) {
    return InvalidArgument(std::string("Parquet output cannot use ") + CompressionName(codec) +
                           " compression");
  }
  if (rows_per_group < 1) return InvalidArgument("rows per row group must be positive");
  ParquetResultWriter w;
  const ResultLayout& L = formatter.layout();
  w.codec_ = codec;
  w.rows_per_group_ = rows_per_group;
  w.kept_ = L.kept;
  w.outputs_ = formatter.columns();
  w.labels_ = L.labels;
  for (const KeptColumnInfo& k : L.kept) w.schema_.push_back(ColumnForKept(k));
  // Label type: integers, else floats, else strings.
  if (L.classifier) {
    w.label_kind_ = L.labels_are_integers ? 1 : 2;
    for (const std::string& l : L.labels) {
      int64_t iv = 0;
      double dv = 0;
      if (w.label_kind_ == 1) {
        auto r = std::from_chars(l.data(), l.data() + l.size(), iv);
        if (r.ec != std::errc() || r.ptr != l.data() + l.size()) w.label_kind_ = 2;
      }
      if (w.label_kind_ == 2) {
        auto r = std::from_chars(l.data(), l.data() + l.size(), dv);
        if (r.ec != std::errc() || r.ptr != l.data() + l.size()) w.label_kind_ = 0;
      }
      w.label_ints_.push_back(iv);
      w.label_doubles_.push_back(dv);
    }
    // A float parse of every label may have failed part way: recompute.
    if (w.label_kind_ == 2) {
      w.label_doubles_.clear();
      for (const std::string& l : L.labels) {
        double dv = 0;
        std::from_chars(l.data(), l.data() + l.size(), dv);
        w.label_doubles_.push_back(dv);
      }
    }
  }
  for (const OutputColumn& c : w.outputs_) {
    WriteColumn wc;
    wc.name = c.name;
    if (c.kind == OutputColumn::kLabel) {
      wc.type = w.label_kind_ == 1   ? PhysicalType::kInt64
                : w.label_kind_ == 2 ? PhysicalType::kDouble
                                     : PhysicalType::kByteArray;
      if (w.label_kind_ == 0) wc.meaning = Meaning::kString;
    } else {
      wc.type = PhysicalType::kDouble;
    }
    w.schema_.push_back(std::move(wc));
  }
  w.buf_.resize(w.schema_.size());
  return w;
}

Status ParquetResultWriter::Begin(ResultSink* sink) {
  offset_ = 4;
  return sink->Write("PAR1");
}

Status ParquetResultWriter::Append(const PredictionRows& rows, const std::vector<KeptValues>& kept,
                                   ResultSink* sink) {
  size_t at = 0;
  while (at < rows.n_rows) {
    const size_t take = std::min<size_t>(rows.n_rows - at, static_cast<size_t>(rows_per_group_ - buffered_));
    for (size_t k = 0; k < kept_.size(); ++k) {
      Buffer& b = buf_[k];
      const KeptValues& v = kept[k];
      const KeptColumnInfo& info = kept_[k];
      for (size_t r = at; r < at + take; ++r) {
        const bool ok = v.valid[r] != 0;
        b.valid.push_back(ok);
        if (!ok) continue;
        switch (schema_[k].type) {
          case PhysicalType::kByteArray: {
            std::string_view t = v.TextAt(r);
            b.bytes.append(t);
            b.lens.push_back(static_cast<uint32_t>(t.size()));
            break;
          }
          case PhysicalType::kFloat:
          case PhysicalType::kDouble:
            if (info.type == KeptType::kDecimal) {
              double d = 0;
              std::string_view t = v.TextAt(r);
              std::from_chars(t.data(), t.data() + t.size(), d);
              b.doubles.push_back(d);
            } else {
              b.doubles.push_back(v.doubles[r]);
            }
            break;
          default: b.ints.push_back(v.ints[r]); break;
        }
      }
    }
    for (size_t j = 0; j < outputs_.size(); ++j) {
      Buffer& b = buf_[kept_.size() + j];
      const OutputColumn& c = outputs_[j];
      for (size_t r = at; r < at + take; ++r) {
        if (c.kind == OutputColumn::kLabel) {
          const int32_t l = rows.label[r];
          if (label_kind_ == 1) {
            b.ints.push_back(label_ints_[l]);
          } else if (label_kind_ == 2) {
            b.doubles.push_back(label_doubles_[l]);
          } else {
            b.bytes.append(labels_[l]);
            b.lens.push_back(static_cast<uint32_t>(labels_[l].size()));
          }
        } else {
          b.doubles.push_back(rows.values[r * rows.n_cols + c.k]);
        }
      }
    }
    buffered_ += static_cast<int64_t>(take);
    at += take;
    if (buffered_ == rows_per_group_) FB_RETURN_IF_ERROR(Flush(sink));
  }
  return Status::Ok();
}

Status ParquetResultWriter::Flush(ResultSink* sink) {
  if (buffered_ == 0) return Status::Ok();
  parquet::WriteRowGroup g;
  g.num_rows = buffered_;
  const int32_t codec = codec_ == Compression::kSnappy ? 1
                        : codec_ == Compression::kZstd ? 6
                        : codec_ == Compression::kGzip ? 2
                                                       : 0;
  for (size_t ci = 0; ci < schema_.size(); ++ci) {
    const WriteColumn& col = schema_[ci];
    Buffer& b = buf_[ci];
    parquet::WriteChunk chunk;
    chunk.codec = codec;
    chunk.num_values = buffered_;
    chunk.offset = static_cast<int64_t>(offset_);
    chunk.encodings = {0, 3};
    size_t vi = 0, byte_at = 0;  // next present value, next byte of strings
    for (int64_t first = 0; first < buffered_; first += kPageValues) {
      const int64_t n = std::min(kPageValues, buffered_ - first);
      std::string page;
      size_t present = static_cast<size_t>(n);
      if (col.optional) {
        PutLevels(&page, b.valid.data() + first, static_cast<size_t>(n));
        present = 0;
        for (int64_t r = first; r < first + n; ++r) present += b.valid[r];
      }
      switch (col.type) {
        case PhysicalType::kBoolean: {
          std::string bits((present + 7) / 8, '\0');
          for (size_t k = 0; k < present; ++k)
            if (b.ints[vi + k]) bits[k >> 3] = static_cast<char>(bits[k >> 3] | (1 << (k & 7)));
          page.append(bits);
          break;
        }
        case PhysicalType::kInt32:
          for (size_t k = 0; k < present; ++k) PutLe<int32_t>(&page, static_cast<int32_t>(b.ints[vi + k]));
          break;
        case PhysicalType::kInt64:
          for (size_t k = 0; k < present; ++k) PutLe<int64_t>(&page, b.ints[vi + k]);
          break;
        case PhysicalType::kFloat:
          for (size_t k = 0; k < present; ++k) PutLe<float>(&page, static_cast<float>(b.doubles[vi + k]));
          break;
        case PhysicalType::kDouble:
          for (size_t k = 0; k < present; ++k) PutLe<double>(&page, b.doubles[vi + k]);
          break;
        case PhysicalType::kByteArray:
          for (size_t k = 0; k < present; ++k) {
            const uint32_t len = b.lens[vi + k];
            PutLe<uint32_t>(&page, len);
            page.append(b.bytes, byte_at, len);
            byte_at += len;
          }
          break;
        default: return Internal("unexpected output column type");
      }
      vi += present;
      if (page.size() > static_cast<size_t>(INT32_MAX)) return Internal("Parquet page too large");
      FB_ASSIGN_OR_RETURN(std::string packed, Compress(page, codec_));
      const std::string header = parquet::SerializeDataPageHeader(
          static_cast<int32_t>(page.size()), static_cast<int32_t>(packed.size()), static_cast<int32_t>(n), 0);
      FB_RETURN_IF_ERROR(sink->Write(header));
      FB_RETURN_IF_ERROR(sink->Write(packed));
      offset_ += header.size() + packed.size();
      chunk.compressed += static_cast<int64_t>(header.size() + packed.size());
      chunk.uncompressed += static_cast<int64_t>(header.size() + page.size());
    }
    g.total_byte_size += chunk.uncompressed;
    g.columns.push_back(std::move(chunk));
    b = Buffer();
  }
  total_rows_ += buffered_;
  buffered_ = 0;
  groups_.push_back(std::move(g));
  return Status::Ok();
}

Status ParquetResultWriter::Finish(ResultSink* sink) {
  FB_RETURN_IF_ERROR(Flush(sink));
  const std::string footer = parquet::SerializeFileMeta(schema_, groups_, total_rows_, "forestbatch");
  FB_RETURN_IF_ERROR(sink->Write(footer));
  std::string tail;
  PutLe<uint32_t>(&tail, static_cast<uint32_t>(footer.size()));
  tail.append("PAR1");
  return sink->Write(tail);
}

}  // namespace fb
