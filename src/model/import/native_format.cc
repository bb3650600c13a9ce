#include "model/import/native_format.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <iterator>
#include <limits>

#include "common/crc32.h"
#include "common/little_endian.h"
#include "common/prefault.h"
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
  // Since 1.3: the float64 input map (HistGradientBoosting; LightGBM since 1.4). Every internal
  // node then carries kNodeFloat64Input, so a reader that predates the
  // section refuses the file (unknown node flag) instead of skipping it.
  kFloat64Features = 13,
};
constexpr uint32_t kLastSection = kFloat64Features;

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
// Since 1.6: the header's CRC of itself and the section table, whose entries
// hold each section's CRC (a load that reads only some sections checks those).
constexpr size_t kTableCrcAt = 28;
constexpr uint16_t kFirstMinorWithSectionCrcs = 6;

// CRC-32 of the header's bytes [12, 28) and the section table.
uint32_t TableCrc(std::string_view b, uint32_t n_sections) {
  const uint32_t head = Crc32(b.substr(kCrcFrom, kTableCrcAt - kCrcFrom));
  return Crc32(b.substr(kHeaderSize, static_cast<size_t>(n_sections) * kSectionEntrySize), head);
}

constexpr uint8_t kNodeDefaultLeft = 1, kNodeCategorical = 2;
// Since 1.1 (LightGBM): zero as missing, truncated categories. Older readers
// refuse a node with them (unknown flags) rather than predict differently.
constexpr uint8_t kNodeZeroMissing = 4, kNodeCatTruncate = 8;
// Since 1.3: the node's feature goes through the float64 input map.
constexpr uint8_t kNodeFloat64Input = 16;
constexpr uint8_t kFlagIntegerLabels = 1, kFlagMissingSupported = 2, kFlagUseBestIteration = 4;
// Since 1.2: float32 sums (XGBoost); 1.0 and 1.1 files never set it.
constexpr uint8_t kFlagFloat32Sums = 8;

template <typename T>
void PutAt(std::string* out, size_t at, T v) {
  std::memcpy(out->data() + at, &v, sizeof(T));
}

