#include "model/import/model_loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/atomic_file.h"
#include "model/import/lightgbm_model.h"
#include "model/import/native_format.h"
#include "model/import/sklearn_pickle.h"
#include "model/import/xgboost_model.h"

namespace fb {

const char* ModelFormatName(ModelFormat f) {
  switch (f) {
    case ModelFormat::kUnknown: return "unknown";
    case ModelFormat::kPickle: return "pickle";
    case ModelFormat::kCompressed: return "compressed joblib";
    case ModelFormat::kXgboostJson: return "XGBoost JSON";
    case ModelFormat::kXgboostUbjson: return "XGBoost UBJSON";
    case ModelFormat::kXgboostLegacyBinary: return "XGBoost legacy binary";
    case ModelFormat::kNative: return "forestbatch native";
    case ModelFormat::kLightgbmText: return "LightGBM text";
  }
  return "?";
}

ModelFormat DetectModelFormat(std::string_view h) {
  auto starts = [&](std::string_view p) { return h.substr(0, p.size()) == p; };
  if (starts(kNativeMagic)) return ModelFormat::kNative;
  if (LooksLikeLightgbmText(h)) return ModelFormat::kLightgbmText;
  if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x80 && h[1] >= 2 && h[1] <= 5) {
    return ModelFormat::kPickle;
  }
  if (starts("\x1f\x8b") || starts("BZh") ||
      starts("\xfd"
             "7zXZ") ||
      starts(std::string_view("\x5d\x00", 2)) || starts("\x04\x22\x4d\x18") ||
      (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x78 &&
       ((static_cast<unsigned char>(h[0]) << 8) | static_cast<unsigned char>(h[1])) % 31 == 0)) {
    return ModelFormat::kCompressed;
  }
  size_t i = 0;
  while (i < h.size() && (h[i] == ' ' || h[i] == '\n' || h[i] == '\r' || h[i] == '\t')) ++i;
  if (i < h.size() && h[i] == '{') {
    // JSON starts with '{' then whitespace or '"'; UBJSON's object marker '{'
    // is followed by a length type marker ('i', 'U', 'I', 'l', 'L', '#', '$').
    if (i + 1 < h.size() && (h[i + 1] == '"' || h[i + 1] == ' ' || h[i + 1] == '\n' || h[i + 1] == '\r' ||
                             h[i + 1] == '\t' || h[i + 1] == '}')) {
      return ModelFormat::kXgboostJson;
    }
    return ModelFormat::kXgboostUbjson;
  }
  // XGBoost's legacy binary model: "binf" (1.x) or nothing (older), a
  // 136-byte LearnerModelParam (base_score float, num_feature uint32, ...),
  // then the objective name as a uint64 length and its characters, e.g.
  // "binary:logistic".
  if (starts("binf")) return ModelFormat::kXgboostLegacyBinary;
  if (h.size() >= 136 + 8 + 4) {
    uint64_t len = 0;
    std::memcpy(&len, h.data() + 136, 8);  // little-endian on disk and on every host we build for
    std::string_view name = h.substr(136 + 8, std::min<uint64_t>(len, h.size() - 144));
    size_t colon = name.find(':');
    if (len >= 5 && len <= 64 && colon != std::string_view::npos && colon > 0 &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz:_") == std::string_view::npos) {
      return ModelFormat::kXgboostLegacyBinary;
    }
  }
  return ModelFormat::kUnknown;
}

