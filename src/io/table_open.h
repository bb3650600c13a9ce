// OpenTable: the reader for an input, chosen by its name or first bytes:
// .parquet/.pq/.parq names, or a file that starts with "PAR1" (Hadoop-style
// part files without an extension), are Parquet; everything else is CSV text
// (.gz/.zst decompressed; "-" is stdin).
//
// Thread safety: as Storage.
#pragma once

#include <memory>
#include <string>

#include "io/csv_reader.h"
#include "io/table_reader.h"
#include "storage/storage.h"

namespace fb {

Result<std::unique_ptr<TableReader>> OpenTable(std::shared_ptr<Storage> storage, const std::string& uri,
                                               const CsvOptions& options, const CsvSchema& schema);

}  // namespace fb