void PutStrings(std::string* out, const std::vector<std::string>& v) {
  PutLe<uint32_t>(out, static_cast<uint32_t>(v.size()));
  for (const std::string& s : v) {
    PutLe<uint32_t>(out, static_cast<uint32_t>(s.size()));
    out->append(s);
  }
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

Status Bad(const std::string& m) { return InvalidData("native model: " + m); }

// What decoding carries from section to section: the forest being filled,
// the tree count from the meta section, and the three tree sections (decoded
// together once all are known).
struct Decoding {
  Forest f;
  uint32_t n_trees = 0;
  std::string_view trees, nodes, values;
  bool float64_section = false;  // kFloat64Features was present
};

// ---- One encode/decode pair per section (layouts: docs/formats/fbm.md) ----

void EncodeMeta(const Forest& f, std::string* s) {
  PutLe<uint8_t>(s, static_cast<uint8_t>(f.kind));
  PutLe<uint8_t>(s, static_cast<uint8_t>(f.aggregate));
  PutLe<uint8_t>(s, static_cast<uint8_t>(f.link));
  PutLe<uint8_t>(s, (f.labels_are_integers ? kFlagIntegerLabels : 0) |
                        (f.missing_values_supported ? kFlagMissingSupported : 0) |
                        (f.predict_uses_best_iteration ? kFlagUseBestIteration : 0) |
                        (f.float32_sums ? kFlagFloat32Sums : 0));
  PutLe<int32_t>(s, f.n_features);
  PutLe<int32_t>(s, f.n_outputs);
  PutLe<int32_t>(s, f.leaf_width);
  PutLe<int32_t>(s, f.trees_per_iteration);
  PutLe<int32_t>(s, f.best_iteration);
  PutLe<uint32_t>(s, static_cast<uint32_t>(f.trees.size()));
  PutLe<uint32_t>(s, 0);
}

Status DecodeMeta(std::string_view b, Decoding* d) {
  Forest& f = d->f;
  if (b.size() < kMetaSize) return Bad("meta section is truncated");
  Cursor c(b, "meta");  // longer meta (later minor versions): extra bytes ignored
  uint8_t kind = 0, aggregate = 0, link = 0, flags = 0;
  uint32_t reserved = 0;
  FB_RETURN_IF_ERROR(c.Get(&kind));
  FB_RETURN_IF_ERROR(c.Get(&aggregate));
  FB_RETURN_IF_ERROR(c.Get(&link));
  FB_RETURN_IF_ERROR(c.Get(&flags));
  FB_RETURN_IF_ERROR(c.Get(&f.n_features));
  FB_RETURN_IF_ERROR(c.Get(&f.n_outputs));
  FB_RETURN_IF_ERROR(c.Get(&f.leaf_width));
  FB_RETURN_IF_ERROR(c.Get(&f.trees_per_iteration));
  FB_RETURN_IF_ERROR(c.Get(&f.best_iteration));
  FB_RETURN_IF_ERROR(c.Get(&d->n_trees));
  FB_RETURN_IF_ERROR(c.Get(&reserved));
  if (kind > static_cast<uint8_t>(ModelKind::kRegressor) ||
      aggregate > static_cast<uint8_t>(Aggregate::kSumMean) ||
      link > static_cast<uint8_t>(Link::kSoftmaxNumpy)) {
    return Bad("unknown model kind, aggregate or link");
  }
  f.kind = static_cast<ModelKind>(kind);
  f.aggregate = static_cast<Aggregate>(aggregate);
  f.link = static_cast<Link>(link);
  f.labels_are_integers = flags & kFlagIntegerLabels;
  f.missing_values_supported = flags & kFlagMissingSupported;
  f.predict_uses_best_iteration = flags & kFlagUseBestIteration;
  f.float32_sums = flags & kFlagFloat32Sums;
  // Early shape checks so that the sizes below cannot overflow.
  if (f.n_outputs <= 0 || f.n_outputs > kMaxOutputs || f.leaf_width <= 0 || f.leaf_width > f.n_outputs ||
      f.n_features <= 0)
    return Bad("bad shape");
  return Status::Ok();
}

void EncodeInfo(const Forest& f, std::string* s) {
  PutStrings(
      s, {f.info.source_format, f.info.estimator, f.info.wrappers, f.info.library_version, f.info.objective});
}

Status DecodeInfo(std::string_view b, Decoding* d) {
  std::vector<std::string> info;
  Cursor c(b, "info");
  FB_RETURN_IF_ERROR(c.Strings(&info));
  if (info.size() < 5) return Bad("info section has too few strings");
  ModelInfo& i = d->f.info;
  i = ModelInfo{info[0], info[1], info[2], info[3], info[4]};
  if (i.source_format.rfind("native", 0) != 0) i.source_format = "native (from " + i.source_format + ")";
  return Status::Ok();
}

void EncodeFeatureNames(const Forest& f, std::string* s) { PutStrings(s, f.feature_names); }
Status DecodeFeatureNames(std::string_view b, Decoding* d) {
  Cursor c(b, "feature names");
  FB_RETURN_IF_ERROR(c.Strings(&d->f.feature_names));
  return c.ExpectEnd();
}

void EncodeClassLabels(const Forest& f, std::string* s) { PutStrings(s, f.class_labels); }
Status DecodeClassLabels(std::string_view b, Decoding* d) {
  Cursor c(b, "class labels");
  FB_RETURN_IF_ERROR(c.Strings(&d->f.class_labels));
  return c.ExpectEnd();
}

// A section that is a plain array of T.
template <typename T>
void EncodeArray(const std::vector<T>& v, std::string* s) {
  for (T x : v) PutLe<T>(s, x);
}
template <typename T>
Status DecodeArray(std::string_view b, const char* section, std::vector<T>* v) {
  if (b.size() % sizeof(T) != 0) return Bad(fmt::format("{} section has a partial value", section));
  v->resize(b.size() / sizeof(T));
  if (!b.empty()) std::memcpy(v->data(), b.data(), b.size());
  return Status::Ok();
}

void EncodeBaseMargin(const Forest& f, std::string* s) { EncodeArray(f.base_margin, s); }
Status DecodeBaseMargin(std::string_view b, Decoding* d) {
  return DecodeArray(b, "base margin", &d->f.base_margin);
}

void EncodeCategories(const Forest& f, std::string* s) { EncodeArray(f.categories, s); }
Status DecodeCategories(std::string_view b, Decoding* d) {
  return DecodeArray(b, "categories", &d->f.categories);
}

// Trees, nodes and values are three sections decoded together
// (DecodeTreeSections) once all three are known.
void EncodeTrees(const Forest& f, std::string* s) {
  uint64_t first = 0;
  for (const Tree& t : f.trees) {
    PutLe<uint64_t>(s, first);
    PutLe<uint32_t>(s, static_cast<uint32_t>(t.nodes.size()));
    PutLe<int32_t>(s, t.output);
    first += t.nodes.size();
  }
}
Status DecodeTrees(std::string_view b, Decoding* d) {
  d->trees = b;
  return Status::Ok();
}

void EncodeNodes(const Forest& f, std::string* s) {
  const uint8_t mapped = f.float64_features.empty() ? 0 : kNodeFloat64Input;
  for (const Tree& t : f.trees) {
    for (const Node& n : t.nodes) {
      PutLe<int32_t>(s, n.left);
      PutLe<int32_t>(s, n.right);
      PutLe<int32_t>(s, n.feature);
      PutLe<float>(s, n.threshold);
      PutLe<uint32_t>(s, n.cat_begin);
      PutLe<uint32_t>(s, n.cat_count);
      PutLe<uint8_t>(s, (n.default_left ? kNodeDefaultLeft : 0) | (n.categorical ? kNodeCategorical : 0) |
                            (n.zero_missing ? kNodeZeroMissing : 0) |
                            (n.cat_truncate ? kNodeCatTruncate : 0) | (n.is_leaf() ? 0 : mapped));
      s->append(3, '\0');
    }
  }
}
Status DecodeNodes(std::string_view b, Decoding* d) {
  d->nodes = b;
  return Status::Ok();
}

void EncodeValues(const Forest& f, std::string* s) {
  for (const Tree& t : f.trees) EncodeArray(t.values, s);
}
Status DecodeValues(std::string_view b, Decoding* d) {
  d->values = b;
  return Status::Ok();
}

// The forest's three tree sections, checked by DecodeTreeSections.
struct TreeSections {
  uint32_t n_trees = 0;
  std::string_view trees, nodes, values;
  bool float64_section = false;
  // 1.6 files loaded section by section: the node and value sections' CRCs,
  // not checked yet (NativeTreeDecoder checks them before decoding).
  bool check_crcs = false;
  uint32_t nodes_crc = 0, values_crc = 0;
};

// Fills f->trees from the tree sections. With `counts_only`, each tree gets
// its output and no nodes or values, and its node count goes into
// *counts_only (Forest::undecoded): the records and the sections' sizes are
// checked, the nodes are not read.
Status DecodeTreeSections(const TreeSections& s, Forest* fp, std::vector<uint32_t>* counts_only) {
  Forest& f = *fp;
  const std::string_view trees = s.trees, nodes = s.nodes, values = s.values;
  if (trees.size() != static_cast<uint64_t>(s.n_trees) * kTreeRecordSize)
    return Bad("trees section size mismatch");
  if (nodes.size() % kNodeRecordSize != 0) return Bad("nodes section has a partial record");
  const uint64_t total_nodes = nodes.size() / kNodeRecordSize;
  if (values.size() != total_nodes * static_cast<uint64_t>(f.leaf_width) * sizeof(double))
    return Bad("values section size mismatch");
  f.trees.clear();
  f.trees.resize(s.n_trees);
  if (counts_only) counts_only->assign(s.n_trees, 0);
  uint64_t expect_first = 0;
  for (uint32_t t = 0; t < s.n_trees; ++t) {
    const char* r = trees.data() + static_cast<size_t>(t) * kTreeRecordSize;
    uint64_t first;
    uint32_t count = 0;
    Tree& tree = f.trees[t];
    std::memcpy(&first, r, 8);
    std::memcpy(&count, r + 8, 4);
    std::memcpy(&tree.output, r + 12, 4);
    // Trees are stored back to back, in order.
    if (first != expect_first || count == 0 || count > total_nodes - first)
      return Bad(fmt::format("tree {} node range out of bounds", t));
    expect_first += count;
    if (counts_only) {
      (*counts_only)[t] = count;
      continue;
    }
    // Nodes and values go into pages mapped by one call each
    // (PrefaultForWrite), not by a page fault per 4 KiB as they are first
    // written: faults are slow on virtual machines.
    tree.nodes.reserve(count);
    PrefaultForWrite(tree.nodes.data(), count * sizeof(Node));
    for (uint32_t k = 0; k < count; ++k) {
      const char* p = nodes.data() + (first + k) * kNodeRecordSize;
      Node& n = tree.nodes.emplace_back();
      std::memcpy(&n.left, p, 4);
      std::memcpy(&n.right, p + 4, 4);
      std::memcpy(&n.feature, p + 8, 4);
      std::memcpy(&n.threshold, p + 12, 4);
      std::memcpy(&n.cat_begin, p + 16, 4);
      std::memcpy(&n.cat_count, p + 20, 4);
      uint8_t flags = static_cast<uint8_t>(p[24]);
      if (flags &
          ~(kNodeDefaultLeft | kNodeCategorical | kNodeZeroMissing | kNodeCatTruncate | kNodeFloat64Input))
        return Bad(fmt::format("tree {} node {}: bad flags", t, k));
      // Internal nodes are flagged exactly when the float64 input map is there.
      if (n.left != Node::kLeaf && ((flags & kNodeFloat64Input) != 0) != s.float64_section)
        return Bad(
            fmt::format("tree {} node {}: float64 input flag without the map, or the map without it", t, k));
      n.default_left = flags & kNodeDefaultLeft;
      n.categorical = flags & kNodeCategorical;
      n.zero_missing = flags & kNodeZeroMissing;
      n.cat_truncate = flags & kNodeCatTruncate;
    }
    const size_t w = static_cast<size_t>(f.leaf_width);
    tree.values.reserve(count * w);
    PrefaultForWrite(tree.values.data(), count * w * sizeof(double));
    tree.values.resize(count * w);
    std::memcpy(tree.values.data(), values.data() + first * w * sizeof(double), count * w * sizeof(double));
  }
  if (expect_first != total_nodes) return Bad("nodes section has nodes no tree uses");
  return Status::Ok();
}

// Decodes a lazily loaded forest's trees (Forest::undecoded) from the file's
// sections, which `keep` keeps alive.
class NativeTreeDecoder final : public TreeDecoder {
 public:
  NativeTreeDecoder(TreeSections sections, std::shared_ptr<const void> keep)
      : sections_(sections), keep_(std::move(keep)) {}
  std::string Decode(Forest* forest) const override {
    if (sections_.check_crcs && Crc32(sections_.nodes) != sections_.nodes_crc)
      return fmt::format("native model: section {}: checksum mismatch (the file is corrupt)",
                         static_cast<uint32_t>(kNodes));
    if (sections_.check_crcs && Crc32(sections_.values) != sections_.values_crc)
      return fmt::format("native model: section {}: checksum mismatch (the file is corrupt)",
                         static_cast<uint32_t>(kValues));
    Status st = DecodeTreeSections(sections_, forest, nullptr);
    return st.ok() ? std::string() : st.message();
  }

 private:
  TreeSections sections_;
  std::shared_ptr<const void> keep_;
};

// u32 column count; per column: name (strings of 1), i32 first feature,
// category strings (none for numeric columns).
bool HasEncoding(const Forest& f) { return !f.encoding.empty(); }
void EncodeEncoding(const Forest& f, std::string* s) {
  PutLe<uint32_t>(s, static_cast<uint32_t>(f.encoding.columns.size()));
  for (const InputColumn& c : f.encoding.columns) {
    PutStrings(s, {c.name});
    PutLe<int32_t>(s, c.first_feature);
    PutStrings(s, c.categories);
  }
}
Status DecodeEncoding(std::string_view b, Decoding* d) {
  Forest& f = d->f;
  Cursor c(b, "encoding");
  uint32_t n;
  FB_RETURN_IF_ERROR(c.Get(&n));
  if (n > static_cast<uint32_t>(f.n_features)) return Bad("encoding has more columns than features");
  f.encoding.columns.resize(n);
  for (InputColumn& col : f.encoding.columns) {
    std::vector<std::string> name;
    FB_RETURN_IF_ERROR(c.Strings(&name));
    if (name.size() != 1) return Bad("encoding column without one name");
    col.name = std::move(name[0]);
    FB_RETURN_IF_ERROR(c.Get(&col.first_feature));
    FB_RETURN_IF_ERROR(c.Strings(&col.categories));
  }
  return c.ExpectEnd();
}

// name/value strings interleaved, i64 training rows, u32 count + f64 importances.
bool HasTraining(const Forest& f) {
  return !f.training.params.empty() || !f.training.feature_importances.empty();
}
void EncodeTraining(const Forest& f, std::string* s) {
  std::vector<std::string> kv;
  for (const auto& [k, v] : f.training.params) kv.push_back(k), kv.push_back(v);
  PutStrings(s, kv);
  PutLe<int64_t>(s, f.training.n_samples);
  PutLe<uint32_t>(s, static_cast<uint32_t>(f.training.feature_importances.size()));
  EncodeArray(f.training.feature_importances, s);
}
Status DecodeTraining(std::string_view b, Decoding* d) {
  Forest& f = d->f;
  Cursor c(b, "training");
  std::vector<std::string> kv;
  FB_RETURN_IF_ERROR(c.Strings(&kv));
  if (kv.size() % 2 != 0) return Bad("training parameters are not name/value pairs");
  for (size_t i = 0; i < kv.size(); i += 2) f.training.params.emplace_back(kv[i], kv[i + 1]);
  FB_RETURN_IF_ERROR(c.Get(&f.training.n_samples));
  uint32_t n;
  FB_RETURN_IF_ERROR(c.Get(&n));
  if (n != 0 && n != static_cast<uint32_t>(f.n_features)) return Bad("feature importance count mismatch");
  f.training.feature_importances.resize(n);
  for (double& v : f.training.feature_importances) FB_RETURN_IF_ERROR(c.Get(&v));
  return c.ExpectEnd();
}

// u32 count + f64 link parameters, then the value names (string list).
bool HasLinkParams(const Forest& f) { return !f.link_params.empty() || !f.value_names.empty(); }
void EncodeLinkParams(const Forest& f, std::string* s) {
  PutLe<uint32_t>(s, static_cast<uint32_t>(f.link_params.size()));
  EncodeArray(f.link_params, s);
  PutStrings(s, f.value_names);
}
Status DecodeLinkParams(std::string_view b, Decoding* d) {
  Forest& f = d->f;
  Cursor c(b, "link parameters");
  uint32_t n;
  FB_RETURN_IF_ERROR(c.Get(&n));
  if (n > 64) return Bad("too many link parameters");
  f.link_params.resize(n);
  for (double& v : f.link_params) FB_RETURN_IF_ERROR(c.Get(&v));
  FB_RETURN_IF_ERROR(c.Strings(&f.value_names));
  return c.ExpectEnd();
}

// u32 feature count (0 or n_features); per feature: u8 kind (0 numeric, 1
// categorical; since 1.4 LightGBM's rules: 2 numeric, 3 categorical, 6
// numeric reading the zero band as missing), u32
// count, then count f64 cuts (numeric) or count i32 known categories.
bool HasFloat64Features(const Forest& f) { return !f.float64_features.empty(); }
void EncodeFloat64Features(const Forest& f, std::string* s) {
  PutLe<uint32_t>(s, static_cast<uint32_t>(f.float64_features.size()));
  for (const Float64Feature& m : f.float64_features) {
    PutLe<uint8_t>(s, static_cast<uint8_t>((m.categorical ? 1 : 0) + (m.lightgbm ? 2 : 0) +
                                           (m.zero_is_missing ? 4 : 0)));
    if (m.categorical) {
      PutLe<uint32_t>(s, static_cast<uint32_t>(m.known.size()));
      EncodeArray(m.known, s);
    } else {
      PutLe<uint32_t>(s, static_cast<uint32_t>(m.cuts.size()));
      EncodeArray(m.cuts, s);
    }
  }
}
Status DecodeFloat64Features(std::string_view b, Decoding* d) {
  Forest& f = d->f;
  Cursor c(b, "float64 features");
  uint32_t n;
  FB_RETURN_IF_ERROR(c.Get(&n));
  if (n != static_cast<uint32_t>(f.n_features)) return Bad("float64 feature count mismatch");
  // Each feature takes at least 5 bytes: bounds the allocation below.
  if (n > b.size() / 5) return Bad("float64 features section is truncated");
  f.float64_features.resize(n);
  for (Float64Feature& m : f.float64_features) {
    uint8_t kind = 0;
    uint32_t count = 0;
    FB_RETURN_IF_ERROR(c.Get(&kind));
    FB_RETURN_IF_ERROR(c.Get(&count));
    if (kind > 3 && kind != 6) return Bad("float64 feature kind is neither numeric nor categorical");
    m.categorical = (kind & 1) != 0;
    m.lightgbm = (kind & 2) != 0;
    m.zero_is_missing = (kind & 4) != 0;
    if (count > b.size() / 4) return Bad("float64 features section is truncated");
    if (m.categorical) {
      m.known.resize(count);
      for (int32_t& v : m.known) FB_RETURN_IF_ERROR(c.Get(&v));
    } else {
      m.cuts.resize(count);
      for (double& v : m.cuts) FB_RETURN_IF_ERROR(c.Get(&v));
      // Derived (BuildForest checks the cuts' order first; on unsorted cuts
      // this count is wrong, and the forest is refused either way).
      if (m.lightgbm) m.below_zero = CutsBelowZero(m.cuts);
    }
  }
  d->float64_section = true;
  return c.ExpectEnd();
}

// The sections in file order. A section without `present` is required:
// always written, and a file without it is refused. Optional sections are
// written only when `present` says so; readers that predate one skip it.
// Decoding runs in this order too (meta first: the others need its shape).
// Adding a section: an id in SectionId, an encode/decode pair, a row here,
// and its layout in docs/formats/fbm.md.
struct SectionCodec {
  SectionId id;
  bool (*present)(const Forest&);  // nullptr: required
  void (*encode)(const Forest&, std::string*);
  Status (*decode)(std::string_view, Decoding*);
};
constexpr SectionCodec kSections[] = {
    {kMeta, nullptr, EncodeMeta, DecodeMeta},
    {kInfo, nullptr, EncodeInfo, DecodeInfo},
    {kFeatureNames, nullptr, EncodeFeatureNames, DecodeFeatureNames},
    {kClassLabels, nullptr, EncodeClassLabels, DecodeClassLabels},
    {kBaseMargin, nullptr, EncodeBaseMargin, DecodeBaseMargin},
    {kTrees, nullptr, EncodeTrees, DecodeTrees},
    {kNodes, nullptr, EncodeNodes, DecodeNodes},
    {kValues, nullptr, EncodeValues, DecodeValues},
    {kCategories, nullptr, EncodeCategories, DecodeCategories},
    {kEncoding, HasEncoding, EncodeEncoding, DecodeEncoding},
    {kTraining, HasTraining, EncodeTraining, DecodeTraining},
    {kLinkParams, HasLinkParams, EncodeLinkParams, DecodeLinkParams},
    {kFloat64Features, HasFloat64Features, EncodeFloat64Features, DecodeFloat64Features},
};
static_assert(std::size(kSections) == kLastSection, "one codec per section id, in id order");

}  // namespace

