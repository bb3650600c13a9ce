#include "io/parquet_format.h"

#include <algorithm>

#include "io/thrift_compact.h"

namespace fb::parquet {
namespace {

using thrift::CompactReader;
using thrift::CompactWriter;

constexpr uint32_t kMaxSchemaElements = 1u << 20;
constexpr uint32_t kMaxRowGroups = 1u << 20;

Status Bad(const std::string& what) { return InvalidData("Parquet footer: " + what); }

struct SchemaElement {
  int32_t type = -1;
  int32_t type_length = 0;
  int32_t repetition = 0;
  std::string name;
  int32_t num_children = 0;
  int32_t converted = -1;
  int32_t scale = 0, precision = 0;
  // logical type
  int16_t logical = 0;  // LogicalType union field id (0: none)
  int32_t l_scale = 0, l_precision = 0;
  bool l_utc = true;
  int16_t l_unit = 2;  // 1 millis, 2 micros, 3 nanos
  int32_t l_bit_width = 0;
  bool l_signed = true;
};

Status ReadTimeUnit(CompactReader& r, int16_t* unit) {
  return r.Struct([&](int16_t id, uint8_t t) {
    if (id >= 1 && id <= 3) *unit = id;
    return r.Skip(t);
  });
}

Status ReadLogical(CompactReader& r, SchemaElement* e) {
  return r.Struct([&](int16_t id, uint8_t t) -> Status {
    e->logical = id;
    if (id == 5) {  // DECIMAL
      return r.Struct([&](int16_t f, uint8_t ft) -> Status {
        if (f == 1) {
          FB_ASSIGN_OR_RETURN(e->l_scale, r.I32(ft));
          return Status::Ok();
        }
        if (f == 2) {
          FB_ASSIGN_OR_RETURN(e->l_precision, r.I32(ft));
          return Status::Ok();
        }
        return r.Skip(ft);
      });
    }
    if (id == 7 || id == 8) {  // TIME, TIMESTAMP
      return r.Struct([&](int16_t f, uint8_t ft) -> Status {
        if (f == 1) {
          FB_ASSIGN_OR_RETURN(e->l_utc, r.Bool(ft));
          return Status::Ok();
        }
        if (f == 2) return ReadTimeUnit(r, &e->l_unit);
        return r.Skip(ft);
      });
    }
    if (id == 10) {  // INTEGER
      return r.Struct([&](int16_t f, uint8_t ft) -> Status {
        if (f == 1) {
          FB_ASSIGN_OR_RETURN(e->l_bit_width, r.I32(ft));
          return Status::Ok();
        }
        if (f == 2) {
          FB_ASSIGN_OR_RETURN(e->l_signed, r.Bool(ft));
          return Status::Ok();
        }
        return r.Skip(ft);
      });
    }
    return r.Skip(t);
  });
}

Status ReadSchemaElement(CompactReader& r, SchemaElement* e) {
  return r.Struct([&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 1: {
        FB_ASSIGN_OR_RETURN(e->type, r.I32(t));
        return Status::Ok();
      }
      case 2: {
        FB_ASSIGN_OR_RETURN(e->type_length, r.I32(t));
        return Status::Ok();
      }
      case 3: {
        FB_ASSIGN_OR_RETURN(e->repetition, r.I32(t));
        return Status::Ok();
      }
      case 4: {
        FB_ASSIGN_OR_RETURN(e->name, r.Binary(t));
        return Status::Ok();
      }
      case 5: {
        FB_ASSIGN_OR_RETURN(e->num_children, r.I32(t));
        return Status::Ok();
      }
      case 6: {
        FB_ASSIGN_OR_RETURN(e->converted, r.I32(t));
        return Status::Ok();
      }
      case 7: {
        FB_ASSIGN_OR_RETURN(e->scale, r.I32(t));
        return Status::Ok();
      }
      case 8: {
        FB_ASSIGN_OR_RETURN(e->precision, r.I32(t));
        return Status::Ok();
      }
      case 10: return ReadLogical(r, e);
      default: return r.Skip(t);
    }
  });
}

Status ReadColumnMeta(CompactReader& r, ColumnChunk* c) {
  return r.Struct([&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 2: {
        uint8_t et;
        uint32_t n;
        FB_RETURN_IF_ERROR(r.ListHeader(t, &et, &n));
        for (uint32_t i = 0; i < n; ++i) {
          FB_ASSIGN_OR_RETURN(int32_t e, r.I32(et));
          if (c->encodings.size() < 64) c->encodings.push_back(e);
        }
        return Status::Ok();
      }
      case 4: {
        FB_ASSIGN_OR_RETURN(c->codec, r.I32(t));
        return Status::Ok();
      }
      case 5: {
        FB_ASSIGN_OR_RETURN(c->num_values, r.I64(t));
        return Status::Ok();
      }
      case 6: {
        FB_ASSIGN_OR_RETURN(c->total_uncompressed_size, r.I64(t));
        return Status::Ok();
      }
      case 7: {
        FB_ASSIGN_OR_RETURN(c->total_compressed_size, r.I64(t));
        return Status::Ok();
      }
      case 9: {
        FB_ASSIGN_OR_RETURN(c->data_page_offset, r.I64(t));
        return Status::Ok();
      }
      case 11: {
        FB_ASSIGN_OR_RETURN(c->dictionary_page_offset, r.I64(t));
        return Status::Ok();
      }
      case 12: {  // Statistics: its null_count
        if (t != thrift::kStruct) return r.Skip(t);
        return r.Struct([&](int16_t sid, uint8_t st) -> Status {
          if (sid != 3) return r.Skip(st);
          FB_ASSIGN_OR_RETURN(int64_t n, r.I64(st));
          c->null_count = n >= 0 ? n : -1;
          return Status::Ok();
        });
      }
      default: return r.Skip(t);
    }
  });
}