namespace {

// `keep`, when set, keeps `bytes` alive for as long as the result wants
// (a .fbm's stored layout is then read in place); `readable_padding` as for
// LoadModelBytes.
Result<Forest> LoadModelBytesKept(std::string_view bytes, const std::string& name,
                                  std::shared_ptr<const void> keep, size_t readable_padding,
                                  ModelLoad mode = ModelLoad::kFull) {
  Result<Forest> r = InvalidData("empty model file");
  if (!bytes.empty()) {
    switch (DetectModelFormat(bytes.substr(0, 256))) {
      case ModelFormat::kPickle:
      case ModelFormat::kCompressed: r = LoadSklearnPickle(bytes); break;
      case ModelFormat::kXgboostJson: r = LoadXgboostJson(bytes, readable_padding); break;
      case ModelFormat::kXgboostUbjson: r = LoadXgboostUbjson(bytes); break;
      case ModelFormat::kNative:
        r = LoadNativeModel(bytes, std::move(keep), name, mode == ModelLoad::kTreesOnDemand);
        break;
      case ModelFormat::kLightgbmText: r = LoadLightgbmText(bytes); break;
      case ModelFormat::kXgboostLegacyBinary: r = LoadXgboostLegacyBinary(bytes); break;
      case ModelFormat::kUnknown:
        r = InvalidData(
            "not a model file forestbatch recognises (expected a scikit-learn pickle or joblib file, "
            "an XGBoost .json/.ubj model, a LightGBM text model, or a forestbatch .fbm model)");
        break;
    }
  }
  if (!r.ok()) return std::move(r).take_status().WithPath(name);
  return r;
}

}  // namespace

Result<Forest> LoadModelBytes(std::string_view bytes, const std::string& name, size_t readable_padding) {
  return LoadModelBytesKept(bytes, name, nullptr, readable_padding);
}

Result<Forest> LoadModelFile(const std::string& path, ModelLoad mode) {
  // A model read from something without a size (a pipe, a device): 1 GiB is
  // well beyond the models seen (the largest pickles are a few hundred MB;
  // bigger ones load from a regular file, which has no such limit) and stops
  // /dev/zero before it fills the memory.
  constexpr uint64_t kMaxStreamedModelBytes = uint64_t{1} << 30;
  // Memory-mapped: a native model is then validated and copied into the
  // Forest straight from the page cache, and its stored compiled layout read
  // in place. (A file truncated by another
  // process while mapped would fault; model files are not written in place.)
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    Status st = e == ENOENT ? NotFound("no such model file")
                            : IoError(std::string("cannot open model: ") + std::strerror(e));
    return std::move(st).At(path);
  }
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(fd);
    // Not a regular file (a pipe, stdin, a device): plain reads, bounded.
    FB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, kMaxStreamedModelBytes));
    return LoadModelBytes(bytes, path);
  }
  if (sb.st_size == 0) {
    ::close(fd);
    return LoadModelBytes({}, path);
  }
  const size_t size = static_cast<size_t>(sb.st_size);
  // MAP_POPULATE: the whole file is read in (and mapped) by one call, not by a page fault
  // per few pages as the importer walks it (faults are slow on virtual machines). Not for a
  // .fbm 1.6 whose trees are left undecoded: its node and value sections, most of the file,
  // are never read (LoadNativeModel checks the CRCs of the sections it reads).
  int populate = MAP_POPULATE;
  if (mode == ModelLoad::kTreesOnDemand) {
    char head[16];
    uint16_t minor = 0;
    if (::pread(fd, head, sizeof head, 0) == static_cast<ssize_t>(sizeof head) &&
        std::string_view(head, kNativeMagic.size()) == kNativeMagic) {
      std::memcpy(&minor, head + 14, 2);
      if (minor >= 6) populate = 0;
    }
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | populate, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    FB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    return LoadModelBytes(bytes, path);
  }
  // Unmapped when the last user lets go: at once, unless a .fbm's stored
  // layout is read in place from it (then when the Forest goes).
  std::shared_ptr<const void> mapping(map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  // The mapping's last page past the end of the file reads as zeros.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t tail = (page - size % page) % page;
  Result<Forest> r = LoadModelBytesKept(std::string_view(static_cast<const char*>(map), size), path,
                                        std::move(mapping), tail, mode);
  if (r.ok() && r->stored_layout) {
    // The forest's own sections are decoded, or left undecoded (kTreesOnDemand), and no
    // longer read: their pages leave the process's memory (the layout sections after them
    // stay; pages that a later DecodeTrees reads come back from the page cache).
    const char* first = static_cast<const char*>(map) + size;
    for (const StoredLayout::Section& s : r->stored_layout->sections)
      if (!s.bytes.empty()) first = std::min(first, s.bytes.data());
    const size_t done = static_cast<size_t>(first - static_cast<const char*>(map)) / page * page;
    if (done > 0) ::madvise(map, done, MADV_DONTNEED);
  }
  return r;
}

}  // namespace fb
