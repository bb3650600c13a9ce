// S3Storage: the Storage backend for s3:// URIs (AWS S3 and S3-compatible
// servers), over S3Client (signing, retries; see s3_client.h).
//
// - List: ListObjectsV2 page by page (continuation tokens). A prefix is a
//   folder: "s3://b/in" lists keys under "in/"; if there are none and "in"
//   is itself an object, that object alone. Folder markers (keys ending in
//   '/') are skipped. Nothing at all is kNotFound.
// - Stat: HEAD. OpenRead: ranged GETs of options.read_chunk bytes,
//   options.read_parallel in flight, so memory stays bounded
//   (chunk x (parallel + 1)) whatever the object size; each chunk is retried
//   on its own and later chunks must match the first one's ETag (If-Match),
//   so an object replaced mid-read is an error, not a mix.
// - OpenWrite: bytes are buffered up to options.part_size; a small object is
//   one PUT at Commit(); a larger one becomes a multipart upload whose parts
//   are sent as the buffer fills and which is completed at Commit() (the
//   object appears only then) and aborted on failure, Abort() or
//   destruction. Part sizes double every 1,000 parts to stay under S3's
//   10,000-part limit.
// - Delete: DELETE (a missing object is not an error).
//
// Thread safety: as Storage.
#pragma once

#include <memory>

#include "storage/s3_client.h"
#include "storage/storage.h"

namespace fb {

std::shared_ptr<Storage> NewS3Storage(std::shared_ptr<S3Client> client);

// The process-wide S3 backend configured from the environment (created on
// first use; credentials are looked up at the first request).
Result<std::shared_ptr<Storage>> S3StorageFromEnvironment();

}  // namespace fb
