#include "serve/dashboard.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/process.h"
#include "runner/local_job.h"
#include "runner/manifest.h"
#include "serve/assets.h"
#include "serve/charts.h"
#include "serve/html.h"
#include "serve/job_view.h"
#include "storage/storage.h"

namespace fb::serve {

using json = nlohmann::json;

namespace {

constexpr size_t kLogTailBytes = 1 << 20;
constexpr size_t kFilesShown = 500;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Get(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

std::string Duration(double s) {
  const int64_t m = static_cast<int64_t>(s / 60);
  return fmt::format("{}m {:.1f}s", m, s - 60.0 * static_cast<double>(m));
}

std::string Amount(std::optional<double> v) { return v ? FormatAmount(*v) : std::string("-"); }

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpResponse Json(int status, const json& j) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(2) + "\n";
  return r;
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", location);
  return r;
}

std::string Page(const std::string& title, const std::string& main, const std::string& body_attrs = "") {
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} - forestbatch</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>"
      "<body{}><header><a href=\"/\">forestbatch</a><span class=\"where\">jobs</span></header>"
      "<main>{}</main><script src=\"/static/app.js\"></script></body></html>\n",
      HtmlEscape(title), body_attrs, main);
}

HttpResponse Error(int status, const std::string& message, bool json) {
  if (json) return Json(status, {{"error", message}});
  HttpResponse r;
  r.status = status;
  r.body = Page("error", "<h1>" + HtmlEscape(message) + "</h1><p><a href=\"/\">all jobs</a></p>");
  return r;
}

std::string StateBadge(const std::string& state, const std::string& id = "") {
  return fmt::format("<span class=\"state state-{}\"{}>{}</span>", HtmlEscape(state),
                     id.empty() ? "" : " id=\"" + id + "\"", HtmlEscape(state));
}

std::string JobHref(const std::string& id) { return "/jobs/" + UrlEncode(id); }

// A spec's strings, with secrets hidden (for the API).
void RedactJson(json& j) {
  if (j.is_string()) {
    j = RedactSecrets(j.get<std::string>());
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) RedactJson(v);
  }
}

