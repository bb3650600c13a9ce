#include "model/import/sklearn_pickle.h"

namespace fb {
// Placeholder until the pickle importer lands (issue: predict).
Result<Forest> LoadSklearnPickle(std::string_view) {
  return Unsupported("scikit-learn pickles are not supported yet");
}
}  // namespace fb
