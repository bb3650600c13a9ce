// `forestbatch model inspect|convert`: what a model file holds, and turning
// any model into the native format.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/load_model.h"
#include "infer/compiled_io.h"
#include "model/forest_builder.h"
#include "model/import/model_loader.h"
#include "storage/storage.h"

namespace fb::cli {
namespace {

struct ForestSummary {
  size_t nodes = 0, leaves = 0, bytes = 0;
  int32_t depth_min = 0, depth_max = 0;
  double depth_mean = 0;
};

ForestSummary Summarize(const Forest& f) {
  ForestSummary s;
  s.depth_min = INT32_MAX;
  double depth_sum = 0;
  for (const Tree& t : f.trees) {
    TreeShape sh = ShapeOf(t);
    s.nodes += t.nodes.size();
    s.leaves += sh.n_leaves;
    s.depth_min = std::min(s.depth_min, sh.depth);
    s.depth_max = std::max(s.depth_max, sh.depth);
    depth_sum += sh.depth;
    s.bytes += t.nodes.size() * sizeof(Node) + t.values.size() * sizeof(double) + sizeof(Tree);
  }
  s.bytes += f.categories.size() * sizeof(int32_t);
  s.depth_mean = f.trees.empty() ? 0 : depth_sum / f.trees.size();
  return s;
}

std::string Joined(const std::vector<std::string>& v, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max_items; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > max_items) out += fmt::format(", ... ({} more)", v.size() - max_items);
  return out;
}

// Models from `forestbatch train`: raw input columns, hyperparameters and
// feature importances (mean decrease in impurity).
void AddTrainingJson(const Forest& f, nlohmann::json* j) {
  if (f.preprocessing) {
    const Preprocessing& p = *f.preprocessing;
    nlohmann::json cols = nlohmann::json::array();
    for (const PrepInput& c : p.inputs) {
      nlohmann::json col = {{"kind", c.text ? "text" : "number"}};
      if (p.by_name) {
        col["name"] = c.name;
      } else {
        col["position"] = c.position + 1;
      }
      cols.push_back(col);
    }
    (*j)["preprocessing"] = {{"input_columns", cols}, {"steps", p.steps}};
  }
  if (!f.encoding.empty()) {
    nlohmann::json cols = nlohmann::json::array();
    for (const InputColumn& c : f.encoding.columns)
      cols.push_back({{"name", c.name}, {"first_feature", c.first_feature}, {"categories", c.categories}});
    (*j)["input_columns"] = cols;
  }
  if (f.training.params.empty() && f.training.feature_importances.empty()) return;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : f.training.params) params[k] = v;
  (*j)["training"] = {{"params", params},
                      {"n_samples", f.training.n_samples},
                      {"feature_importances", f.training.feature_importances}};
}

void PrintTraining(const Forest& f) {
  if (f.preprocessing) {
    const Preprocessing& p = *f.preprocessing;
    std::vector<std::string> cols;
    for (const PrepInput& c : p.inputs)
      cols.push_back((p.by_name ? c.name : fmt::format("column {}", c.position + 1)) +
                     (c.text ? " (text)" : ""));
    fmt::print("input:        {} raw columns {}: {}\n", cols.size(), p.by_name ? "by name" : "by position",
               Joined(cols, 20));
    fmt::print("preprocessing: {} steps -> {} features\n", p.steps.size(), f.n_features);
    for (const std::string& s : p.steps) fmt::print("  {}\n", s);
  }
  if (!f.encoding.empty()) {
    std::vector<std::string> cols;
    for (const InputColumn& c : f.encoding.columns)
      cols.push_back(c.categorical() ? fmt::format("{} ({} categories)", c.name, c.categories.size())
                                     : c.name);
    fmt::print("input:        {} raw columns by name: {}\n", cols.size(), Joined(cols, 20));
  }
  if (!f.training.params.empty()) {
    std::vector<std::string> kv;
    for (const auto& [k, v] : f.training.params) kv.push_back(k + "=" + v);
    fmt::print("training:     {} rows; {}\n", f.training.n_samples, Joined(kv, 100));
  }
  const auto& imp = f.training.feature_importances;
  if (imp.empty()) return;
  std::vector<size_t> order(imp.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp[a] > imp[b]; });
  fmt::print("importances:  (mean decrease in impurity, top {})\n", std::min<size_t>(order.size(), 20));
  for (size_t i = 0; i < order.size() && i < 20; ++i) {
    size_t k = order[i];
    fmt::print("  {:>8.5f}  {}\n", imp[k],
               f.feature_names.empty() ? fmt::format("f{}", k) : f.feature_names[k]);
  }
}

// What a load does with the model's compiled layout (a .fbm 1.5 stores it:
// docs/formats/fbm.md).
std::string LayoutState(const Forest& f) {
  if (!f.stored_layout) return "none stored: compiled when loaded";
  auto stored = ReadStoredLayout(std::shared_ptr<const Forest>(&f, [](const Forest*) {}));
  if (!stored.ok()) return "stored, refused: " + stored.status().ToString();
  if (!stored->has_value()) return "stored by another build: compiled when loaded";
  return "stored, checked and read in place";
}