Status ReadColumnChunk(CompactReader& r, ColumnChunk* c, bool* external, bool* has_meta) {
  return r.Struct([&](int16_t id, uint8_t t) -> Status {
    if (id == 1) {
      FB_ASSIGN_OR_RETURN(std::string path, r.Binary(t));
      *external = !path.empty();
      return Status::Ok();
    }
    if (id == 3) {
      *has_meta = true;
      return ReadColumnMeta(r, c);
    }
    return r.Skip(t);
  });
}

Status ReadRowGroup(CompactReader& r, RowGroup* g) {
  return r.Struct([&](int16_t id, uint8_t t) -> Status {
    if (id == 1) {
      return r.StructList(t, [&]() -> Status {
        ColumnChunk c;
        bool external = false, has_meta = false;
        FB_RETURN_IF_ERROR(ReadColumnChunk(r, &c, &external, &has_meta));
        if (external)
          return Unsupported("Parquet column chunks in other files (file_path) are not supported");
        if (!has_meta) return Bad("a column chunk has no metadata");
        g->columns.push_back(std::move(c));
        return Status::Ok();
      });
    }
    if (id == 3) {
      FB_ASSIGN_OR_RETURN(g->num_rows, r.I64(t));
      return Status::Ok();
    }
    return r.Skip(t);
  });
}

Meaning MeaningOf(const SchemaElement& e, Column* c) {
  switch (e.logical) {
    case 1:
    case 4:
    case 12: return Meaning::kString;
    case 5:
      c->scale = e.l_scale;
      c->precision = e.l_precision;
      return Meaning::kDecimal;
    case 6: return Meaning::kDate;
    case 7:
    case 8:
      c->utc = e.l_utc;
      c->unit = e.l_unit == 1 ? TimeUnit::kMillis : e.l_unit == 3 ? TimeUnit::kNanos : TimeUnit::kMicros;
      return e.logical == 7 ? Meaning::kTime : Meaning::kTimestamp;
    case 10: c->bit_width = e.l_bit_width; return e.l_signed ? Meaning::kPlain : Meaning::kUnsignedInt;
    case 0: break;
    default: return Meaning::kOther;
  }
  switch (e.converted) {
    case 0:
    case 4:
    case 19: return Meaning::kString;
    case 5:
      c->scale = e.scale;
      c->precision = e.precision;
      return Meaning::kDecimal;
    case 6: return Meaning::kDate;
    case 7: c->unit = TimeUnit::kMillis; return Meaning::kTime;
    case 8: c->unit = TimeUnit::kMicros; return Meaning::kTime;
    case 9: c->unit = TimeUnit::kMillis; return Meaning::kTimestamp;
    case 10: c->unit = TimeUnit::kMicros; return Meaning::kTimestamp;
    case 11:
    case 12:
    case 13:
    case 14: return Meaning::kUnsignedInt;
    default: break;
  }
  if (e.type == static_cast<int32_t>(PhysicalType::kInt96)) {
    c->unit = TimeUnit::kNanos;
    return Meaning::kTimestamp;
  }
  return Meaning::kPlain;
}

