#include "forest_dump.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "model/forest_builder.h"

namespace fb::bench {
namespace {

class Reader {
 public:
  explicit Reader(std::string bytes) : b_(std::move(bytes)) {}
  template <typename T>
  bool Read(T* out, size_t n) {
    if (n > (b_.size() - pos_) / sizeof(T)) return false;
    std::memcpy(out, b_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }

 private:
  std::string b_;
  size_t pos_ = 0;
};

}  // namespace

Result<Forest> LoadForestDump(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  Reader r(std::string(std::istreambuf_iterator<char>(in), {}));
  int32_t head[6];
  if (!r.Read(head, 6) || head[0] != 0x46424431) return InvalidData(path + ": not a forest dump");
  Forest f;
  f.kind = head[1] == 0 ? ModelKind::kClassifier : ModelKind::kRegressor;
  f.n_features = head[2];
  f.n_outputs = head[3];
  f.leaf_width = head[4];
  if (f.kind == ModelKind::kClassifier) {
    int n_classes = f.n_outputs == 1 ? 2 : f.n_outputs;
    for (int c = 0; c < n_classes; ++c) f.class_labels.push_back(std::to_string(c));
    f.labels_are_integers = true;
  }
  f.info.source_format = "bench-dump";
  for (int32_t t = 0; t < head[5]; ++t) {
    int32_t n;
    if (!r.Read(&n, 1) || n <= 0) return InvalidData(path + ": truncated");
    std::vector<int32_t> left(n), right(n), feature(n);
    std::vector<double> threshold(n);
    Tree tree;
    tree.values.resize(static_cast<size_t>(n) * f.leaf_width);
    if (!r.Read(left.data(), n) || !r.Read(right.data(), n) || !r.Read(feature.data(), n) ||
        !r.Read(threshold.data(), n) || !r.Read(tree.values.data(), tree.values.size()))
      return InvalidData(path + ": truncated");
    tree.nodes.resize(n);
    for (int32_t i = 0; i < n; ++i) {
      Node& nd = tree.nodes[i];
      if (left[i] < 0) continue;  // leaf
      nd.left = left[i];
      nd.right = right[i];
      nd.feature = feature[i];
      nd.threshold = Float32AtOrBelow(threshold[i]);
      nd.default_left = false;
    }
    f.trees.push_back(std::move(tree));
  }
  return BuildForest(std::move(f));
}

}  // namespace fb::bench
