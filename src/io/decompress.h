// Transparent decompression of input streams, chosen by the file name's
// extension (common/compression.h's CompressionForName: ".gz" gzip,
// concatenated members allowed; ".zst" zstd). Any other name passes the
// stream through unchanged.
//
// A truncated or corrupt compressed stream is an error (kInvalidData naming
// the file), never a silently short input.
//
// Thread safety: a stream is used by one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "common/compression.h"
#include "storage/storage.h"

namespace fb {

// Wraps `raw` so that reads return the decompressed bytes of `name`'s
// compression; `name` also appears in error messages.
std::unique_ptr<ReadStream> OpenDecompressed(std::unique_ptr<ReadStream> raw, const std::string& name);

}  // namespace fb
