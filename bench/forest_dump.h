// Reader of the bench-only forest dump written by bench/dump_forest.py, so
// the kernel benchmark can run on scikit-learn forests without the pickle
// importer. Not a user-facing format.
#pragma once

#include <string>

#include "common/status.h"
#include "model/forest.h"

namespace fb::bench {

// Reads and validates (BuildForest) a .fbdump file.
Result<Forest> LoadForestDump(const std::string& path);

}  // namespace fb::bench
