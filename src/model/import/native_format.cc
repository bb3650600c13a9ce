#include "model/import/native_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <bit>
#include <cstring>
#include <limits>

#include "model/forest_builder.h"

namespace fb {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the .fbm writer and reader assume a little-endian host");

// Section ids (docs/formats/fbm.md).
enum SectionId : uint32_t {
  kMeta = 1,
  kInfo = 2,
  kFeatureNames = 3,
  kClassLabels = 4,
  kBaseMargin = 5,
  kTrees = 6,
  kNodes = 7,
  kValues = 8,
  kCategories = 9,
  // Optional (models from `forestbatch train`); readers that predate them skip them.
  kEncoding = 10,
  kTraining = 11,
  kLinkParams = 12,  // optional: link parameters and value names (IsolationForest)
};
constexpr uint32_t kLastSection = kLinkParams;

constexpr size_t kHeaderSize = 32;
constexpr size_t kSectionEntrySize = 24;
constexpr size_t kMetaSize = 32;
constexpr size_t kTreeRecordSize = 16;
constexpr size_t kNodeRecordSize = 28;
constexpr uint32_t kMaxSections = 1024;
// Bounds what a tiny hostile file can make BuildForest allocate.
constexpr int32_t kMaxOutputs = 1 << 20;
// Offset of the checksummed range: everything after the CRC field.
constexpr size_t kCrcFrom = 12;

constexpr uint8_t kNodeDefaultLeft = 1, kNodeCategorical = 2;
constexpr uint8_t kFlagIntegerLabels = 1, kFlagMissingSupported = 2, kFlagUseBestIteration = 4;

template <typename T>
void Put(std::string* out, T v) {
  char raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  out->append(raw, sizeof(T));
}

template <typename T>
void PutAt(std::string* out, size_t at, T v) {
  std::memcpy(out->data() + at, &v, sizeof(T));
}

void PutStrings(std::string* out, const std::vector<std::string>& v) {
  Put<uint32_t>(out, static_cast<uint32_t>(v.size()));
  for (const std::string& s : v) {
    Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
    out->append(s);
  }
}

uint32_t Crc32(std::string_view b) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large inputs in pieces.
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

// A bounds-checked little-endian reader over one section.
class Cursor {
 public:
  Cursor(std::string_view b, const char* section) : b_(b), section_(section) {}
  template <typename T>
  Status Get(T* v) {
    if (b_.size() - pos_ < sizeof(T)) return Short();
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status Strings(std::vector<std::string>* out) {
    uint32_t n;
    FB_RETURN_IF_ERROR(Get(&n));
    // Each string takes at least its 4-byte length.
    if (n > (b_.size() - pos_) / 4) return Short();
    out->resize(n);
    for (std::string& s : *out) {
      uint32_t len;
      FB_RETURN_IF_ERROR(Get(&len));
      if (len > b_.size() - pos_) return Short();
      s.assign(b_.data() + pos_, len);
      pos_ += len;
    }
    return Status::Ok();
  }
  Status ExpectEnd() const {
    if (pos_ != b_.size())
      return InvalidData(fmt::format("native model: {} section has trailing bytes", section_));
    return Status::Ok();
  }

 private:
  Status Short() const { return InvalidData(fmt::format("native model: {} section is truncated", section_)); }
  std::string_view b_;
  const char* section_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> SerializeNativeModel(const Forest& f) {
  size_t total_nodes = 0;
  for (const Tree& t : f.trees) total_nodes += t.nodes.size();
  if (f.trees.size() > std::numeric_limits<uint32_t>::max() ||
      f.categories.size() > std::numeric_limits<uint32_t>::max())
    return Unsupported("model too large for the native format");

  // Sections are written straight into the output (a large model is not
  // held twice): the header, the section table, then each section 8-byte
  // aligned, its table entry filled when it ends.
  const bool has_encoding = !f.encoding.empty();
  const bool has_training = !f.training.params.empty() || !f.training.feature_importances.empty();
  const bool has_link_params = !f.link_params.empty() || !f.value_names.empty();
  const uint32_t n_sections = 9 + (has_encoding ? 1 : 0) + (has_training ? 1 : 0) + (has_link_params ? 1 : 0);
  std::string out(kNativeMagic);
  Put<uint32_t>(&out, 0);  // CRC, filled last
  Put<uint16_t>(&out, kNativeMajorVersion);
  Put<uint16_t>(&out, kNativeMinorVersion);
  Put<uint64_t>(&out, 0);  // file size, filled last
  Put<uint32_t>(&out, n_sections);
  Put<uint32_t>(&out, 0);
  const size_t table = out.size();
  out.append(n_sections * kSectionEntrySize, '\0');
  out.reserve(out.size() + 8 * n_sections + 4096 + f.trees.size() * kTreeRecordSize +
              total_nodes * (kNodeRecordSize + f.leaf_width * sizeof(double)) + f.categories.size() * 4 +
              f.feature_names.size() * 32 + f.class_labels.size() * 16);
  uint32_t index = 0;
  size_t begin = 0;
  auto start_section = [&](uint32_t id) {
    out.append((8 - out.size() % 8) % 8, '\0');  // 8-byte aligned sections
    const size_t e = table + index * kSectionEntrySize;
    PutAt<uint32_t>(&out, e, id);
    PutAt<uint32_t>(&out, e + 4, 0);
    PutAt<uint64_t>(&out, e + 8, out.size());
    begin = out.size();
  };
  auto end_section = [&]() {
    PutAt<uint64_t>(&out, table + index * kSectionEntrySize + 16, out.size() - begin);
    ++index;
  };
  std::string* s = &out;

  start_section(kMeta);
  Put<uint8_t>(s, static_cast<uint8_t>(f.kind));
  Put<uint8_t>(s, static_cast<uint8_t>(f.aggregate));
  Put<uint8_t>(s, static_cast<uint8_t>(f.link));
  Put<uint8_t>(s, (f.labels_are_integers ? kFlagIntegerLabels : 0) |
                      (f.missing_values_supported ? kFlagMissingSupported : 0) |
                      (f.predict_uses_best_iteration ? kFlagUseBestIteration : 0));
  Put<int32_t>(s, f.n_features);
  Put<int32_t>(s, f.n_outputs);
  Put<int32_t>(s, f.leaf_width);
  Put<int32_t>(s, f.trees_per_iteration);
  Put<int32_t>(s, f.best_iteration);
  Put<uint32_t>(s, static_cast<uint32_t>(f.trees.size()));
  Put<uint32_t>(s, 0);
  end_section();

  start_section(kInfo);
  PutStrings(
      s, {f.info.source_format, f.info.estimator, f.info.wrappers, f.info.library_version, f.info.objective});
  end_section();

  start_section(kFeatureNames);
  PutStrings(s, f.feature_names);
  end_section();

  start_section(kClassLabels);
  PutStrings(s, f.class_labels);
  end_section();

  start_section(kBaseMargin);
  for (double v : f.base_margin) Put<double>(s, v);
  end_section();

  start_section(kTrees);
  uint64_t first = 0;
  for (const Tree& t : f.trees) {
    Put<uint64_t>(s, first);
    Put<uint32_t>(s, static_cast<uint32_t>(t.nodes.size()));
    Put<int32_t>(s, t.output);
    first += t.nodes.size();
  }
  end_section();

  start_section(kNodes);
  for (const Tree& t : f.trees) {
    for (const Node& n : t.nodes) {
      Put<int32_t>(s, n.left);
      Put<int32_t>(s, n.right);
      Put<int32_t>(s, n.feature);
      Put<float>(s, n.threshold);
      Put<uint32_t>(s, n.cat_begin);
      Put<uint32_t>(s, n.cat_count);
      Put<uint8_t>(s, (n.default_left ? kNodeDefaultLeft : 0) | (n.categorical ? kNodeCategorical : 0));
      s->append(3, '\0');
    }
  }
  end_section();

  start_section(kValues);
  for (const Tree& t : f.trees)
    for (double v : t.values) Put<double>(s, v);
  end_section();

  start_section(kCategories);
  for (int32_t c : f.categories) Put<int32_t>(s, c);
  end_section();

  if (has_encoding) {
    // u32 column count; per column: name (strings of 1), i32 first feature,
    // category strings (none for numeric columns).
    start_section(kEncoding);
    Put<uint32_t>(s, static_cast<uint32_t>(f.encoding.columns.size()));
    for (const InputColumn& c : f.encoding.columns) {
      PutStrings(s, {c.name});
      Put<int32_t>(s, c.first_feature);
      PutStrings(s, c.categories);
    }
    end_section();
  }
  if (has_training) {
    // name/value strings interleaved, i64 training rows, u32 count + f64 importances.
    start_section(kTraining);
    std::vector<std::string> kv;
    for (const auto& [k, v] : f.training.params) kv.push_back(k), kv.push_back(v);
    PutStrings(s, kv);
    Put<int64_t>(s, f.training.n_samples);
    Put<uint32_t>(s, static_cast<uint32_t>(f.training.feature_importances.size()));
    for (double v : f.training.feature_importances) Put<double>(s, v);
    end_section();
  }

  if (has_link_params) {
    // u32 count + f64 parameters, then the value names (strings).
    start_section(kLinkParams);
    Put<uint32_t>(s, static_cast<uint32_t>(f.link_params.size()));
    for (double v : f.link_params) Put<double>(s, v);
    PutStrings(s, f.value_names);
    end_section();
  }

  PutAt<uint64_t>(&out, 16, out.size());
  PutAt<uint32_t>(&out, 8, Crc32(std::string_view(out).substr(kCrcFrom)));
  return out;
}

Result<Forest> LoadNativeModel(std::string_view b) {
  auto bad = [](const std::string& m) { return InvalidData("native model: " + m); };
  if (b.size() < kHeaderSize || b.substr(0, kNativeMagic.size()) != kNativeMagic)
    return bad("bad magic or too short");
  uint32_t crc, n_sections;
  uint16_t major, minor;
  uint64_t file_size;
  std::memcpy(&crc, b.data() + 8, 4);
  std::memcpy(&major, b.data() + 12, 2);
  std::memcpy(&minor, b.data() + 14, 2);
  std::memcpy(&file_size, b.data() + 16, 8);
  std::memcpy(&n_sections, b.data() + 24, 4);
  if (major != kNativeMajorVersion) {
    return Unsupported(
        fmt::format("native model format version {}.{} is not supported (this build reads {}.x)", major,
                    minor, kNativeMajorVersion));
  }
  if (file_size != b.size()) {
    return bad(
        fmt::format("file is {} bytes but its header says {} (truncated or padded)", b.size(), file_size));
  }
  if (Crc32(b.substr(kCrcFrom)) != crc) return bad("checksum mismatch (the file is corrupt)");
  if (n_sections > kMaxSections || (b.size() - kHeaderSize) / kSectionEntrySize < n_sections)
    return bad("bad section count");

  // Known sections; unknown ids (added by later minor versions) are skipped.
  std::string_view sec[kLastSection + 1];
  bool have[kLastSection + 1] = {};
  const size_t body_start = kHeaderSize + static_cast<size_t>(n_sections) * kSectionEntrySize;
  for (uint32_t i = 0; i < n_sections; ++i) {
    const char* e = b.data() + kHeaderSize + i * kSectionEntrySize;
    uint32_t id;
    uint64_t off, size;
    std::memcpy(&id, e, 4);
    std::memcpy(&off, e + 8, 8);
    std::memcpy(&size, e + 16, 8);
    if (off < body_start || off > b.size() || size > b.size() - off)
      return bad(fmt::format("section {} lies outside the file", id));
    if (id >= kMeta && id <= kLastSection) {
      if (have[id]) return bad(fmt::format("section {} appears twice", id));
      have[id] = true;
      sec[id] = b.substr(off, size);
    }
  }
  for (uint32_t id = kMeta; id <= kCategories; ++id)
    if (!have[id]) return bad(fmt::format("section {} is missing", id));

  Forest f;
  uint32_t n_trees;
  {
    if (sec[kMeta].size() < kMetaSize) return bad("meta section is truncated");
    Cursor c(sec[kMeta], "meta");  // longer meta (later minor versions): extra bytes ignored
    uint8_t kind, aggregate, link, flags;
    uint32_t reserved;
    FB_RETURN_IF_ERROR(c.Get(&kind));
    FB_RETURN_IF_ERROR(c.Get(&aggregate));
    FB_RETURN_IF_ERROR(c.Get(&link));
    FB_RETURN_IF_ERROR(c.Get(&flags));
    FB_RETURN_IF_ERROR(c.Get(&f.n_features));
    FB_RETURN_IF_ERROR(c.Get(&f.n_outputs));
    FB_RETURN_IF_ERROR(c.Get(&f.leaf_width));
    FB_RETURN_IF_ERROR(c.Get(&f.trees_per_iteration));
    FB_RETURN_IF_ERROR(c.Get(&f.best_iteration));
    FB_RETURN_IF_ERROR(c.Get(&n_trees));
    FB_RETURN_IF_ERROR(c.Get(&reserved));
    if (kind > static_cast<uint8_t>(ModelKind::kRegressor) ||
        aggregate > static_cast<uint8_t>(Aggregate::kSum) || link > static_cast<uint8_t>(Link::kIsolation)) {
      return bad("unknown model kind, aggregate or link");
    }
    f.kind = static_cast<ModelKind>(kind);
    f.aggregate = static_cast<Aggregate>(aggregate);
    f.link = static_cast<Link>(link);
    f.labels_are_integers = flags & kFlagIntegerLabels;
    f.missing_values_supported = flags & kFlagMissingSupported;
    f.predict_uses_best_iteration = flags & kFlagUseBestIteration;
    // Early shape checks so that the sizes below cannot overflow.
    if (f.n_outputs <= 0 || f.n_outputs > kMaxOutputs || f.leaf_width <= 0 || f.leaf_width > f.n_outputs ||
        f.n_features <= 0)
      return bad("bad shape");
  }
  {
    std::vector<std::string> info;
    Cursor c(sec[kInfo], "info");
    FB_RETURN_IF_ERROR(c.Strings(&info));
    if (info.size() < 5) return bad("info section has too few strings");
    f.info = ModelInfo{info[0], info[1], info[2], info[3], info[4]};
    if (f.info.source_format.rfind("native", 0) != 0)
      f.info.source_format = "native (from " + f.info.source_format + ")";
  }
  {
    Cursor c(sec[kFeatureNames], "feature names");
    FB_RETURN_IF_ERROR(c.Strings(&f.feature_names));
    FB_RETURN_IF_ERROR(c.ExpectEnd());
    Cursor l(sec[kClassLabels], "class labels");
    FB_RETURN_IF_ERROR(l.Strings(&f.class_labels));
    FB_RETURN_IF_ERROR(l.ExpectEnd());
  }
  {
    std::string_view s = sec[kBaseMargin];
    if (s.size() % sizeof(double) != 0) return bad("base margin section has a partial value");
    f.base_margin.resize(s.size() / sizeof(double));
    if (!s.empty()) std::memcpy(f.base_margin.data(), s.data(), s.size());
  }
  {
    std::string_view s = sec[kCategories];
    if (s.size() % sizeof(int32_t) != 0) return bad("categories section has a partial value");
    f.categories.resize(s.size() / sizeof(int32_t));
    if (!s.empty()) std::memcpy(f.categories.data(), s.data(), s.size());
  }
  std::string_view trees = sec[kTrees], nodes = sec[kNodes], values = sec[kValues];
  if (trees.size() != static_cast<uint64_t>(n_trees) * kTreeRecordSize)
    return bad("trees section size mismatch");
  if (nodes.size() % kNodeRecordSize != 0) return bad("nodes section has a partial record");
  const uint64_t total_nodes = nodes.size() / kNodeRecordSize;
  if (values.size() != total_nodes * static_cast<uint64_t>(f.leaf_width) * sizeof(double))
    return bad("values section size mismatch");
  f.trees.resize(n_trees);
  uint64_t expect_first = 0;
  for (uint32_t t = 0; t < n_trees; ++t) {
    const char* r = trees.data() + static_cast<size_t>(t) * kTreeRecordSize;
    uint64_t first;
    uint32_t count;
    Tree& tree = f.trees[t];
    std::memcpy(&first, r, 8);
    std::memcpy(&count, r + 8, 4);
    std::memcpy(&tree.output, r + 12, 4);
    // Trees are stored back to back, in order.
    if (first != expect_first || count == 0 || count > total_nodes - first)
      return bad(fmt::format("tree {} node range out of bounds", t));
    expect_first += count;
    tree.nodes.resize(count);
    for (uint32_t k = 0; k < count; ++k) {
      const char* p = nodes.data() + (first + k) * kNodeRecordSize;
      Node& n = tree.nodes[k];
      std::memcpy(&n.left, p, 4);
      std::memcpy(&n.right, p + 4, 4);
      std::memcpy(&n.feature, p + 8, 4);
      std::memcpy(&n.threshold, p + 12, 4);
      std::memcpy(&n.cat_begin, p + 16, 4);
      std::memcpy(&n.cat_count, p + 20, 4);
      uint8_t flags = static_cast<uint8_t>(p[24]);
      if (flags & ~(kNodeDefaultLeft | kNodeCategorical))
        return bad(fmt::format("tree {} node {}: bad flags", t, k));
      n.default_left = flags & kNodeDefaultLeft;
      n.categorical = flags & kNodeCategorical;
    }
    const size_t w = static_cast<size_t>(f.leaf_width);
    tree.values.resize(count * w);
    std::memcpy(tree.values.data(), values.data() + first * w * sizeof(double), count * w * sizeof(double));
  }
  if (expect_first != total_nodes) return bad("nodes section has nodes no tree uses");
  if (have[kEncoding]) {
    Cursor c(sec[kEncoding], "encoding");
    uint32_t n;
    FB_RETURN_IF_ERROR(c.Get(&n));
    if (n > static_cast<uint32_t>(f.n_features)) return bad("encoding has more columns than features");
    f.encoding.columns.resize(n);
    for (InputColumn& col : f.encoding.columns) {
      std::vector<std::string> name;
      FB_RETURN_IF_ERROR(c.Strings(&name));
      if (name.size() != 1) return bad("encoding column without one name");
      col.name = std::move(name[0]);
      FB_RETURN_IF_ERROR(c.Get(&col.first_feature));
      FB_RETURN_IF_ERROR(c.Strings(&col.categories));
    }
    FB_RETURN_IF_ERROR(c.ExpectEnd());
  }
  if (have[kTraining]) {
    Cursor c(sec[kTraining], "training");
    std::vector<std::string> kv;
    FB_RETURN_IF_ERROR(c.Strings(&kv));
    if (kv.size() % 2 != 0) return bad("training parameters are not name/value pairs");
    for (size_t i = 0; i < kv.size(); i += 2) f.training.params.emplace_back(kv[i], kv[i + 1]);
    FB_RETURN_IF_ERROR(c.Get(&f.training.n_samples));
    uint32_t n;
    FB_RETURN_IF_ERROR(c.Get(&n));
    if (n != 0 && n != static_cast<uint32_t>(f.n_features)) return bad("feature importance count mismatch");
    f.training.feature_importances.resize(n);
    for (double& v : f.training.feature_importances) FB_RETURN_IF_ERROR(c.Get(&v));
    FB_RETURN_IF_ERROR(c.ExpectEnd());
  }
  if (have[kLinkParams]) {
    Cursor c(sec[kLinkParams], "link parameters");
    uint32_t n;
    FB_RETURN_IF_ERROR(c.Get(&n));
    if (n > 64) return bad("too many link parameters");
    f.link_params.resize(n);
    for (double& v : f.link_params) FB_RETURN_IF_ERROR(c.Get(&v));
    FB_RETURN_IF_ERROR(c.Strings(&f.value_names));
    FB_RETURN_IF_ERROR(c.ExpectEnd());
  }
  return BuildForest(std::move(f));
}

}  // namespace fb