Result<std::string> SerializeNativeModel(const Forest& forest,
                                         const std::vector<std::pair<uint32_t, std::string>>& layout) {
  // Undecoded trees (Forest::undecoded) are decoded into a copy first.
  Forest decoded;
  if (!forest.trees_decoded()) {
    FB_ASSIGN_OR_RETURN(decoded, DecodeTrees(forest));
  }
  const Forest& f = forest.trees_decoded() ? forest : decoded;
  for (const auto& [id, bytes] : layout)
    if (id < kFirstLayoutSection || id > kLastLayoutSection)
      return Internal(fmt::format("native model: section id {} is not a layout section", id));
  // The native format has no place for scikit-learn preprocessing: refuse
  // rather than write a model that would read its input differently.
  if (f.preprocessing)
    return Unsupported(
        "a model with preprocessing steps (a scikit-learn Pipeline) cannot be written in the "
        "native format; use the pickle itself");
  size_t total_nodes = 0;
  for (const Tree& t : f.trees) total_nodes += t.nodes.size();
  if (f.trees.size() > std::numeric_limits<uint32_t>::max() ||
      f.categories.size() > std::numeric_limits<uint32_t>::max())
    return Unsupported("model too large for the native format");

  // Sections are written straight into the output (a large model is not
  // held twice): the header, the section table, then each section 8-byte
  // aligned, its table entry filled when it ends.
  uint32_t n_sections = static_cast<uint32_t>(layout.size());
  for (const SectionCodec& c : kSections) n_sections += !c.present || c.present(f);
  std::string out(kNativeMagic);
  PutLe<uint32_t>(&out, 0);  // CRC, filled last
  PutLe<uint16_t>(&out, kNativeMajorVersion);
  PutLe<uint16_t>(&out, kNativeMinorVersion);
  PutLe<uint64_t>(&out, 0);  // file size, filled last
  PutLe<uint32_t>(&out, n_sections);
  PutLe<uint32_t>(&out, 0);
  const size_t table = out.size();
  out.append(n_sections * kSectionEntrySize, '\0');
  out.reserve(out.size() + 8 * n_sections + 4096 + f.trees.size() * kTreeRecordSize +
              total_nodes * (kNodeRecordSize + f.leaf_width * sizeof(double)) + f.categories.size() * 4 +
              f.feature_names.size() * 32 + f.class_labels.size() * 16);
  uint32_t index = 0;
  for (const SectionCodec& c : kSections) {
    if (c.present && !c.present(f)) continue;
    out.append((8 - out.size() % 8) % 8, '\0');  // 8-byte aligned sections
    const size_t e = table + index * kSectionEntrySize;
    const size_t begin = out.size();
    PutAt<uint32_t>(&out, e, c.id);
    PutAt<uint32_t>(&out, e + 4, 0);
    PutAt<uint64_t>(&out, e + 8, begin);
    c.encode(f, &out);
    PutAt<uint64_t>(&out, e + 16, out.size() - begin);
    ++index;
  }
  // The compiled layout's sections, as infer/ encoded them; each on a 64-byte
  // boundary (a cache line of the mapping the kernels read them from).
  for (const auto& [id, bytes] : layout) {
    out.append((64 - out.size() % 64) % 64, '\0');
    const size_t e = table + index * kSectionEntrySize;
    PutAt<uint32_t>(&out, e, id);
    PutAt<uint32_t>(&out, e + 4, 0);
    PutAt<uint64_t>(&out, e + 8, out.size());
    PutAt<uint64_t>(&out, e + 16, bytes.size());
    out.append(bytes);
    ++index;
  }
  PutAt<uint64_t>(&out, 16, out.size());
  // Since 1.6: each section's CRC in its table entry, and one of the header
  // and the table (TableCrc); then the whole file's.
  for (uint32_t i = 0; i < n_sections; ++i) {
    const size_t e = table + i * kSectionEntrySize;
    uint64_t off, size;
    std::memcpy(&off, out.data() + e + 8, 8);
    std::memcpy(&size, out.data() + e + 16, 8);
    PutAt<uint32_t>(&out, e + 4, Crc32(std::string_view(out).substr(off, size)));
  }
  PutAt<uint32_t>(&out, kTableCrcAt, TableCrc(out, n_sections));
  PutAt<uint32_t>(&out, 8, Crc32(std::string_view(out).substr(kCrcFrom)));
  return out;
}