// Turns the flattened schema (depth-first, root first) into its leaves.
Status BuildColumns(const std::vector<SchemaElement>& els, std::vector<Column>* out) {
  if (els.empty()) return Bad("empty schema");
  struct Frame {
    int32_t left;
    std::string path;
    int16_t def, rep;
  };
  if (els[0].num_children < 0) return Bad("negative child count");
  std::vector<Frame> stack{{els[0].num_children, "", 0, 0}};
  for (size_t i = 1; i < els.size(); ++i) {
    while (!stack.empty() && stack.back().left == 0) stack.pop_back();
    if (stack.empty()) return Bad("schema has elements outside the root");
    if (stack.size() > 64) return Bad("schema nested too deeply");
    Frame& parent = stack.back();
    --parent.left;
    const SchemaElement& e = els[i];
    if (e.repetition < 0 || e.repetition > 2) return Bad("bad repetition of '" + e.name + "'");
    const int16_t def = static_cast<int16_t>(parent.def + (e.repetition != 0 ? 1 : 0));
    const int16_t rep = static_cast<int16_t>(parent.rep + (e.repetition == 2 ? 1 : 0));
    const std::string path = parent.path.empty() ? e.name : parent.path + "." + e.name;
    if (e.num_children < 0) return Bad("negative child count");
    if (e.num_children > 0) {
      if (static_cast<size_t>(e.num_children) > els.size() - i - 1) return Bad("child count past the schema");
      stack.push_back({e.num_children, path, def, rep});
      continue;
    }
    if (e.type < 0 || e.type > 7)
      return Bad("column '" + path + "' has unknown type " + std::to_string(e.type));
    Column c;
    c.name = path;
    c.nested = stack.size() > 1;
    c.type = static_cast<PhysicalType>(e.type);
    c.type_length = e.type_length;
    if (c.type == PhysicalType::kFixedLenByteArray && (e.type_length <= 0 || e.type_length > (1 << 20)))
      return Bad("column '" + path + "' has a bad fixed length");
    c.repetition = static_cast<Repetition>(e.repetition);
    c.max_def = def;
    c.max_rep = rep;
    c.meaning = MeaningOf(e, &c);
    if (c.meaning == Meaning::kDecimal && (c.scale < 0 || c.scale > 38))
      return Bad("column '" + path + "' has decimal scale " + std::to_string(c.scale));
    out->push_back(std::move(c));
  }
  for (const Frame& f : stack)
    if (f.left != 0) return Bad("schema ends before its groups' children");
  return Status::Ok();
}

}  // namespace

