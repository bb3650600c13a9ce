#include "pipeline/predict_args.h"

#include <fmt/format.h>

#include "model/iterations.h"

namespace fb {

namespace {
// "a,b" and repeated flags alike: every comma-separated item.
std::vector<std::string> SplitItems(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& s : in) {
    size_t at = 0;
    for (;;) {
      const size_t comma = s.find(',', at);
      std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  return out;
}
}  // namespace

Status ResolveColumnFlags(const std::vector<std::string>& keep, const std::vector<std::string>& output,
                          const std::string& parquet_compression, PredictOptions* o) {
  o->keep_columns = SplitItems(keep);
  o->output_columns = SplitItems(output);
  for (const std::string& c : o->output_columns)
    if (c.rfind("proba_", 0) == 0 && !o->margin) o->proba = true;
  o->parquet_compression = parquet_compression == "zstd"   ? Compression::kZstd
                           : parquet_compression == "gzip" ? Compression::kGzip
                           : parquet_compression == "none" ? Compression::kNone
                                                           : Compression::kSnappy;
  return Status::Ok();
}

Result<Forest> PredictArgs::SelectTrees(Forest forest) const {
  return SelectIterationsFlag(std::move(forest), iteration_range);
}

Result<PredictOptions> PredictArgs::Resolve(int threads) const {
  PredictOptions o;
  o.format = format == "seed"      ? ResultFormat::kSeed
             : format == "jsonl"   ? ResultFormat::kJsonl
             : format == "parquet" ? ResultFormat::kParquet
                                   : ResultFormat::kCsv;
  o.proba = proba;
  o.margin = margin;
  o.header = header == "yes" ? CsvHeader::kYes : header == "no" ? CsvHeader::kNo : CsvHeader::kAuto;
  if (delimiter == "tab" || delimiter == "\\t") {
    o.delimiter = '\t';
  } else if (delimiter.size() == 1) {
    o.delimiter = delimiter[0];
  } else {
    return InvalidArgument("--delimiter takes one character (or 'tab'), got '" + delimiter + "'");
  }
  o.threads = threads;
  FB_RETURN_IF_ERROR(ResolveColumnFlags(keep_columns, output_columns, parquet_compression, &o));
  return o;
}

std::vector<std::string> PredictArgs::AsArgs() const {
  std::vector<std::string> a = {"--format", format, "--header", header, "--delimiter", delimiter};
  if (proba) a.push_back("--proba");
  if (margin) a.push_back("--output-margin");
  if (!iteration_range.empty()) a.insert(a.end(), {"--iteration-range", iteration_range});
  for (const std::string& k : keep_columns) a.insert(a.end(), {"--keep-columns", k});
  for (const std::string& k : output_columns) a.insert(a.end(), {"--output-columns", k});
  if (format == "parquet") a.insert(a.end(), {"--parquet-compression", parquet_compression});
  return a;
}

std::string PredictArgs::Fingerprint() const {
  // Margin and iteration range appear only when set, so that fingerprints
  // recorded before they existed still match.
  std::string cols;
  for (const std::string& k : keep_columns) cols += " keep=" + k;
  for (const std::string& k : output_columns) cols += " columns=" + k;
  if (format == "parquet") cols += " compression=" + parquet_compression;
  return fmt::format("predict format={} proba={} header={} delimiter={}{}{}{}", format, proba ? 1 : 0, header,
                     delimiter, margin ? " margin=1" : "",
                     iteration_range.empty() ? "" : " iterations=" + iteration_range, cols);
}

}  // namespace fb
