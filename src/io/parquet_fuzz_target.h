// The body of the Parquet fuzz target (fuzz/parquet_fuzz.cc), shared with
// the corpus replay in io_test so both run the same procedure: the bytes as
// a file in memory, opened with a schema that needs columns "a" and "b" as
// features and keeps "c" (the corpus files have those columns), every row
// group read. Returns the reader's status; aborts when an accepted file
// yields other than the rows its footer states.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "io/parquet_reader.h"
#include "storage/memory_storage.h"

namespace fb {

inline Status ParquetFuzzOne(std::string bytes) {
  auto mem = std::make_shared<MemoryStorage>();
  mem->Put("mem://f.parquet", std::move(bytes));
  CsvSchema schema;
  schema.n_features = 2;
  schema.feature_names = {"a", "b"};
  CsvOptions opt;
  opt.keep_columns = {"c"};
  auto r = ParquetReader::Open(mem, "mem://f.parquet", opt, schema);
  if (!r.ok()) return r.status();
  TableChunk chunk;
  TableBlock block;
  for (;;) {
    auto got = (*r)->NextChunk(&chunk);
    if (!got.ok()) return got.status();
    if (!*got) break;
    (*r)->Parse(chunk, &block);
    Status st = (*r)->Account(block);
    if (!st.ok()) return st;
    if (block.kept.size() != 1 || block.kept[0].valid.size() != block.rows) std::abort();
  }
  if ((*r)->rows_accounted() != static_cast<uint64_t>((*r)->num_rows())) std::abort();
  return Status::Ok();
}

}  // namespace fb