const char* PhysicalTypeName(PhysicalType t) {
  switch (t) {
    case PhysicalType::kBoolean: return "BOOLEAN";
    case PhysicalType::kInt32: return "INT32";
    case PhysicalType::kInt64: return "INT64";
    case PhysicalType::kInt96: return "INT96";
    case PhysicalType::kFloat: return "FLOAT";
    case PhysicalType::kDouble: return "DOUBLE";
    case PhysicalType::kByteArray: return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "?";
}

const char* EncodingName(int32_t e) {
  switch (e) {
    case 0: return "PLAIN";
    case 2: return "PLAIN_DICTIONARY";
    case 3: return "RLE";
    case 4: return "BIT_PACKED";
    case 5: return "DELTA_BINARY_PACKED";
    case 6: return "DELTA_LENGTH_BYTE_ARRAY";
    case 7: return "DELTA_BYTE_ARRAY";
    case 8: return "RLE_DICTIONARY";
    case 9: return "BYTE_STREAM_SPLIT";
  }
  return "unknown";
}

const char* CodecName(int32_t c) {
  switch (c) {
    case 0: return "UNCOMPRESSED";
    case 1: return "SNAPPY";
    case 2: return "GZIP";
    case 3: return "LZO";
    case 4: return "BROTLI";
    case 5: return "LZ4";
    case 6: return "ZSTD";
    case 7: return "LZ4_RAW";
  }
  return "unknown";
}

Result<FileMeta> ParseFileMeta(std::string_view footer, uint64_t data_end) {
  CompactReader r(footer.data(), footer.size());
  FileMeta m;
  std::vector<SchemaElement> els;
  bool have_schema = false, have_rows = false;
  FB_RETURN_IF_ERROR(r.Struct([&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 1: {
        FB_ASSIGN_OR_RETURN(m.version, r.I32(t));
        return Status::Ok();
      }
      case 2:
        have_schema = true;
        return r.StructList(
            t,
            [&]() -> Status {
              SchemaElement e;
              FB_RETURN_IF_ERROR(ReadSchemaElement(r, &e));
              els.push_back(std::move(e));
              return Status::Ok();
            },
            kMaxSchemaElements);
      case 3: {
        have_rows = true;
        FB_ASSIGN_OR_RETURN(m.num_rows, r.I64(t));
        return Status::Ok();
      }
      case 4:
        return r.StructList(
            t,
            [&]() -> Status {
              RowGroup g;
              FB_RETURN_IF_ERROR(ReadRowGroup(r, &g));
              m.row_groups.push_back(std::move(g));
              return Status::Ok();
            },
            kMaxRowGroups);
      case 6: {
        FB_ASSIGN_OR_RETURN(m.created_by, r.Binary(t));
        return Status::Ok();
      }
      default: return r.Skip(t);
    }
  }));
  if (!have_schema || !have_rows) return Bad("no schema or row count");
  FB_RETURN_IF_ERROR(BuildColumns(els, &m.columns));
  if (m.num_rows < 0) return Bad("negative row count");
  int64_t rows = 0;
  for (size_t gi = 0; gi < m.row_groups.size(); ++gi) {
    RowGroup& g = m.row_groups[gi];
    const std::string where = "row group " + std::to_string(gi);
    if (g.num_rows < 0 || g.num_rows > (int64_t{1} << 40)) return Bad(where + " has a bad row count");
    rows += g.num_rows;
    if (g.columns.size() != m.columns.size()) {
      return Bad(where + " has " + std::to_string(g.columns.size()) + " column chunks for " +
                 std::to_string(m.columns.size()) + " schema columns");
    }
    for (size_t ci = 0; ci < g.columns.size(); ++ci) {
      ColumnChunk& c = g.columns[ci];
      const std::string cw = where + ", column '" + m.columns[ci].name + "'";
      if (c.num_values < 0 || c.total_compressed_size <= 0 || c.data_page_offset < 4 ||
          c.total_uncompressed_size < 0) {
        if (!(g.num_rows == 0 && c.total_compressed_size == 0)) return Bad(cw + ": bad sizes or offsets");
      }
      int64_t start = c.data_page_offset;
      if (c.dictionary_page_offset > 0 && c.dictionary_page_offset < start) start = c.dictionary_page_offset;
      if (c.dictionary_page_offset > 0 && c.dictionary_page_offset >= 4) {
        c.dictionary_page_offset = std::min(c.dictionary_page_offset, c.data_page_offset);
      } else {
        c.dictionary_page_offset = -1;
      }
      c.start = start;
      c.length = c.total_compressed_size;
      if (c.start < 4 || static_cast<uint64_t>(c.start) > data_end ||
          static_cast<uint64_t>(c.length) > data_end - static_cast<uint64_t>(c.start)) {
        return Bad(cw + ": its bytes [" + std::to_string(c.start) + ", +" + std::to_string(c.length) +
                   ") lie outside the file's data");
      }
    }
  }
  if (rows != m.num_rows) {
    return Bad("the row groups hold " + std::to_string(rows) + " rows, the footer says " +
               std::to_string(m.num_rows));
  }
  return m;
}