int Inspect(const std::string& path, bool json) {
  auto r = LoadModelAt(path);
  if (!r.ok()) return ReportError(r.status());
  const Forest& f = *r;
  ForestSummary s = Summarize(f);
  const std::string layout = LayoutState(f);
  if (json) {
    nlohmann::json j = {
        {"path", path},
        {"source_format", f.info.source_format},
        {"estimator", f.info.estimator},
        {"wrappers", f.info.wrappers},
        {"library_version", f.info.library_version},
        {"objective", f.info.objective},
        {"kind", ModelKindName(f.kind)},
        {"trees", f.trees.size()},
        {"nodes", s.nodes},
        {"leaves", s.leaves},
        {"depth", {{"min", s.depth_min}, {"mean", s.depth_mean}, {"max", s.depth_max}}},
        {"features", f.n_features},
        {"feature_names", f.feature_names},
        {"classes", f.class_labels},
        {"outputs", f.n_outputs},
        {"link", LinkName(f.link)},
        {"link_params", f.link_params},
        {"value_names", f.value_names},
        {"missing_values_supported", f.missing_values_supported},
        {"memory_bytes", s.bytes},
        {"compiled_layout", layout},
        {"base_margin", f.aggregate != Aggregate::kMean ? nlohmann::json(f.base_margin) : nlohmann::json()},
        {"trees_per_iteration", f.trees_per_iteration},
        {"best_iteration", f.best_iteration},
        {"predict_uses_best_iteration", f.predict_uses_best_iteration},
    };
    AddTrainingJson(f, &j);
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("model:        {}\n", path);
  fmt::print("format:       {}{}\n", f.info.source_format,
             f.info.library_version.empty() ? "" : " (written by version " + f.info.library_version + ")");
  fmt::print("estimator:    {}{}\n", f.info.estimator,
             f.info.wrappers.empty() ? "" : "  [inside " + f.info.wrappers + "]");
  if (!f.info.objective.empty()) fmt::print("objective:    {}\n", f.info.objective);
  fmt::print("kind:         {}, {} output{}, link {}\n", ModelKindName(f.kind), f.n_outputs,
             f.n_outputs == 1 ? "" : "s", LinkName(f.link));
  fmt::print("trees:        {}\n", f.trees.size());
  if (f.trees_per_iteration > 0) {
    std::string best = "no best iteration recorded";
    if (f.best_iteration >= 0) {
      best = fmt::format("best iteration {}; predict uses {}", f.best_iteration,
                         f.predict_uses_best_iteration
                             ? fmt::format("rounds 0:{} by default, as XGBoost's scikit-learn wrapper does",
                                           f.best_iteration + 1)
                             : std::string("every round by default, as XGBoost's Booster.predict does"));
    }
    fmt::print("rounds:       {} of {} tree{} ({})\n", f.trees.size() / f.trees_per_iteration,
               f.trees_per_iteration, f.trees_per_iteration == 1 ? "" : "s", best);
  }
  if (f.aggregate != Aggregate::kMean) {
    std::vector<std::string> bm;
    for (double v : f.base_margin) bm.push_back(fmt::format("{:.9g}", v == 0 ? 0.0 : v));  // no "-0"
    fmt::print("base margin:  {}\n", Joined(bm, 10));
  }
  fmt::print("depth:        min {}, mean {:.2f}, max {}\n", s.depth_min, s.depth_mean, s.depth_max);
  fmt::print("nodes:        {} ({} leaves)\n", s.nodes, s.leaves);
  fmt::print("features:     {}{}\n", f.n_features,
             f.feature_names.empty() ? " (no names)" : ": " + Joined(f.feature_names, 20));
  if (f.kind == ModelKind::kClassifier)
    fmt::print("classes:      {}: {}\n", f.class_labels.size(), Joined(f.class_labels, 20));
  fmt::print("missing:      {}\n", f.missing_values_supported
                                       ? "NaN follows each node's default branch"
                                       : "NaN input is an error (as in the source library)");
  fmt::print("memory:       {:.1f} KiB\n", s.bytes / 1024.0);
  fmt::print("layout:       {}\n", layout);
  PrintTraining(f);
  return kExitOk;
}

int Convert(const std::string& in, const std::string& out) {
  auto r = LoadModelAt(in);
  if (!r.ok()) return ReportError(r.status());
  auto forest = std::make_shared<const Forest>(std::move(r).value());
  auto bytes = SerializeNativeWithLayout(forest);
  if (!bytes.ok()) return ReportError(bytes.status());
  auto storage = StorageFor(out);
  if (!storage.ok()) return ReportError(storage.status());
  Status st = (*storage)->WriteAll(out, *bytes);
  if (!st.ok()) return ReportError(st);
  fmt::print(stderr, "wrote {} ({} bytes, {} trees)\n", out, bytes->size(), forest->trees.size());
  return kExitOk;
}

}  // namespace

CommandSpec ModelCommand() {
  return {"model", "inspect a model file, or convert it to the native .fbm format", [](CLI::App* sub) {
            sub->require_subcommand(1);
            auto path = std::make_shared<std::string>();
            auto out = std::make_shared<std::string>();
            auto json = std::make_shared<bool>(false);
            auto which = std::make_shared<int>(0);
            CLI::App* inspect = sub->add_subcommand(
                "inspect",
                "print what a model file holds: estimator, trees, depth, nodes, features, classes");
            inspect->add_option("MODEL", *path, "model file (.joblib, .pkl, .json, .ubj, .fbm)")->required();
            inspect->add_flag("--json", *json, "print as JSON");
            inspect->callback([which] { *which = 1; });
            CLI::App* convert = sub->add_subcommand(
                "convert", "write any supported model as a native .fbm file (loads in milliseconds)");
            convert->add_option("MODEL", *path, "model file to read")->required();
            convert->add_option("OUT", *out, "native model file to write (.fbm)")->required();
            convert->callback([which] { *which = 2; });
            return std::function<int()>(
                [=] { return *which == 1 ? Inspect(*path, *json) : Convert(*path, *out); });
          }};
}

}  // namespace fb::cli
