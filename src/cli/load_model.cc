#include "cli/load_model.h"

#include "model/import/model_loader.h"
#include "storage/storage.h"

namespace fb::cli {

Result<Forest> LoadModelAt(const std::string& uri) {
  if (!IsS3Uri(uri)) return LoadModelFile(uri);
  FB_ASSIGN_OR_RETURN(auto storage, StorageFor(uri));
  FB_ASSIGN_OR_RETURN(std::string bytes, storage->ReadAll(uri));
  return LoadModelBytes(bytes, uri);
}

}  // namespace fb::cli