Result<PageHeader> ParsePageHeader(std::string_view bytes, size_t* consumed) {
  CompactReader r(bytes.data(), bytes.size());
  PageHeader h;
  bool have_sizes = false;
  auto data_header = [&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 1: {
        FB_ASSIGN_OR_RETURN(h.num_values, r.I32(t));
        return Status::Ok();
      }
      case 2: {
        FB_ASSIGN_OR_RETURN(h.encoding, r.I32(t));
        return Status::Ok();
      }
      case 3: {
        FB_ASSIGN_OR_RETURN(h.def_encoding, r.I32(t));
        return Status::Ok();
      }
      case 4: {
        FB_ASSIGN_OR_RETURN(h.rep_encoding, r.I32(t));
        return Status::Ok();
      }
      default: return r.Skip(t);
    }
  };
  auto v2_header = [&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 1: {
        FB_ASSIGN_OR_RETURN(h.num_values, r.I32(t));
        return Status::Ok();
      }
      case 2: {
        FB_ASSIGN_OR_RETURN(h.num_nulls, r.I32(t));
        return Status::Ok();
      }
      case 3: {
        FB_ASSIGN_OR_RETURN(h.num_rows, r.I32(t));
        return Status::Ok();
      }
      case 4: {
        FB_ASSIGN_OR_RETURN(h.encoding, r.I32(t));
        return Status::Ok();
      }
      case 5: {
        FB_ASSIGN_OR_RETURN(h.def_bytes, r.I32(t));
        return Status::Ok();
      }
      case 6: {
        FB_ASSIGN_OR_RETURN(h.rep_bytes, r.I32(t));
        return Status::Ok();
      }
      case 7: {
        FB_ASSIGN_OR_RETURN(h.is_compressed, r.Bool(t));
        return Status::Ok();
      }
      default: return r.Skip(t);
    }
  };
  FB_RETURN_IF_ERROR(r.Struct([&](int16_t id, uint8_t t) -> Status {
    switch (id) {
      case 1: {
        FB_ASSIGN_OR_RETURN(h.type, r.I32(t));
        return Status::Ok();
      }
      case 2: {
        FB_ASSIGN_OR_RETURN(h.uncompressed_size, r.I32(t));
        return Status::Ok();
      }
      case 3: {
        have_sizes = true;
        FB_ASSIGN_OR_RETURN(h.compressed_size, r.I32(t));
        return Status::Ok();
      }
      case 5: return r.Struct(data_header);
      case 7:  // DictionaryPageHeader: num_values, encoding, is_sorted
        return r.Struct(
            [&](int16_t f, uint8_t ft) -> Status { return f <= 2 ? data_header(f, ft) : r.Skip(ft); });
      case 8: return r.Struct(v2_header);
      default: return r.Skip(t);
    }
  }));
  if (!have_sizes || h.compressed_size < 0 || h.uncompressed_size < 0 || h.num_values < 0 ||
      h.num_nulls < 0 || h.num_rows < 0 || h.def_bytes < 0 || h.rep_bytes < 0) {
    return InvalidData("Parquet page header: missing or negative sizes");
  }
  *consumed = r.consumed();
  return h;
}

// --- writing ---

namespace {

void WriteLogical(CompactWriter& w, const WriteColumn& c) {
  auto unit = [&](int16_t id) {
    w.FieldStructBegin(id);
    w.FieldStructBegin(c.unit == TimeUnit::kMillis ? 1 : c.unit == TimeUnit::kNanos ? 3 : 2);
    w.EndStruct();
    w.EndStruct();
  };
  switch (c.meaning) {
    case Meaning::kString:
      w.FieldStructBegin(10);
      w.FieldStructBegin(1);
      w.EndStruct();
      w.EndStruct();
      break;
    case Meaning::kDecimal:
      w.FieldStructBegin(10);
      w.FieldStructBegin(5);
      w.FieldI32(1, c.scale);
      w.FieldI32(2, c.precision);
      w.EndStruct();
      w.EndStruct();
      break;
    case Meaning::kDate:
      w.FieldStructBegin(10);
      w.FieldStructBegin(6);
      w.EndStruct();
      w.EndStruct();
      break;
    case Meaning::kTime:
    case Meaning::kTimestamp:
      w.FieldStructBegin(10);
      w.FieldStructBegin(c.meaning == Meaning::kTime ? 7 : 8);
      w.FieldBool(1, c.utc);
      unit(2);
      w.EndStruct();
      w.EndStruct();
      break;
    case Meaning::kPlain:
    case Meaning::kUnsignedInt:
      if (c.bit_width > 0) {
        w.FieldStructBegin(10);
        w.FieldStructBegin(10);
        w.FieldByte(1, static_cast<int8_t>(c.bit_width));
        w.FieldBool(2, c.is_signed);
        w.EndStruct();
        w.EndStruct();
      }
      break;
    default: break;
  }
}

int32_t ConvertedFor(const WriteColumn& c) {
  switch (c.meaning) {
    case Meaning::kString: return 0;
    case Meaning::kDecimal: return 5;
    case Meaning::kDate: return 6;
    case Meaning::kTimestamp:
      if (c.unit == TimeUnit::kMillis) return 9;
      if (c.unit == TimeUnit::kMicros) return 10;
      return -1;
    case Meaning::kTime:
      if (c.unit == TimeUnit::kMillis) return 7;
      if (c.unit == TimeUnit::kMicros) return 8;
      return -1;
    default: break;
  }
  if (c.bit_width == 8 || c.bit_width == 16 || c.bit_width == 32 || c.bit_width == 64) {
    const int k = c.bit_width == 8 ? 0 : c.bit_width == 16 ? 1 : c.bit_width == 32 ? 2 : 3;
    return (c.is_signed ? 15 : 11) + k;
  }
  return -1;
}

}  // namespace

