#include "model/import/sklearn_hist_gradient_boosting.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "model/forest_builder.h"
#include "model/import/pickle_numpy.h"
#include "model/import/sklearn_preprocessing.h"

namespace fb::sklearn {
namespace {

// One loss class, what its link is and whether it classifies.
struct LossSpec {
  std::string_view name;      // class name
  std::string_view cy_class;  // the Cython closs class (1.1+), empty before
  std::string_view link_class;
  size_t n_state;  // numbers in the closs state: quantile for PinballLoss
  Link link;
  int classes;  // 0 regressor, 2 binary, 3 multiclass
};

// sklearn._loss.loss (1.1 and later): the losses HistGradientBoosting* fit.
constexpr std::array kLosses = {
    LossSpec{"HalfSquaredError", "CyHalfSquaredError", "IdentityLink", 0, Link::kIdentity, 0},
    LossSpec{"AbsoluteError", "CyAbsoluteError", "IdentityLink", 0, Link::kIdentity, 0},
    LossSpec{"PinballLoss", "CyPinballLoss", "IdentityLink", 1, Link::kIdentity, 0},
    LossSpec{"HalfPoissonLoss", "CyHalfPoissonLoss", "LogLink", 0, Link::kExp, 0},
    LossSpec{"HalfGammaLoss", "CyHalfGammaLoss", "LogLink", 0, Link::kExp, 0},
    LossSpec{"HalfBinomialLoss", "CyHalfBinomialLoss", "LogitLink", 0, Link::kSigmoid, 2},
    LossSpec{"HalfMultinomialLoss", "CyHalfMultinomialLoss", "MultinomialLogit", 0, Link::kSoftmaxNumpy, 3},
};
constexpr std::string_view kLossModule = "sklearn._loss.loss.";
constexpr std::string_view kCyModule = "sklearn._loss._loss.";
constexpr std::string_view kLinkModule = "sklearn._loss.link.";

// sklearn.ensemble._hist_gradient_boosting.loss (0.22 to 1.0).
constexpr std::array kOldLosses = {
    LossSpec{"LeastSquares", "", "", 0, Link::kIdentity, 0},
    LossSpec{"LeastAbsoluteDeviation", "", "", 0, Link::kIdentity, 0},
    LossSpec{"Poisson", "", "", 0, Link::kExp, 0},
    LossSpec{"BinaryCrossEntropy", "", "", 0, Link::kSigmoid, 2},
    LossSpec{"CategoricalCrossEntropy", "", "", 0, Link::kSoftmaxLse, 3},
};
constexpr std::string_view kOldLossModule = "sklearn.ensemble._hist_gradient_boosting.loss.";

struct LossInfo {
  const LossSpec* spec = nullptr;
  std::string description;  // for `model inspect`
};

const char* LinkText(Link link) {
  switch (link) {
    case Link::kIdentity: return "identity";
    case Link::kExp: return "exp";
    case Link::kSigmoid: return "expit";
    case Link::kSoftmaxNumpy: return "softmax";
    case Link::kSoftmaxLse: return "exp(raw - logsumexp(raw))";
    default: return "?";
  }
}

// The closs of a 1.1+ loss: REDUCE(__pyx_unpickle_<cy>, (<cy class>, checksum, state)),
// recorded as data by the pickle machine. Anything else is a broken or
// hostile file.
Status CheckCyLoss(const Reader& r, ValueId closs, const LossSpec& spec, std::vector<double>* state) {
  const std::string want_fn = fmt::format("{}__pyx_unpickle_{}", kCyModule, spec.cy_class);
  const std::string want_cls = fmt::format("{}{}", kCyModule, spec.cy_class);
  const std::string got = r.FullClassName(closs);
  if (got != want_fn)
    return InvalidData(
        fmt::format("{}.closs is {}, not {}", spec.name, got.empty() ? "not an object" : got, want_fn));
  const Value& o = r.V(closs);
  if (o.state != kNoValue) return InvalidData(fmt::format("{}.closs has a BUILD state", spec.name));
  if (o.args == kNoValue || r.V(o.args).kind != Kind::kTuple || r.V(o.args).items.size() != 3)
    return InvalidData(fmt::format("{}.closs: {} takes (class, checksum, state)", spec.name, want_fn));
  const auto& a = r.V(o.args).items;
  if (r.V(a[0]).kind != Kind::kGlobal || r.V(a[0]).text != want_cls)
    return InvalidData(fmt::format("{}.closs: {} is given {}, not the class {}", spec.name, want_fn,
                                   r.V(a[0]).kind == Kind::kGlobal ? r.V(a[0]).text : "a non-class",
                                   want_cls));
  if (r.V(a[1]).kind != Kind::kInt)
    return InvalidData(fmt::format("{}.closs: checksum is not an int", spec.name));
  const Value& st = r.V(a[2]);
  if (st.kind != Kind::kTuple || st.items.size() != spec.n_state)
    return InvalidData(
        fmt::format("{}.closs: the state is not a tuple of {} number(s)", spec.name, spec.n_state));
  for (ValueId v : st.items) {
    FB_ASSIGN_OR_RETURN(double d, r.Number(v, fmt::format("{}.closs state", spec.name)));
    state->push_back(d);
  }
  return Status::Ok();
}

Result<LossInfo> ReadLoss(const Reader& r, ValueId est, const std::string& cls) {
  LossInfo info;
  if (ValueId loss = r.Attr(est, "_loss"); loss != kNoValue) {
    const std::string full = r.FullClassName(loss);
    if (full.rfind(kLossModule, 0) != 0)
      return Unsupported(fmt::format("{}._loss is {}: only scikit-learn's own losses are supported", cls,
                                     full.empty() ? r.ClassName(loss) : full));
    const std::string name = full.substr(kLossModule.size());
    for (const LossSpec& s : kLosses)
      if (s.name == name) info.spec = &s;
    if (!info.spec)
      return Unsupported(
          fmt::format("{} with loss {} is not supported (supported: HalfSquaredError, "
                      "AbsoluteError, PinballLoss, HalfPoissonLoss, HalfGammaLoss, "
                      "HalfBinomialLoss, HalfMultinomialLoss)",
                      cls, full));
    FB_ASSIGN_OR_RETURN(ValueId closs, r.Need(loss, "closs"));
    std::vector<double> state;
    FB_RETURN_IF_ERROR(CheckCyLoss(r, closs, *info.spec, &state));
    FB_ASSIGN_OR_RETURN(ValueId link, r.Need(loss, "link"));
    const std::string want_link = fmt::format("{}{}", kLinkModule, info.spec->link_class);
    if (r.FullClassName(link) != want_link)
      return InvalidData(fmt::format("{}.link is {}, not {}", name, r.ClassName(link), want_link));
    info.description = name;
    if (!state.empty()) {
      if (!(state[0] > 0.0 && state[0] < 1.0))
        return InvalidData(fmt::format("PinballLoss quantile {} is not in (0, 1)", state[0]));
      info.description += fmt::format("(quantile={})", state[0]);
    }
    return info;
  }
  ValueId loss = r.Attr(est, "loss_");
  if (loss == kNoValue) return InvalidData(cls + " has no _loss or loss_ (not fitted?)");
  const std::string full = r.FullClassName(loss);
  if (full.rfind(kOldLossModule, 0) != 0)
    return Unsupported(fmt::format("{}.loss_ is {}: only scikit-learn's own losses are supported", cls,
                                   full.empty() ? r.ClassName(loss) : full));
  const std::string name = full.substr(kOldLossModule.size());
  for (const LossSpec& s : kOldLosses)
    if (s.name == name) info.spec = &s;
  if (!info.spec)
    return Unsupported(
        fmt::format("{} with loss {} is not supported (supported before 1.1: LeastSquares, "
                    "LeastAbsoluteDeviation, Poisson, BinaryCrossEntropy, "
                    "CategoricalCrossEntropy)",
                    cls, full));
  info.description = name;
  return info;
}

// Field readers of one PREDICTOR_RECORD_DTYPE array, found by name in its
// pickled dtype (the layout changed across versions: `threshold` became
// `num_threshold` and is_categorical / bitset_idx came in 0.24,
// missing_go_to_left in 0.22, feature_idx became intp in 1.4).
struct NodeFields {
  const pickle::DtypeField* value = nullptr;
  const pickle::DtypeField* feature = nullptr;
  const pickle::DtypeField* threshold = nullptr;
  const pickle::DtypeField* missing_left = nullptr;
  const pickle::DtypeField* left = nullptr;
  const pickle::DtypeField* right = nullptr;
  const pickle::DtypeField* is_leaf = nullptr;
  const pickle::DtypeField* is_categorical = nullptr;
  const pickle::DtypeField* bitset_idx = nullptr;
};

// A node as recorded, before thresholds become cut indices.
struct RawNode {
  bool leaf = false;
  bool categorical = false;
  bool missing_left = true;
  int32_t left = 0, right = 0, feature = 0;
  double threshold = 0, value = 0;
  uint32_t bitset = 0;
};

struct RawTree {
  std::vector<RawNode> nodes;
  std::vector<std::array<uint32_t, 8>> left_bitsets;  // raw_left_cat_bitsets rows
};

Status ReadPredictor(const Reader& r, ValueId pred, int32_t n_features, bool* has_missing, RawTree* out) {
  if (r.ClassName(pred) != "TreePredictor")
    return InvalidData(fmt::format("holds {}, not a TreePredictor", r.ClassName(pred)));
  FB_ASSIGN_OR_RETURN(ValueId nodes_v, r.Need(pred, "nodes"));
  FB_ASSIGN_OR_RETURN(auto nodes, r.Array(nodes_v, "TreePredictor.nodes"));
  if (nodes.a->shape.size() != 1 || nodes.dt->fields.empty())
    return InvalidData("TreePredictor.nodes is not a one-dimensional record array");
  if (nodes.count == 0 || nodes.count > (uint64_t{1} << 30))
    return InvalidData("TreePredictor.nodes is empty");
  NodeFields nf;
  for (const auto& field : nodes.dt->fields) {
    if (field.name == "value") nf.value = &field;
    if (field.name == "feature_idx") nf.feature = &field;
    if (field.name == "num_threshold" || (field.name == "threshold" && !nf.threshold)) nf.threshold = &field;
    if (field.name == "missing_go_to_left") nf.missing_left = &field;
    if (field.name == "left") nf.left = &field;
    if (field.name == "right") nf.right = &field;
    if (field.name == "is_leaf") nf.is_leaf = &field;
    if (field.name == "is_categorical") nf.is_categorical = &field;
    if (field.name == "bitset_idx") nf.bitset_idx = &field;
  }
  if (!nf.value || !nf.feature || !nf.threshold || !nf.left || !nf.right || !nf.is_leaf)
    return InvalidData("TreePredictor.nodes records lack value/feature_idx/num_threshold/left/right/is_leaf");
  // Structural fields are integers, values and thresholds floats: a file
  // that says otherwise is not scikit-learn's.
  for (const pickle::DtypeField* fld :
       {nf.feature, nf.left, nf.right, nf.is_leaf, nf.missing_left, nf.is_categorical, nf.bitset_idx}) {
    if (fld && std::string_view("iub").find(r.V(fld->dtype).dtype_kind) == std::string_view::npos)
      return InvalidData(fmt::format("TreePredictor.nodes field '{}' is not an integer", fld->name));
  }
  for (const pickle::DtypeField* fld : {nf.value, nf.threshold}) {
    if (r.V(fld->dtype).dtype_kind != 'f')
      return InvalidData(fmt::format("TreePredictor.nodes field '{}' is not a float", fld->name));
  }
  if (nf.is_categorical && !nf.bitset_idx)
    return InvalidData("TreePredictor.nodes has is_categorical but no bitset_idx");
  *has_missing = nf.missing_left != nullptr;
  if (nf.is_categorical) {
    ValueId bits_v = r.Attr(pred, "raw_left_cat_bitsets");
    if (bits_v != kNoValue && r.V(bits_v).kind != Kind::kNone) {
      FB_ASSIGN_OR_RETURN(std::vector<int64_t> bits, Ints(r, bits_v, "TreePredictor.raw_left_cat_bitsets"));
      const auto& shape = r.V(bits_v).shape;
      if (shape.size() != 2 || shape[1] != 8)
        return InvalidData("TreePredictor.raw_left_cat_bitsets is not an (n, 8) array");
      out->left_bitsets.resize(static_cast<size_t>(shape[0]));
      for (size_t i = 0; i < out->left_bitsets.size(); ++i)
        for (size_t w = 0; w < 8; ++w) {
          const int64_t word = bits[i * 8 + w];
          if (word < 0 || word > 0xFFFFFFFFLL)
            return InvalidData("raw_left_cat_bitsets holds a non-uint32 word");
          out->left_bitsets[i][w] = static_cast<uint32_t>(word);
        }
    }
  }
  const size_t n = static_cast<size_t>(nodes.count);
  const auto itemsize = static_cast<uint64_t>(nodes.dt->i);
  auto field = [&](const pickle::DtypeField* f, size_t i, double* d, int64_t* iv) {
    const char* rec = nodes.a->bytes().data() + i * itemsize + static_cast<uint64_t>(f->offset);
    return ReadNumber(rec, r.V(f->dtype), d, iv);
  };
  out->nodes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    RawNode& node = out->nodes[i];
    double d = 0;
    int64_t leaf = 0, left = 0, right = 0, feature = 0, mgl = 1, cat = 0, bitset = 0, ignored = 0;
    if (!field(nf.is_leaf, i, &d, &leaf) || !field(nf.value, i, &node.value, &ignored))
      return InvalidData("TreePredictor.nodes has fields of unsupported types");
    node.leaf = leaf != 0;
    if (node.leaf) continue;
    if (!field(nf.left, i, &d, &left) || !field(nf.right, i, &d, &right) ||
        !field(nf.feature, i, &d, &feature) || !field(nf.threshold, i, &node.threshold, &ignored) ||
        (nf.missing_left && !field(nf.missing_left, i, &d, &mgl)) ||
        (nf.is_categorical &&
         (!field(nf.is_categorical, i, &d, &cat) || !field(nf.bitset_idx, i, &d, &bitset))))
      return InvalidData("TreePredictor.nodes has fields of unsupported types");
    if (left < 0 || right < 0 || left >= static_cast<int64_t>(n) || right >= static_cast<int64_t>(n) ||
        feature < 0 || feature >= n_features)
      return InvalidData(fmt::format("node {}: children or feature out of range", i));
    node.left = static_cast<int32_t>(left);
    node.right = static_cast<int32_t>(right);
    node.feature = static_cast<int32_t>(feature);
    node.missing_left = mgl != 0;
    node.categorical = cat != 0;
    if (node.categorical) {
      if (bitset < 0 || static_cast<uint64_t>(bitset) >= out->left_bitsets.size())
        return InvalidData(fmt::format("node {}: bitset_idx {} out of range", i, bitset));
      node.bitset = static_cast<uint32_t>(bitset);
    } else if (std::isnan(node.threshold)) {
      return InvalidData(fmt::format("node {}: threshold is NaN", i));
    }
  }
  return Status::Ok();
}

// Known categories of feature `f` as make_known_categories_bitsets sets them:
// each of _bin_mapper.bin_thresholds_[f], cast to uint8 (values outside
// [0, 256) would make scikit-learn raise).
Result<std::vector<int32_t>> KnownCategories(const Reader& r, ValueId bin_mapper, int32_t f) {
  FB_ASSIGN_OR_RETURN(ValueId is_cat_v, r.Need(bin_mapper, "is_categorical_"));
  FB_ASSIGN_OR_RETURN(std::vector<double> is_cat, Doubles(r, is_cat_v, "_BinMapper.is_categorical_"));
  if (static_cast<size_t>(f) >= is_cat.size() || is_cat[static_cast<size_t>(f)] == 0.0)
    return InvalidData(
        fmt::format("a categorical split on feature {}, which the _BinMapper does not mark categorical", f));
  FB_ASSIGN_OR_RETURN(ValueId th_v, r.Need(bin_mapper, "bin_thresholds_"));
  if (r.V(th_v).kind != Kind::kList || r.V(th_v).items.size() != is_cat.size())
    return InvalidData("_BinMapper.bin_thresholds_ is not a list with one entry per feature");
  FB_ASSIGN_OR_RETURN(std::vector<double> cats,
                      Doubles(r, r.V(th_v).items[static_cast<size_t>(f)], "_BinMapper.bin_thresholds_"));
  std::vector<int32_t> known;
  for (double c : cats) {
    if (!(c >= 0.0 && c < 256.0))
      return InvalidData(fmt::format("feature {}: known category {} is not in [0, 256)", f, c));
    known.push_back(static_cast<int32_t>(c));
  }
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  return known;
}

// Per output of a compiled _preprocessor: the input column it is computed
// from (its name, else its 0-based position), through ordinal encoders.
std::vector<std::string> OutputSources(const Preprocessing& p) {
  std::vector<std::string> slot_name(static_cast<size_t>(p.n_slots()));
  for (const PrepInput& in : p.inputs)
    slot_name[static_cast<size_t>(in.slot)] = p.by_name ? in.name : std::to_string(in.position);
  for (const PrepOp& op : p.ops)
    for (int32_t k = 0; k < op.width; ++k)
      slot_name[static_cast<size_t>(op.dst + k)] = slot_name[static_cast<size_t>(op.src)];
  std::vector<std::string> out;
  for (int32_t s : p.outputs) out.push_back(slot_name[static_cast<size_t>(s)]);
  return out;
}

}  // namespace

