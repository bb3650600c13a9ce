#include "model/import/native_format.h"

namespace fb {
// Placeholder until the native format lands.
Result<Forest> LoadNativeModel(std::string_view) {
  return Unsupported("native models are not supported yet");
}
Result<std::string> SerializeNativeModel(const Forest&) {
  return Unsupported("native models are not supported yet");
}
}  // namespace fb