std::string SerializeFileMeta(const std::vector<WriteColumn>& schema,
                              const std::vector<WriteRowGroup>& groups, int64_t num_rows,
                              std::string_view created_by) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldListBegin(2, thrift::kStruct, static_cast<uint32_t>(schema.size() + 1));
  w.ListStructBegin();
  w.FieldBinary(4, "schema");
  w.FieldI32(5, static_cast<int32_t>(schema.size()));
  w.EndStruct();
  for (const WriteColumn& c : schema) {
    w.ListStructBegin();
    w.FieldI32(1, static_cast<int32_t>(c.type));
    if (c.type == PhysicalType::kFixedLenByteArray) w.FieldI32(2, c.type_length);
    w.FieldI32(3, c.optional ? 1 : 0);
    w.FieldBinary(4, c.name);
    const int32_t conv = ConvertedFor(c);
    if (conv >= 0) w.FieldI32(6, conv);
    if (c.meaning == Meaning::kDecimal) {
      w.FieldI32(7, c.scale);
      w.FieldI32(8, c.precision);
    }
    WriteLogical(w, c);
    w.EndStruct();
  }
  w.FieldI64(3, num_rows);
  w.FieldListBegin(4, thrift::kStruct, static_cast<uint32_t>(groups.size()));
  for (const WriteRowGroup& g : groups) {
    w.ListStructBegin();
    w.FieldListBegin(1, thrift::kStruct, static_cast<uint32_t>(g.columns.size()));
    for (size_t i = 0; i < g.columns.size(); ++i) {
      const WriteChunk& k = g.columns[i];
      w.ListStructBegin();
      w.FieldI64(2, k.offset);
      w.FieldStructBegin(3);
      w.FieldI32(1, static_cast<int32_t>(schema[i].type));
      w.FieldListBegin(2, thrift::kI32, static_cast<uint32_t>(k.encodings.size()));
      for (int32_t e : k.encodings) w.I32(e);
      w.FieldListBegin(3, thrift::kBinary, 1);
      w.Binary(schema[i].name);
      w.FieldI32(4, k.codec);
      w.FieldI64(5, k.num_values);
      w.FieldI64(6, k.uncompressed);
      w.FieldI64(7, k.compressed);
      w.FieldI64(9, k.offset);
      if (k.null_count >= 0) {
        w.FieldStructBegin(12);
        w.FieldI64(3, k.null_count);
        w.EndStruct();
      }
      w.EndStruct();
      w.EndStruct();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    w.EndStruct();
  }
  w.FieldBinary(6, created_by);
  w.EndStruct();
  return std::move(w.bytes());
}

std::string SerializeDataPageHeader(int32_t uncompressed, int32_t compressed, int32_t num_values,
                                    int32_t encoding) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, static_cast<int32_t>(PageType::kDataPage));
  w.FieldI32(2, uncompressed);
  w.FieldI32(3, compressed);
  w.FieldStructBegin(5);
  w.FieldI32(1, num_values);
  w.FieldI32(2, encoding);
  w.FieldI32(3, static_cast<int32_t>(Encoding::kRle));
  w.FieldI32(4, static_cast<int32_t>(Encoding::kRle));
  w.EndStruct();
  w.EndStruct();
  return std::move(w.bytes());
}

}  // namespace fb::parquet
