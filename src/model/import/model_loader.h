// LoadModel: reads any supported model file, detecting its format from its
// first bytes (never from its name), and returns a validated Forest.
//
// Formats: scikit-learn pickles and joblib files (compressed or not), XGBoost
// JSON and UBJSON, LightGBM text models, forestbatch's native .fbm. Each format has one importer
// file in this folder; all of them build through model/forest_builder.h.
// Model bytes are untrusted: importers bound every size and never execute
// anything.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

enum class ModelFormat {
  kUnknown,
  kPickle,      // plain pickle or uncompressed joblib (starts with PROTO)
  kCompressed,  // zlib / gzip / bz2 / xz / lzma / lz4 wrapped pickle (joblib)
  kXgboostJson,
  kXgboostUbjson,
  kXgboostLegacyBinary,
  kNative,
  kLightgbmText,
};

const char* ModelFormatName(ModelFormat f);

// Guesses the format from the first bytes of the file.
ModelFormat DetectModelFormat(std::string_view head);

// Loads a model from memory; `name` is used in error messages.
// `readable_padding`: how many readable bytes follow `bytes` (a file
// mapping's last page); the XGBoost JSON parser then reads the text in place.
Result<Forest> LoadModelBytes(std::string_view bytes, const std::string& name, size_t readable_padding = 0);

// kFull: every tree decoded and validated. kTreesOnDemand (what `predict`
// uses): a .fbm file that stores its compiled layout keeps its trees'
// nodes undecoded in the file's mapping (Forest::undecoded, model/forest.h;
// decoded only if something needs them); every other model loads as kFull.
enum class ModelLoad : uint8_t { kFull, kTreesOnDemand };

// Loads a model file from the local file system.
Result<Forest> LoadModelFile(const std::string& path, ModelLoad mode = ModelLoad::kFull);

}  // namespace fb
