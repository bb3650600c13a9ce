#include "io/table_open.h"

#include <algorithm>
#include <cctype>

#include "io/decompress.h"
#include "io/parquet_reader.h"

namespace fb {
namespace {

// Names that are text for certain: no need to look at their first bytes.
bool IsTextName(std::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == "csv" || ext == "tsv" || ext == "txt" || ext == "gz" || ext == "zst";
}

}  // namespace

Result<std::unique_ptr<TableReader>> OpenTable(std::shared_ptr<Storage> storage, const std::string& uri,
                                               const CsvOptions& options, const CsvSchema& schema) {
  bool parquet = IsParquetName(uri);
  if (!parquet && uri != "-" && !IsTextName(uri)) {
    FB_ASSIGN_OR_RETURN(auto info, storage->Stat(uri));
    if (!info) return NotFound("no such file").At(uri);
    if (info->size >= 12) {
      FB_ASSIGN_OR_RETURN(std::string head, storage->ReadRange(uri, 0, 4));
      parquet = HasParquetMagic(head);
    }
  }
  if (parquet) {
    FB_ASSIGN_OR_RETURN(auto r, ParquetReader::Open(storage, uri, options, schema));
    return std::unique_ptr<TableReader>(std::move(r));
  }
  FB_ASSIGN_OR_RETURN(std::unique_ptr<ReadStream> raw, storage->OpenRead(uri));
  FB_ASSIGN_OR_RETURN(auto r, CsvReader::Open(OpenDecompressed(std::move(raw), uri), uri, options, schema));
  return std::unique_ptr<TableReader>(std::move(r));
}

}  // namespace fb
