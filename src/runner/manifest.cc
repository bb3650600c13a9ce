#include "runner/manifest.h"

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

namespace fb {

using json = nlohmann::json;

std::string Manifest::ToJson() const {
  json j = {{"forestbatch_manifest", version},
            {"input", input},
            {"input_bytes", input_bytes},
            {"input_mtime_ns", input_mtime_ns},
            {"model_sha256", model_sha256},
            {"options", options},
            {"rows", rows},
            {"class_counts", class_counts},
            {"output_sha256", output_sha256},
            {"output_bytes", output_bytes},
            {"seconds",
             {{"read", read_seconds},
              {"predict", predict_seconds},
              {"write", write_seconds},
              {"total", total_seconds}}},
            {"attempts", attempts},
            {"job", job},
            {"finished_at", finished_at}};
  if (task >= 0) j["task"] = task;
  if (!host.empty()) j["host"] = host;
  return j.dump(2) + "\n";
}

Result<Manifest> Manifest::Parse(std::string_view text, const std::string& name) {
  // nlohmann throws on malformed JSON and on wrong types: caught here, at the edge.
  try {
    json j = json::parse(text);
    Manifest m;
    m.version = j.at("forestbatch_manifest").get<int>();
    if (m.version != 1) return Unsupported("manifest version " + std::to_string(m.version)).At(name);
    m.input = j.at("input").get<std::string>();
    m.input_bytes = j.at("input_bytes").get<uint64_t>();
    m.input_mtime_ns = j.value("input_mtime_ns", int64_t{0});
    m.model_sha256 = j.at("model_sha256").get<std::string>();
    m.options = j.at("options").get<std::string>();
    m.rows = j.at("rows").get<uint64_t>();
    m.class_counts = j.value("class_counts", std::vector<uint64_t>{});
    m.output_sha256 = j.at("output_sha256").get<std::string>();
    m.output_bytes = j.at("output_bytes").get<uint64_t>();
    if (j.contains("seconds")) {
      const json& s = j["seconds"];
      m.read_seconds = s.value("read", 0.0);
      m.predict_seconds = s.value("predict", 0.0);
      m.write_seconds = s.value("write", 0.0);
      m.total_seconds = s.value("total", 0.0);
    }
    m.attempts = j.value("attempts", 1);
    m.job = j.value("job", std::string());
    m.task = j.value("task", int64_t{-1});
    m.host = j.value("host", std::string());
    m.finished_at = j.value("finished_at", std::string());
    return m;
  } catch (const std::exception& e) {
    return InvalidData(std::string("bad manifest: ") + e.what()).At(name);
  }
}

std::string ManifestPathFor(const std::string& output) {
  size_t slash = output.rfind('/');
  if (slash == std::string::npos) return "." + output + ".fbmanifest.json";
  return output.substr(0, slash + 1) + "." + output.substr(slash + 1) + ".fbmanifest.json";
}

bool IsManifestName(std::string_view name) {
  constexpr std::string_view kSuffix = ".fbmanifest.json";
  return name.size() > kSuffix.size() + 1 && name[0] == '.' &&
         name.substr(name.size() - kSuffix.size()) == kSuffix;
}

Decision Decide(const Existing& e, const ObjectInfo& input, const std::string& model_sha256,
                const std::string& options, bool overwrite, std::string* why) {
  auto say = [&](const char* s) {
    if (why) *why = s;
  };
  if (!e.output) {
    say("no output yet");
    return Decision::kProcess;
  }
  if (!e.manifest) {
    say("output without a manifest (a killed worker or another program): redoing it");
    return Decision::kProcess;
  }
  const Manifest& m = *e.manifest;
  if (m.output_bytes != e.output->size || (e.output_sha256 && *e.output_sha256 != m.output_sha256)) {
    say("output does not match its manifest: redoing it");
    return Decision::kProcess;
  }
  if (m.input_bytes != input.size ||
      (m.input_mtime_ns != 0 && input.mtime_ns != 0 && m.input_mtime_ns != input.mtime_ns)) {
    say("input changed since the output was made: redoing it");
    return Decision::kProcess;
  }
  if (m.model_sha256 != model_sha256 || m.options != options) {
    if (overwrite) {
      say("output made by another model or options: overwriting (--overwrite)");
      return Decision::kProcess;
    }
    say("output made by another model or options (pass --overwrite to replace it)");
    return Decision::kConflict;
  }
  say("already done");
  return Decision::kSkip;
}

Result<Existing> Inspect(Storage& storage, const std::string& output, bool verify) {
  Existing e;
  FB_ASSIGN_OR_RETURN(e.output, storage.Stat(output));
  const std::string mpath = ManifestPathFor(output);
  FB_ASSIGN_OR_RETURN(auto mstat, storage.Stat(mpath));
  if (mstat) {
    FB_ASSIGN_OR_RETURN(std::string text, storage.ReadAll(mpath));
    auto m = Manifest::Parse(text, mpath);
    if (m.ok()) e.manifest = std::move(m).value();  // an unreadable manifest vouches for nothing
  }
  if (verify && e.output && e.manifest) {
    FB_ASSIGN_OR_RETURN(std::string sha, Sha256OfObject(storage, output));
    e.output_sha256 = std::move(sha);
  }
  return e;
}

Result<std::string> Sha256OfObject(Storage& storage, const std::string& uri) {
  FB_ASSIGN_OR_RETURN(auto in, storage.OpenRead(uri));
  Sha256 h;
  std::string buf(1 << 16, '\0');
  for (;;) {
    FB_ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(std::string_view(buf.data(), n));
  }
  return h.HexDigest();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace fb