// The last `max` bytes of a file (from a line start when cut).
Result<std::string> ReadTail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return NotFound("no log yet");
  const auto size = static_cast<size_t>(in.tellg());
  const size_t from = size > max ? size - max : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string s(size - from, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  if (from > 0) {
    const size_t nl = s.find('\n');
    s = fmt::format("[... {} earlier bytes not shown]\n", from + (nl == std::string::npos ? 0 : nl + 1)) +
        (nl == std::string::npos ? s : s.substr(nl + 1));
  }
  return s;
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsIndex(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> Cookie(const std::string& header, const std::string& name) {
  size_t i = 0;
  while (i < header.size()) {
    size_t j = header.find(';', i);
    if (j == std::string::npos) j = header.size();
    std::string part = header.substr(i, j - i);
    const size_t b = part.find_first_not_of(' ');
    part = b == std::string::npos ? "" : part.substr(b);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    i = j + 1;
  }
  return std::nullopt;
}

bool IsIpLiteral(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;  // [v6]
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

// The host part of a Host header ("a:1" -> "a", "[::1]:2" -> "[::1]").
std::string HostPart(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

// Runs `argv` with its output appended to `log` and stdin from /dev/null
// (common/process.h). Attached: waits for it, true on exit 0. Detached: it
// runs in its own session, not our child once started; true once started.
bool Spawn(const std::vector<std::string>& args, const std::string& log, bool detached) {
  ProcessSpec spec;
  spec.argv = args;
  spec.log_path = log;
  spec.stdin_null = true;
  spec.detached = detached;
  spec.exec_failure_message = "forestbatch serve: cannot run " + args[0];
  auto processes = MakeProcessRunner();
  auto id = processes->Start(spec);
  if (!id.ok()) return false;
  if (detached) return true;
  auto ended = processes->Wait(*id);
  return ended.ok() && ended->exit_code == 0;
}

Result<std::unique_ptr<JobDb>> OpenDb(const std::string& state) { return JobDb::OpenReadOnly(state); }

// The estimate kept with the job against what it took so far, or why there is none.
std::string EstimateSection(const JobView& v) {
  std::string m = "<h2>Estimate against actual</h2>";
  if (!v.estimate) {
    return m + "<p class=\"muted\" id=\"no-estimate\">Estimate: " + HtmlEscape(kNoEstimate) + ".</p>";
  }
  const EstimateComparison& c = *v.estimate;
  const EstimateRecord& e = c.estimate;
  m += fmt::format(
      "<p class=\"muted\">Made {} from one sample input ({}) for {} workers x {} vCPU; the actual counts "
      "reserved vCPU-seconds the same way (the workers' vCPUs for as long as the job ran) beside the CPU "
      "time used.{}</p>",
      HtmlEscape(e.made_at), HtmlEscape(RedactSecrets(e.sample)), e.workers, e.vcpus_per_task,
      c.actual.finished ? ""
                        : fmt::format(" The job is not over: {} of {} files finished.",
                                      c.actual.files_finished, c.actual.files_total));
  m += "<table id=\"estimate\"><thead><tr><th></th><th>estimate</th><th>actual</th></tr></thead><tbody>";
  m += fmt::format(
      "<tr><th>duration</th><td class=\"num\">{}</td><td class=\"num\" id=\"actual-duration\">{}</td></tr>",
      Duration(e.duration_seconds), Duration(c.actual.duration_seconds));
  m += fmt::format(
      "<tr><th>reserved vCPU-seconds</th><td class=\"num\">{:.1f}</td><td class=\"num\" "
      "id=\"actual-reserved\">{:.1f}</td></tr>",
      e.vcpu_seconds, c.actual.reserved_vcpu_seconds);
  m += fmt::format(
      "<tr><th>used vCPU-seconds (CPU time)</th><td class=\"num\">-</td><td class=\"num\" "
      "id=\"actual-used\">{:.1f}</td></tr>",
      c.actual.used_vcpu_seconds);
  if (c.price) {
    m += fmt::format(
        "<tr><th>cost at {} per vCPU-hour (reserved)</th><td class=\"num\" id=\"estimated-cost\">{}</td><td "
        "class=\"num\" id=\"actual-cost\">{}</td></tr>",
        FormatAmount(*c.price), Amount(c.EstimatedCost()), Amount(c.ActualReservedCost()));
  }
  m += "</tbody></table>";
  if (!e.assumptions.empty()) {
    m += "<details><summary>the estimate's assumptions</summary><ul>";
    for (const auto& a : e.assumptions) m += "<li>" + HtmlEscape(RedactSecrets(a)) + "</li>";
    m += "</ul></details>";
  }
  return m;
}

}  // namespace

bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::string> RandomToken() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  unsigned char buf[32];
  if (!in.read(reinterpret_cast<char*>(buf), sizeof buf)) return IoError("cannot read /dev/urandom");
  std::string hex;
  for (unsigned char c : buf) hex += fmt::format("{:02x}", c);
  return hex;
}

HttpResponse Dashboard::Handle(const HttpRequest& r) const {
  HttpResponse out;
  const bool api = r.path.rfind("/api/", 0) == 0;
  // DNS rebinding: a page of another site that resolves its name to this
  // server sends that name as Host.
  const std::string host = Lower(Get(r.headers, "host"));
  const std::string name = HostPart(host);
  const bool host_ok =
      !host.empty() &&
      (std::find(o_.allowed_hosts.begin(), o_.allowed_hosts.end(), host) != o_.allowed_hosts.end() ||
       std::find(o_.allowed_hosts.begin(), o_.allowed_hosts.end(), name) != o_.allowed_hosts.end() ||
       (o_.any_ip_host && IsIpLiteral(name)));
  if (!host_ok) {
    out = Text(403, "forestbatch serve: this Host is not served (see --allow-host)\n");
  } else if (!o_.token.empty()) {
    const std::string auth = Get(r.headers, "authorization");
    const auto cookie = Cookie(Get(r.headers, "cookie"), "fb_token");
    const bool by_header = auth.rfind("Bearer ", 0) == 0 && SameSecret(auth.substr(7), o_.token);
    const bool by_cookie = cookie && SameSecret(*cookie, o_.token);
    const auto q = r.query.find("token");
    if (q != r.query.end() && SameSecret(q->second, o_.token) && (r.method == "GET" || r.method == "HEAD")) {
      // From a link with the token: keep it in a cookie, and out of the URL.
      std::string rest;
      for (const auto& [k, v] : r.query) {
        if (k == "token") continue;
        rest += (rest.empty() ? "?" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
      }
      std::string path;
      for (const auto& s : Segments(r.path)) path += "/" + UrlEncode(s);
      out = Redirect((path.empty() ? "/" : path) + rest);
      out.headers.emplace_back("Set-Cookie", "fb_token=" + o_.token + "; HttpOnly; SameSite=Strict; Path=/");
    } else if (!by_header && !by_cookie) {
      out = Error(401, "a token is required (the one serve printed: open the address it gave)", api);
      out.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else {
      out = Route(r);
    }
  } else {
    out = Route(r);
  }
  out.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.headers.emplace_back("X-Frame-Options", "DENY");
  out.headers.emplace_back("Referrer-Policy", "no-referrer");
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

HttpResponse Dashboard::Route(const HttpRequest& r) const {
  const auto seg = Segments(r.path);
  const bool api = !seg.empty() && seg[0] == "api";
  for (const auto& s : seg) {
    if (s == "." || s == ".." || s.find('\0') != std::string::npos || s.find('\\') != std::string::npos)
      return Error(400, "bad path", api);
  }
  const bool get = r.method == "GET" || r.method == "HEAD";
  if (r.method == "POST") {
    if (seg.size() == 3 && seg[0] == "jobs" && (seg[2] == "cancel" || seg[2] == "resume"))
      return Action(r, seg[1], seg[2]);
    return Error(405, "not allowed", api);
  }
  if (!get) return Error(405, "not allowed", api);
  if (seg.empty()) return JobList(false);
  if (seg.size() == 2 && seg[0] == "static") {
    HttpResponse s;
    if (seg[1] == "app.css") {
      s.content_type = "text/css; charset=utf-8";
      s.body = kAppCss;
      return s;
    }
    if (seg[1] == "app.js") {
      s.content_type = "text/javascript; charset=utf-8";
      s.body = kAppJs;
      return s;
    }
    return Error(404, "not found", false);
  }
  const size_t b = api ? 1 : 0;  // /api/jobs/... mirrors /jobs/...
  if (seg.size() < b + 1 || seg[b] != "jobs") return Error(404, "not found", api);
  if (seg.size() == b + 1) return api ? JobList(true) : Error(404, "not found", false);
  const std::string& id = seg[b + 1];
  if (!IsJobId(id)) return Error(404, "no such job", api);
  const size_t rest = seg.size() - (b + 2);
  if (rest == 0) return api ? JobJson(id) : JobPage(id);
  const std::string& what = seg[b + 2];
  if (rest == 1 && what == "events" && api) {
    auto ev = ProgressEvent(id);
    if (!ev.ok()) return Error(404, ev.status().message(), true);
    HttpResponse s;
    s.events_job = id;
    s.content_type = "text/event-stream";
    return s;
  }
  if (rest == 1 && what == "charts" && !api) return Charts(id);
  if (rest == 1 && what == "files") return FilePage(id, Get(r.query, "input"), api);
  if (rest == 3 && what == "tasks" && seg[b + 4] == "log") {
    if (!IsIndex(seg[b + 3])) return Error(404, "no such task", api);
    return TaskLog(id, seg[b + 3], api);
  }
  return Error(404, "not found", api);
}

HttpResponse Dashboard::JobList(bool as_json) const {
  auto db = OpenDb(o_.state_dir);
  std::vector<JobRecord> jobs;
  if (db.ok()) {
    auto j = (*db)->ListJobs();
    // A database a starting job has created but not yet given its tables: no jobs yet.
    if (!j.ok() && j.status().message().find("no such table") == std::string::npos)
      return Error(500, j.status().ToString(), as_json);
    if (j.ok()) jobs = std::move(*j);
  }
  std::reverse(jobs.begin(), jobs.end());  // newest first
  const double now = UnixNow();
  json list = json::array();
  std::string rows;
  for (const auto& rec : jobs) {
    auto c = (*db)->Counts(rec.id);
    auto cost = JobCostOf(**db, rec.id, o_.price_per_vcpu_hour);
    if (!c.ok()) return Error(500, c.status().ToString(), as_json);
    if (!cost.ok()) return Error(500, cost.status().ToString(), as_json);
    std::string model, input, output;
    try {
      json spec = json::parse(rec.spec_json);
      model = RedactSecrets(spec.value("model", std::string()));
      if (model.empty()) model = RedactSecrets("exec: " + spec.value("exec", std::string()));
      input = RedactSecrets(spec.value("input", std::string()));
      output = RedactSecrets(spec.value("output", std::string()));
    } catch (const std::exception&) {
    }
    const JobState state = EffectiveJobState(rec, o_.state_dir);
    auto times = LoadJobTimes(**db, rec, o_.state_dir, state, now);
    if (!times.ok()) return Error(500, times.status().ToString(), as_json);
    // The whole job: every run's time, and the files those runs made.
    const double seconds = times->seconds;
    const int64_t finished = c->done + c->skipped + c->failed;
    const double per_min = seconds > 0 ? static_cast<double>(c->done) / seconds * 60 : 0;
    list.push_back(
        {{"job", rec.id},
         {"name", rec.name},
         {"state", StateName(state)},
         {"files",
          {{"total", rec.files_total}, {"done", c->done}, {"skipped", c->skipped}, {"failed", c->failed}}},
         {"rows", c->rows},
         {"files_per_minute", per_min},
         {"created_at", rec.created_at},
         {"seconds", seconds},
         {"model", model},
         {"input", input},
         {"output", output},
         {"vcpu_seconds", cost->vcpu_seconds},
         {"cost", cost->Cost() ? json(*cost->Cost()) : json(nullptr)},
         {"href", JobHref(rec.id)}});
    rows += fmt::format(
        "<tr><td class=\"wrap\"><a href=\"{}\">{}</a></td><td>{}</td><td class=\"num\">{} / {} / {}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td>{}</td><td class=\"num\">{}</td>"
        "<td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td "
        "class=\"num\">{:.1f}</td>"
        "<td class=\"num\">{}</td></tr>",
        HtmlEscape(JobHref(rec.id)), HtmlEscape(rec.id), StateBadge(StateName(state)), finished, c->failed,
        rec.files_total, c->rows, per_min, HtmlEscape(rec.created_at), Duration(seconds), HtmlEscape(model),
        HtmlEscape(input), HtmlEscape(output), cost->vcpu_seconds, Amount(cost->Cost()));
  }
  // Jobs handed to an engine by `submit`: what their records say (the engine is not asked).
  json submitted = json::array();
  std::string sub_rows;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(o_.state_dir + "/submits", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    std::ifstream in(it->path());
    try {
      json s = json::parse(in);
      if (!s.is_object() || !s.contains("name")) continue;
      json row = {{"name", s.value("name", "")},
                  {"engine", s.value("engine", "")},
                  {"engine_job", s.value("job_id", "")},
                  {"workers", s.value("workers", 0)},
                  {"submitted_at", s.value("submitted_at", "")},
                  {"estimate", nullptr}};
      // The projection `submit --estimate` kept; the actual is the engine's to tell.
      std::string est = "-";
      if (s.contains("estimate") && s["estimate"].is_object()) {
        auto e = EstimateRecord::FromJson(s["estimate"].dump());
        if (e.ok()) {
          row["estimate"] = json::parse(e->ToJson());
          const auto cost = e->price_per_vcpu_hour
                                ? std::optional<double>(e->vcpu_seconds / 3600.0 * *e->price_per_vcpu_hour)
                                : std::nullopt;
          est = fmt::format("{}, {:.1f} reserved vCPU-seconds{}", Duration(e->duration_seconds),
                            e->vcpu_seconds, cost ? ", cost " + FormatAmount(*cost) : std::string());
        }
      }
      sub_rows += fmt::format(
          "<tr><td class=\"wrap\">{}</td><td>{}</td><td class=\"wrap\">{}</td><td "
          "class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
          HtmlEscape(row["name"].get<std::string>()), HtmlEscape(row["engine"].get<std::string>()),
          HtmlEscape(row["engine_job"].get<std::string>()), row["workers"].get<int64_t>(),
          HtmlEscape(row["submitted_at"].get<std::string>()), HtmlEscape(est));
      submitted.push_back(std::move(row));
    } catch (const std::exception&) {
      continue;  // not a submit record
    }
  }
  if (as_json) return Json(200, {{"jobs", list}, {"submitted", submitted}});
  std::string main = "<h1>Jobs</h1>";
  if (jobs.empty()) {
    main += "<p class=\"muted\">No jobs recorded in this state folder yet.</p>";
  } else {
    main +=
        "<table id=\"jobs\"><thead><tr><th>job</th><th>state</th><th>files done / failed / total</th>"
        "<th>rows</th><th>files per minute</th><th>started (UTC)</th><th>duration</th><th>model</th>"
        "<th>input</th><th>output</th><th>vCPU-seconds</th><th>cost</th></tr></thead><tbody>" +
        rows + "</tbody></table>";
  }
  if (!sub_rows.empty()) {
    main +=
        "<h2>Submitted to an engine</h2><p class=\"muted\">From the submit records; <code>forestbatch "
        "submit --status NAME</code> asks the engine.</p><table id=\"submitted\"><thead><tr><th>name</th>"
        "<th>engine</th><th>engine job</th><th>workers</th><th>submitted (UTC)</th><th>estimate (submit "
        "--estimate)</th></tr></thead><tbody>" +
        sub_rows + "</tbody></table>";
  }
  HttpResponse r;
  r.body = Page("jobs", main);
  return r;
}

Result<std::pair<std::string, bool>> Dashboard::ProgressEvent(const std::string& id) const {
  FB_ASSIGN_OR_RETURN(auto db, OpenDb(o_.state_dir));
  FB_ASSIGN_OR_RETURN(JobView v, LoadJobView(*db, o_.state_dir, id, o_.price_per_vcpu_hour, UnixNow()));
  return std::make_pair("data: " + ProgressJson(v) + "\n\n", v.live);
}

HttpResponse Dashboard::JobJson(const std::string& id) const {
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), true);
  auto st = JobStatusJson(**db, id, o_.state_dir, o_.price_per_vcpu_hour);
  if (!st.ok())
    return Error(st.status().code() == StatusCode::kNotFound ? 404 : 500, st.status().message(), true);
  auto v = LoadJobView(**db, o_.state_dir, id, o_.price_per_vcpu_hour, UnixNow());
  if (!v.ok()) return Error(500, v.status().message(), true);
  json j = json::parse(*st);
  if (j.contains("spec")) RedactJson(j["spec"]);
  if (j.contains("estimate")) RedactJson(j["estimate"]);
  j["progress"] = json::parse(ProgressJson(*v));
  for (auto& t : j["tasks"]) {
    t["log"] = fmt::format("/api/jobs/{}/tasks/{}/log", UrlEncode(id), t["index"].get<int64_t>());
  }
  j.erase("catalog");
  return Json(200, j);
}

HttpResponse Dashboard::Charts(const std::string& id) const {
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), false);
  const double now = UnixNow();
  auto v = LoadJobView(**db, o_.state_dir, id, o_.price_per_vcpu_hour, now);
  if (!v.ok()) return Error(404, v.status().message(), false);
  HttpResponse r;
  r.body = "<h2>Throughput</h2>" + ThroughputSvg(*v, now) + "<h2>Tasks over time</h2>" + TimelineSvg(*v, now);
  return r;
}

HttpResponse Dashboard::JobPage(const std::string& id) const {
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), false);
  const double now = UnixNow();
  auto vr = LoadJobView(**db, o_.state_dir, id, o_.price_per_vcpu_hour, now);
  if (!vr.ok()) {
    return Error(vr.status().code() == StatusCode::kNotFound ? 404 : 500, vr.status().message(), false);
  }
  const JobView& v = *vr;
  const std::string href = JobHref(id);
  std::string m = fmt::format("<h1>{} {}</h1>", HtmlEscape(id), StateBadge(StateName(v.state), "state"));
  if (v.state == JobState::kDead) {
    m += fmt::format(
        "<p class=\"warning\" id=\"dead\">Nothing is running: the record says {}, but the job's supervisor "
        "is gone (killed, or its machine restarted). Continue it with <code>forestbatch resume "
        "{}</code>.</p>",
        HtmlEscape(StateName(v.job.state)), HtmlEscape(id));
  }
  m += fmt::format("<progress id=\"progress\" max=\"{}\" value=\"{}\"></progress>",
                   std::max<int64_t>(1, v.job.files_total), v.finished());
  std::optional<double> projected;
  if (v.live && v.finished() > 0 && v.job.files_total > 0) {
    projected =
        v.cost.vcpu_seconds * static_cast<double>(v.job.files_total) / static_cast<double>(v.finished());
  }
  auto stat = [](const std::string& label, const std::string& id, const std::string& value) {
    return fmt::format("<div><dt>{}</dt><dd id=\"{}\">{}</dd></div>", label, id, value);
  };
  m += "<dl class=\"stats\">";
  m += stat("files finished", "finished", fmt::format("{} of {}", v.finished(), v.job.files_total));
  m += stat("done", "done", std::to_string(v.counts.done));
  m += stat("already done", "skipped", std::to_string(v.counts.skipped));
  m += stat("failed", "failed", std::to_string(v.counts.failed));
  m += stat("rows", "rows", std::to_string(v.counts.rows));
  m += stat("elapsed", "elapsed", Duration(v.elapsed_seconds));
  m += stat("files per minute", "rate", fmt::format("{:.1f}", v.files_per_second * 60));
  m += stat("ETA", "eta", v.eta_seconds ? Duration(*v.eta_seconds) : "-");
  m += stat("vCPU-seconds", "vcpu", fmt::format("{:.1f}", v.cost.vcpu_seconds));
  m += stat("projected vCPU-seconds at the end", "projected",
            projected ? fmt::format("{:.1f}", *projected) : "-");
  if (v.cost.price_per_vcpu_hour) {
    m += stat(fmt::format("cost at {} per vCPU-hour", FormatAmount(*v.cost.price_per_vcpu_hour)), "cost",
              Amount(v.cost.Cost()));
    m += stat("cost per 1,000 files", "cost-files", Amount(v.cost.PerThousandFiles()));
    m += stat("cost per million rows", "cost-rows", Amount(v.cost.PerMillionRows()));
  }
  m += "</dl>";
  m += EstimateSection(v);
  if (o_.allow_actions) {
    const std::string csrf = "<input type=\"hidden\" name=\"csrf\" value=\"" + HtmlEscape(o_.csrf) + "\">";
    if (v.live) {
      m += "<form class=\"action\" method=\"post\" action=\"" + HtmlEscape(href) + "/cancel\">" + csrf +
           "<button id=\"cancel\">Cancel job</button></form>";
    } else if (v.state != JobState::kSucceeded) {
      m += "<form class=\"action\" method=\"post\" action=\"" + HtmlEscape(href) + "/resume\">" + csrf +
           "<button id=\"resume\">Resume job</button></form>";
    }
  }
  m += "<h2>Job</h2><table class=\"kv\"><tbody>";
  auto kv = [](const std::string& k, const std::string& val) {
    return "<tr><th>" + k + "</th><td class=\"wrap\">" + HtmlEscape(val) + "</td></tr>";
  };
  m += kv("name", v.job.name) + kv("model", v.model) + kv("input", v.input) + kv("output", v.output);
  if (!v.exec.empty()) m += kv("exec", v.exec);
  m += kv("workers", std::to_string(v.workers)) + kv("host", v.job.host) +
       kv("created (UTC)", v.job.created_at) + kv("updated (UTC)", v.job.updated_at) +
       kv("exit code", std::to_string(v.job.exit_code));
  m += "</tbody></table>";
  m += "<div id=\"charts\"><h2>Throughput</h2>" + ThroughputSvg(v, now) + "<h2>Tasks over time</h2>" +
       TimelineSvg(v, now) + "</div>";
  m += "<h2>Tasks</h2><table id=\"tasks\"><thead><tr><th>task</th><th>state</th><th>attempts</th><th>exit "
       "code</th><th>signal</th><th>CPU seconds</th><th>started (UTC)</th><th>finished "
       "(UTC)</th><th>log</th></tr>"
       "</thead><tbody>";
  for (const auto& t : v.tasks) {
    m += fmt::format(
        "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td>{}</td><td>{}</td><td><a "
        "href=\"{}/tasks/{}/log\">"
        "log</a></td></tr>",
        t.record.index, StateBadge(StateName(t.record.state)), t.record.attempts, t.record.exit_code,
        t.record.signal, t.cpu_seconds, HtmlEscape(t.record.started_at), HtmlEscape(t.record.finished_at),
        HtmlEscape(href), t.record.index);
  }
  m += "</tbody></table>";
  std::string failures;
  for (const auto& f : v.files) {
    if (f.state != FileState::kFailed) continue;
    failures += fmt::format(
        "<tr><td class=\"wrap\"><a href=\"{0}/files?input={1}\">{2}</a></td><td class=\"num\"><a "
        "href=\"{0}/tasks/{3}/log\">{3}</a></td><td class=\"num\">{4}</td><td><pre "
        "class=\"error\">{5}</pre></td></tr>",
        HtmlEscape(href), HtmlEscape(UrlEncode(f.relative)), HtmlEscape(f.relative), f.task, f.attempts,
        HtmlEscape(f.error));
  }
  if (!failures.empty()) {
    m += "<h2>Failures</h2><table id=\"failures\"><thead><tr><th>input</th><th>task</th><th>attempts</th>"
         "<th>error</th></tr></thead><tbody>" +
         failures + "</tbody></table>";
  }
  m += "<h2>Files</h2><table id=\"files\"><thead><tr><th>input</th><th>state</th><th>task</th><th>rows</th>"
       "<th>seconds</th></tr></thead><tbody>";
  size_t shown = 0;
  for (const auto& f : v.files) {
    if (++shown > kFilesShown) break;
    m += fmt::format(
        "<tr><td class=\"wrap\"><a href=\"{}/files?input={}\">{}</a></td><td>{}</td><td "
        "class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{:.3f}</td></tr>",
        HtmlEscape(href), HtmlEscape(UrlEncode(f.relative)), HtmlEscape(f.relative),
        StateBadge(StateName(f.state)), f.task, f.rows, f.seconds);
  }
  m += "</tbody></table>";
  if (v.files.size() > kFilesShown) {
    m += fmt::format("<p class=\"muted\">{} more files: <a href=\"/api{}\">the JSON</a> has them all.</p>",
                     v.files.size() - kFilesShown, HtmlEscape(href));
  }
  HttpResponse r;
  r.body = Page(id, m, " data-job=\"" + HtmlEscape(id) + "\" data-live=\"" + (v.live ? "1" : "0") + "\"");
  return r;
}

