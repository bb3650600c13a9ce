#include "cli/load_model.h"

#include "infer/compiled_io.h"
#include "model/import/model_loader.h"
#include "model/import/native_format.h"
#include "storage/storage.h"

namespace fb::cli {

Result<Forest> LoadModelAt(const std::string& uri, ModelLoad mode) {
  if (!IsS3Uri(uri)) return LoadModelFile(uri, mode);
  FB_ASSIGN_OR_RETURN(auto storage, StorageFor(uri));
  FB_ASSIGN_OR_RETURN(std::string bytes, storage->ReadAll(uri));
  return LoadModelBytes(bytes, uri);
}

Result<std::string> SerializeNativeWithLayout(std::shared_ptr<const Forest> forest) {
  const Forest& f = *forest;
  return SerializeNativeModel(f, EncodeLayoutSections(CompileForest(std::move(forest))));
}

}  // namespace fb::cli
