// Transparent decompression of input streams, chosen by the file name's
// extension: ".gz" (gzip, via zlib; concatenated members allowed) and ".zst"
// (zstd). Any other name passes the stream through unchanged.
//
// A truncated or corrupt compressed stream is an error (kInvalidData naming
// the file), never a silently short input.
//
// Thread safety: a stream is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/storage.h"

namespace fb {

enum class Compression : uint8_t { kNone, kGzip, kZstd };

// By extension (case-insensitive): ".gz" -> kGzip, ".zst" -> kZstd.
Compression CompressionForName(std::string_view name);

// The name without a ".gz"/".zst" suffix ("a.csv.gz" -> "a.csv").
std::string_view StripCompressionSuffix(std::string_view name);

// Wraps `raw` so that reads return the decompressed bytes of `name`'s
// compression; `name` also appears in error messages.
std::unique_ptr<ReadStream> OpenDecompressed(std::unique_ptr<ReadStream> raw, const std::string& name);

}  // namespace fb