HttpResponse Dashboard::TaskLog(const std::string& id, const std::string& task, bool as_json) const {
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), as_json);
  auto job = (*db)->GetJob(id);
  if (!job.ok() || !*job) return Error(404, "no such job", as_json);
  auto tasks = (*db)->Tasks(id);
  if (!tasks.ok()) return Error(500, tasks.status().message(), as_json);
  const int64_t index = std::stoll(task);
  if (std::none_of(tasks->begin(), tasks->end(), [&](const TaskRecord& t) { return t.index == index; }))
    return Error(404, "no such task", as_json);
  // The path is made from the job id (checked, and known to the database) and
  // the task's number: nothing from the request names a file.
  auto text = ReadTail(TaskLogPath(o_.state_dir, id, index), kLogTailBytes);
  if (!text.ok()) return Error(404, text.status().message(), as_json);
  if (as_json) return Text(200, *text);
  HttpResponse r;
  r.body = Page(fmt::format("{} task {} log", id, index),
                fmt::format("<h1><a href=\"{}\">{}</a>: task {} log</h1><pre id=\"log\">{}</pre>",
                            HtmlEscape(JobHref(id)), HtmlEscape(id), index, HtmlEscape(*text)));
  return r;
}

HttpResponse Dashboard::FilePage(const std::string& id, const std::string& input, bool as_json) const {
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), as_json);
  auto files = (*db)->Files(id);
  if (!files.ok()) return Error(500, files.status().message(), as_json);
  auto it =
      std::find_if(files->begin(), files->end(), [&](const FileRecord& f) { return f.relative == input; });
  if (it == files->end()) return Error(404, "no such file in this job", as_json);
  const FileRecord& f = *it;
  json rec = {{"input", f.relative}, {"state", StateName(f.state)},
              {"task", f.task},      {"attempts", f.attempts},
              {"rows", f.rows},      {"seconds", f.seconds},
              {"error", f.error},    {"output", RedactSecrets(f.output)}};
  // The manifest beside the output the job recorded (not a path from the request).
  json manifest = nullptr;
  std::string manifest_error;
  if (!f.output.empty()) {
    auto storage = StorageFor(f.output);
    auto text =
        storage.ok() ? (*storage)->ReadAll(ManifestPathFor(f.output)) : Result<std::string>(storage.status());
    if (text.ok()) {
      try {
        manifest = json::parse(*text);
        RedactJson(manifest);
      } catch (const std::exception& e) {
        manifest_error = std::string("unreadable manifest: ") + e.what();
      }
    } else {
      manifest_error = "no manifest: " + text.status().message();
    }
  }
  if (as_json) return Json(200, {{"job", id}, {"file", rec}, {"manifest", manifest}});
  std::string m = fmt::format("<h1><a href=\"{}\">{}</a>: {}</h1>", HtmlEscape(JobHref(id)), HtmlEscape(id),
                              HtmlEscape(f.relative));
  m += "<table id=\"record\"><tbody>";
  for (const auto& [k, val] : rec.items()) {
    m += "<tr><th>" + HtmlEscape(k) + "</th><td class=\"wrap\">" +
         HtmlEscape(val.is_string() ? val.get<std::string>() : val.dump()) + "</td></tr>";
  }
  m += "</tbody></table><h2>Manifest</h2>";
  if (manifest.is_object()) {
    m += "<table id=\"manifest\"><tbody>";
    for (const auto& [k, val] : manifest.items()) {
      m += "<tr><th>" + HtmlEscape(k) + "</th><td class=\"wrap\">" +
           HtmlEscape(val.is_string() ? val.get<std::string>() : val.dump()) + "</td></tr>";
    }
    m += "</tbody></table>";
  } else {
    m += "<p class=\"muted\">" + HtmlEscape(manifest_error.empty() ? "no output" : manifest_error) + "</p>";
  }
  HttpResponse r;
  r.body = Page(f.relative, m);
  return r;
}

