// LoadModelAt: a model from a local path or an s3:// URI.
//
// Local files go through LoadModelFile (memory-mapped); s3:// objects are
// read whole through Storage (ranged parallel GETs) and parsed with
// LoadModelBytes. Errors name the path or URI.
//
// SerializeNativeWithLayout: what `model convert` and `train` write.
//
// Thread safety: may be called from many threads.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "model/forest.h"
#include "model/import/model_loader.h"

namespace fb::cli {

// `mode`: model/import/model_loader.h (kTreesOnDemand applies to local .fbm
// files; `predict` uses it).
Result<Forest> LoadModelAt(const std::string& path_or_uri, ModelLoad mode = ModelLoad::kFull);

// `forest` in the native format with its compiled layout (format 1.5: a
// load then reads the layout instead of compiling; infer/compiled_io.h).
Result<std::string> SerializeNativeWithLayout(std::shared_ptr<const Forest> forest);

}  // namespace fb::cli
