// LoadModelAt: a model from a local path or an s3:// URI.
//
// Local files go through LoadModelFile (memory-mapped); s3:// objects are
// read whole through Storage (ranged parallel GETs) and parsed with
// LoadModelBytes. Errors name the path or URI.
//
// Thread safety: may be called from many threads.
#pragma once

#include <string>

#include "common/status.h"
#include "model/forest.h"

namespace fb::cli {

Result<Forest> LoadModelAt(const std::string& path_or_uri);

}  // namespace fb::cli