HttpResponse Dashboard::Action(const HttpRequest& r, const std::string& id, const std::string& action) const {
  if (!o_.allow_actions) return Error(403, "actions are off (serve --allow-actions)", false);
  if (!SameSecret(Get(r.form, "csrf"), o_.csrf)) return Error(403, "bad or missing CSRF token", false);
  const std::string origin = Get(r.headers, "origin");
  if (!origin.empty() && Lower(origin) != "http://" + Lower(Get(r.headers, "host")))
    return Error(403, "cross-origin request refused", false);
  if (!IsJobId(id)) return Error(404, "no such job", false);
  auto db = OpenDb(o_.state_dir);
  if (!db.ok()) return Error(404, db.status().message(), false);
  auto job = (*db)->GetJob(id);
  if (!job.ok() || !*job) return Error(404, "no such job", false);
  const std::string log = o_.state_dir + "/serve-actions.log";
  if (action == "cancel") {
    if (!Spawn({o_.self_exe, "cancel", id, "--state", o_.state_dir}, log, /*detached=*/false))
      return Error(500, "cancel failed (see serve-actions.log in the state folder)", false);
  } else {
    if (IsLive(EffectiveJobState(**job, o_.state_dir))) return Error(409, "the job is running", false);
    if (!Spawn({o_.self_exe, "resume", id, "--state", o_.state_dir, "--progress", "lines"}, log,
               /*detached=*/true))
      return Error(500, "resume could not start", false);
    // Give the new supervisor a moment to mark the job running before the page reloads.
    for (int i = 0; i < 20; ++i) {
      auto now = (*db)->GetJob(id);
      if (now.ok() && *now && (*now)->state == JobState::kRunning) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return Redirect(JobHref(id));
}

}  // namespace fb::serve
