#include "pipeline/file_predictor.h"

namespace fb {
// Placeholder until the CSV pipeline lands.
Result<std::unique_ptr<FilePredictor>> FilePredictor::Create(std::shared_ptr<const Forest>, PredictOptions) {
  return Unsupported("prediction pipeline not built yet");
}
}  // namespace fb