Result<Forest> LoadNativeModel(std::string_view b, std::shared_ptr<const void> keep, std::string name,
                               bool trees_on_demand) {
  if (b.size() < kHeaderSize || b.substr(0, kNativeMagic.size()) != kNativeMagic)
    return Bad("bad magic or too short");
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
    return Bad(
        fmt::format("file is {} bytes but its header says {} (truncated or padded)", b.size(), file_size));
  }
  // Trees on demand from a 1.6 file whose header and table hold: each
  // section's own CRC is checked when it is read (the node and value
  // sections' only if they are decoded), not the whole file's.
  uint32_t table_crc = 0;
  std::memcpy(&table_crc, b.data() + kTableCrcAt, 4);
  const bool by_section =
      trees_on_demand && keep && minor >= kFirstMinorWithSectionCrcs && n_sections <= kMaxSections &&
      (b.size() - kHeaderSize) / kSectionEntrySize >= n_sections && TableCrc(b, n_sections) == table_crc;
  if (!by_section && Crc32(b.substr(kCrcFrom)) != crc) return Bad("checksum mismatch (the file is corrupt)");
  if (n_sections > kMaxSections || (b.size() - kHeaderSize) / kSectionEntrySize < n_sections)
    return Bad("bad section count");

  // Known sections; unknown ids (added by later minor versions) are skipped.
  std::string_view sec[kLastSection + 1];
  bool have[kLastSection + 1] = {};
  uint32_t sec_crc[kLastSection + 1] = {};
  // Since 1.5: the compiled layout's sections, kept unread for infer/.
  std::vector<StoredLayout::Section> layout;
  const size_t body_start = kHeaderSize + static_cast<size_t>(n_sections) * kSectionEntrySize;
  for (uint32_t i = 0; i < n_sections; ++i) {
    const char* e = b.data() + kHeaderSize + i * kSectionEntrySize;
    uint32_t id;
    uint64_t off, size;
    std::memcpy(&id, e, 4);
    uint32_t section_crc;
    std::memcpy(&section_crc, e + 4, 4);
    std::memcpy(&off, e + 8, 8);
    std::memcpy(&size, e + 16, 8);
    if (off < body_start || off > b.size() || size > b.size() - off)
      return Bad(fmt::format("section {} lies outside the file", id));
    if (id >= kMeta && id <= kLastSection) {
      if (have[id]) return Bad(fmt::format("section {} appears twice", id));
      have[id] = true;
      sec[id] = b.substr(off, size);
      sec_crc[id] = section_crc;
    } else if (id >= kFirstLayoutSection && id <= kLastLayoutSection) {
      for (const StoredLayout::Section& l : layout)
        if (l.id == id) return Bad(fmt::format("section {} appears twice", id));
      layout.push_back({id, b.substr(off, size)});
      if (by_section && Crc32(b.substr(off, size)) != section_crc)
        return Bad(fmt::format("section {}: checksum mismatch (the file is corrupt)", id));
    }
  }
  if (by_section) {
    if (layout.empty()) {
      // Nothing to predict from but the trees: they are decoded now.
      if (Crc32(b.substr(kCrcFrom)) != crc) return Bad("checksum mismatch (the file is corrupt)");
    } else {
      for (uint32_t id = kMeta; id <= kLastSection; ++id)
        if (have[id] && id != kNodes && id != kValues && Crc32(sec[id]) != sec_crc[id])
          return Bad(fmt::format("section {}: checksum mismatch (the file is corrupt)", id));
    }
  }
  Decoding d;
  for (const SectionCodec& c : kSections) {
    if (!have[c.id]) {
      if (!c.present) return Bad(fmt::format("section {} is missing", static_cast<uint32_t>(c.id)));
      continue;
    }
    FB_RETURN_IF_ERROR(c.decode(sec[c.id], &d));
  }
  TreeSections trees{d.n_trees, d.trees, d.nodes, d.values, d.float64_section};
  if (by_section && !layout.empty()) {
    trees.check_crcs = true;
    trees.nodes_crc = sec_crc[kNodes];
    trees.values_crc = sec_crc[kValues];
  }
  // Trees on demand: only a mapped file (`keep`) with a stored layout, which
  // the predictor reads instead of the nodes.
  if (trees_on_demand && keep && !layout.empty()) {
    auto undecoded = std::make_shared<UndecodedTrees>();
    FB_RETURN_IF_ERROR(DecodeTreeSections(trees, &d.f, &undecoded->node_counts));
    undecoded->decoder = std::make_shared<NativeTreeDecoder>(trees, keep);
    undecoded->origin = name;
    d.f.undecoded = std::move(undecoded);
  } else {
    FB_RETURN_IF_ERROR(DecodeTreeSections(trees, &d.f, nullptr));
  }
  FB_ASSIGN_OR_RETURN(Forest f, BuildForest(std::move(d.f)));
  if (!layout.empty()) {
    auto stored = std::make_shared<StoredLayout>();
    stored->origin = std::move(name);
    if (keep) {
      stored->owner = std::move(keep);
    } else {
      // The bytes go away after the call: the layout sections are copied,
      // each 8-byte aligned, into one buffer the Forest keeps.
      size_t words = 0;
      for (const StoredLayout::Section& l : layout) words += (l.bytes.size() + 7) / 8;
      auto copy = std::make_shared<std::vector<uint64_t>>(words);
      char* at = reinterpret_cast<char*>(copy->data());
      for (StoredLayout::Section& l : layout) {
        if (!l.bytes.empty()) std::memcpy(at, l.bytes.data(), l.bytes.size());
        l.bytes = std::string_view(at, l.bytes.size());
        at += (l.bytes.size() + 7) / 8 * 8;
      }
      stored->owner = std::move(copy);
    }
    stored->sections = std::move(layout);
    f.stored_layout = std::move(stored);
  }
  return f;
}

}  // namespace fb