bool IsHistGradientBoosting(const std::string& cls) {
  return cls == "HistGradientBoostingClassifier" || cls == "HistGradientBoostingRegressor";
}

Result<Forest> FromHistGradientBoosting(const Reader& r, ValueId est, uint64_t input_size) {
  const std::string cls = r.ClassName(est);
  Forest f;
  f.kind = cls == "HistGradientBoostingClassifier" ? ModelKind::kClassifier : ModelKind::kRegressor;
  f.info.estimator = cls;
  FB_RETURN_IF_ERROR(ReadFeatures(r, est, &f));
  const ValueId pre = HistGradientBoostingPreprocessor(r, est);
  if (pre != kNoValue && r.ClassName(pre) != "ColumnTransformer")
    return Unsupported(fmt::format(
        "{}._preprocessor is {}: only the ColumnTransformer scikit-learn makes for categorical features "
        "is supported",
        cls, r.FullClassName(pre).empty() ? r.ClassName(pre) : r.FullClassName(pre)));
  FB_ASSIGN_OR_RETURN(LossInfo loss, ReadLoss(r, est, cls));
  const bool classifier = f.kind == ModelKind::kClassifier;
  if (classifier != (loss.spec->classes != 0))
    return InvalidData(fmt::format("{} holds the loss {}", cls, loss.description));
  int32_t k_outputs = 1;
  if (classifier) {
    FB_ASSIGN_OR_RETURN(ValueId classes, r.Need(est, "classes_"));
    FB_RETURN_IF_ERROR(Labels(r, classes, &f));
    const int32_t n_classes = f.n_classes();
    if (n_classes < 2) return InvalidData(cls + " has fewer than two classes");
    if ((n_classes == 2) != (loss.spec->classes == 2))
      return InvalidData(fmt::format("{} has {} classes but the loss {}", cls, n_classes, loss.description));
    k_outputs = n_classes == 2 ? 1 : n_classes;
  }
  FB_ASSIGN_OR_RETURN(ValueId tpi_v, r.Need(est, "n_trees_per_iteration_"));
  FB_ASSIGN_OR_RETURN(int64_t tpi, pickle::AsInt(r.g_, tpi_v, cls + ".n_trees_per_iteration_"));
  if (tpi != k_outputs)
    return InvalidData(fmt::format("{}.n_trees_per_iteration_ is {}, expected {}", cls, tpi, k_outputs));

  // raw = zeros + _baseline_prediction: a number before 1.1 for one output,
  // else an array of k_outputs values ((1, K) or (K, 1)).
  FB_ASSIGN_OR_RETURN(ValueId base_v, r.Need(est, "_baseline_prediction"));
  std::vector<double> base;
  if (r.V(base_v).kind == Kind::kFloat || r.V(base_v).kind == Kind::kInt) {
    FB_ASSIGN_OR_RETURN(double b, r.Number(base_v, cls + "._baseline_prediction"));
    base.push_back(b);
  } else {
    FB_ASSIGN_OR_RETURN(base, Doubles(r, base_v, cls + "._baseline_prediction"));
  }
  if (base.size() != static_cast<size_t>(k_outputs))
    return InvalidData(
        fmt::format("{}._baseline_prediction has {} values for {} outputs", cls, base.size(), k_outputs));
  for (double& b : base) {
    if (!std::isfinite(b)) return InvalidData(cls + "._baseline_prediction is not finite");
    b = 0.0 + b;  // np.zeros(...) += baseline: -0.0 becomes 0.0
  }

  // _predictors: one list of k_outputs TreePredictors per iteration.
  FB_ASSIGN_OR_RETURN(ValueId preds_v, r.Need(est, "_predictors"));
  if (r.V(preds_v).kind != Kind::kList || r.V(preds_v).items.empty())
    return InvalidData(cls + "._predictors is not a non-empty list");
  std::vector<ValueId> pred_objs;
  uint64_t bytes = 0;
  for (ValueId it : r.V(preds_v).items) {
    if (r.V(it).kind != Kind::kList || r.V(it).items.size() != static_cast<size_t>(k_outputs))
      return InvalidData(
          fmt::format("{}._predictors holds an iteration that is not a list of {} trees", cls, k_outputs));
    for (ValueId p : r.V(it).items) {
      pred_objs.push_back(p);
      for (const char* name : {"nodes", "raw_left_cat_bitsets"}) {
        ValueId a = r.Attr(p, name);
        if (a != kNoValue) bytes += r.V(a).bytes().size();
      }
    }
  }
  if (bytes > input_size)
    return InvalidData(fmt::format("{} trees hold {} bytes of arrays in a {}-byte file: trees are shared",
                                   pred_objs.size(), bytes, input_size));

  std::vector<RawTree> raw(pred_objs.size());
  bool all_missing = true;
  for (size_t t = 0; t < pred_objs.size(); ++t) {
    bool has_missing = false;
    Status st = ReadPredictor(r, pred_objs[t], f.n_features, &has_missing, &raw[t]);
    if (!st.ok())
      return std::move(st).Prefix(fmt::format("{}._predictors[{}][{}]", cls, t / k_outputs, t % k_outputs));
    all_missing = all_missing && has_missing;
  }

  // Per feature: numeric cuts, or (when a categorical node splits on it) the
  // known categories.
  const auto nfeat = static_cast<size_t>(f.n_features);
  f.float64_features.assign(nfeat, Float64Feature{});
  std::vector<uint8_t> numeric_used(nfeat, 0);
  ValueId bin_mapper = kNoValue;
  std::vector<std::string> categorical_names;
  for (const RawTree& t : raw) {
    for (const RawNode& nd : t.nodes) {
      if (nd.leaf) continue;
      Float64Feature& m = f.float64_features[static_cast<size_t>(nd.feature)];
      if (!nd.categorical) {
        m.cuts.push_back(nd.threshold);
        numeric_used[static_cast<size_t>(nd.feature)] = 1;
        continue;
      }
      if (m.categorical) continue;
      if (bin_mapper == kNoValue) {
        FB_ASSIGN_OR_RETURN(bin_mapper, r.Need(est, "_bin_mapper"));
      }
      FB_ASSIGN_OR_RETURN(m.known, KnownCategories(r, bin_mapper, nd.feature));
      m.categorical = true;
    }
  }
  std::shared_ptr<const Preprocessing> prep;
  std::vector<std::string> source;  // per tree feature: the input column it comes from
  if (pre != kNoValue) {
    Status st = [&]() -> Status {
      FB_ASSIGN_OR_RETURN(prep, CompilePreprocessing(r, {{"_preprocessor", pre}}, f.n_features));
      return Status::Ok();
    }();
    if (!st.ok()) return std::move(st).Prefix(cls + "._preprocessor");
    source = OutputSources(*prep);
  } else {
    for (size_t j = 0; j < nfeat; ++j)
      source.push_back(f.feature_names.empty() ? std::to_string(j) : f.feature_names[j]);
  }
  for (size_t j = 0; j < nfeat; ++j) {
    Float64Feature& m = f.float64_features[j];
    if (m.categorical) {
      if (numeric_used[j])
        return InvalidData(fmt::format("{}: feature {} has both numeric and categorical splits", cls, j));
      categorical_names.push_back(source[j]);
      continue;
    }
    std::sort(m.cuts.begin(), m.cuts.end());
    m.cuts.erase(std::unique(m.cuts.begin(), m.cuts.end()), m.cuts.end());
  }

  f.trees.resize(raw.size());
  for (size_t t = 0; t < raw.size(); ++t) {
    Tree& tree = f.trees[t];
    const RawTree& rt = raw[t];
    tree.output = static_cast<int32_t>(t % static_cast<size_t>(k_outputs));
    tree.nodes.resize(rt.nodes.size());
    tree.values.assign(rt.nodes.size(), 0.0);
    for (size_t i = 0; i < rt.nodes.size(); ++i) {
      const RawNode& rn = rt.nodes[i];
      Node& nd = tree.nodes[i];
      if (rn.leaf) {
        tree.values[i] = rn.value;
        continue;
      }
      nd.left = rn.left;
      nd.right = rn.right;
      nd.feature = rn.feature;
      nd.default_left = rn.missing_left;
      const Float64Feature& m = f.float64_features[static_cast<size_t>(rn.feature)];
      if (!rn.categorical) {
        const auto pos = std::lower_bound(m.cuts.begin(), m.cuts.end(), rn.threshold) - m.cuts.begin();
        nd.threshold = static_cast<float>(pos);
        continue;
      }
      // Left: the raw bitset (known categories only); right: every other
      // known category, which is the list a Forest categorical node holds.
      const std::array<uint32_t, 8>& bits = rt.left_bitsets[rn.bitset];
      auto in_left = [&](int32_t c) { return ((bits[static_cast<size_t>(c) / 32] >> (c % 32)) & 1U) != 0; };
      for (int32_t c = 0; c < 256; ++c) {
        if (in_left(c) && !std::binary_search(m.known.begin(), m.known.end(), c))
          return InvalidData(
              fmt::format("{}._predictors[{}][{}] node {}: its left categories include {}, which "
                          "feature {} never had",
                          cls, t / k_outputs, t % k_outputs, i, c, rn.feature));
      }
      nd.categorical = true;
      nd.cat_begin = static_cast<uint32_t>(f.categories.size());
      for (int32_t c : m.known)
        if (!in_left(c)) f.categories.push_back(c);
      nd.cat_count = static_cast<uint32_t>(f.categories.size()) - nd.cat_begin;
    }
  }

  f.n_outputs = k_outputs;
  f.leaf_width = 1;
  f.aggregate = Aggregate::kSum;
  f.base_margin = base;
  f.trees_per_iteration = k_outputs;
  f.link = loss.spec->link;
  // 0.21 records have no missing_go_to_left and rejected NaN input.
  f.missing_values_supported = all_missing;
  std::string cats;
  for (const std::string& c : categorical_names) cats += (cats.empty() ? "" : ", ") + c;
  if (cats.empty()) cats = "none";
  f.info.objective =
      fmt::format("loss={}, link={}, categorical features: {}", loss.description, LinkText(f.link), cats);
  if (prep) {
    // The trees index the _preprocessor's outputs (categorical columns
    // first), not the input's columns: the program's inputs carry the names.
    f.preprocessing = std::move(prep);
    f.feature_names.clear();
  }
  return BuildForest(std::move(f));
}

ValueId HistGradientBoostingPreprocessor(const Reader& r, ValueId est) {
  ValueId pre = r.Attr(est, "_preprocessor");
  return pre != kNoValue && r.V(pre).kind != Kind::kNone ? pre : kNoValue;
}

}  // namespace fb::sklearn
