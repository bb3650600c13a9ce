#include "serve/dashboard.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner/job_db.h"
#include "runner/lease.h"
#include "runner/local_job.h"
#include "runner/manifest.h"

namespace fb::serve {
namespace {

namespace fs = std::filesystem;

// A state folder with one job: two tasks, a file done (with an output and
// its manifest), one failed with markup in its name and error, one pending.
class DashboardTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("fb_dashboard_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    state_ = (dir_ / "state").string();
    auto db = JobDb::Open(state_);
    ASSERT_TRUE(db.ok());
    JobSpec spec;
    spec.name = "j";
    spec.input = "in";
    spec.output = (dir_ / "out").string();
    spec.exec = "tool --api-token s3cr3tvalue {input} {output}";
    JobRecord j;
    j.id = "job-1";
    j.state = JobState::kFailed;
    j.spec_json = spec.ToJson();
    j.files_total = 3;
    ASSERT_TRUE((*db)->CreateJob(j).ok());
    ASSERT_TRUE((*db)->UpdateJob("job-1", JobState::kFailed, 1, 2.0).ok());
    ASSERT_TRUE((*db)->AddPendingFiles("job-1", {"a.csv", kEvil, "c.csv"}, {0, 1, 1}).ok());
    FileRecord f;
    f.relative = "a.csv";
    f.state = FileState::kDone;
    f.rows = 5;
    f.seconds = 0.5;
    f.output = (dir_ / "out" / "a.csv").string();
    ASSERT_TRUE((*db)->RecordFile("job-1", f).ok());
    fs::create_directories(dir_ / "out");
    std::ofstream(f.output) << "x\n";
    Manifest m;
    m.input = "a.csv";
    m.rows = 5;
    m.options = "exec shell=0 command=tool --api-token s3cr3tvalue";
    m.output_sha256 = std::string(64, 'a');
    std::ofstream(ManifestPathFor(f.output)) << m.ToJson();
    f.relative = kEvil;
    f.state = FileState::kFailed;
    f.task = 1;
    f.error = "<img src=x onerror=alert(1)> bad line";
    f.output.clear();
    ASSERT_TRUE((*db)->RecordFile("job-1", f).ok());
    for (int i = 0; i < 2; ++i) {
      TaskRecord t;
      t.index = i;
      t.state = i == 0 ? TaskState::kSucceeded : TaskState::kFailed;
      t.attempts = 1;
      ASSERT_TRUE((*db)->UpsertTask("job-1", t).ok());
    }
    fs::create_directories(JobLogDir(state_, "job-1"));
    std::ofstream(TaskLogPath(state_, "job-1", 1)) << "FAILED <b>evil</b>\n";
    std::ofstream(dir_ / "secret.txt") << "do not serve\n";
    o_.state_dir = state_;
    o_.allowed_hosts = {"localhost", "localhost:8421", "127.0.0.1:8421"};
    o_.csrf = "c5rf-token-0123456789";
  }
  void TearDown() override { fs::remove_all(dir_); }

  HttpResponse Get(const std::string& path, std::map<std::string, std::string> headers = {},
                   std::map<std::string, std::string> query = {}) const {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = std::move(query);
    r.headers = std::move(headers);
    if (!r.headers.count("host")) r.headers["host"] = "localhost:8421";
    return Dashboard(o_).Handle(r);
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  static constexpr const char* kEvil = "<script>alert(1)</script>.csv";
  fs::path dir_;
  std::string state_;
  DashboardOptions o_;
};

TEST_F(DashboardTest, PagesAndApi) {
  auto list = Get("/");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("job-1"), std::string::npos);
  auto page = Get("/jobs/job-1");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<svg class=\"chart\" id=\"timeline\""), std::string::npos);
  EXPECT_NE(page.body.find("id=\"failures\""), std::string::npos);
  auto api = Get("/api/jobs/job-1");
  ASSERT_EQ(api.status, 200);
  auto j = nlohmann::json::parse(api.body);
  EXPECT_EQ(j["files"]["failed"], 1);
  EXPECT_EQ(j["tasks"][1]["log"], "/api/jobs/job-1/tasks/1/log");
  EXPECT_FALSE(j.contains("catalog"));
  auto jobs = nlohmann::json::parse(Get("/api/jobs").body);
  EXPECT_EQ(jobs["jobs"][0]["job"], "job-1");
  auto log = Get("/api/jobs/job-1/tasks/1/log");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(log.body, "FAILED <b>evil</b>\n");
  auto file = Get("/api/jobs/job-1/files", {}, {{"input", "a.csv"}});
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(nlohmann::json::parse(file.body)["manifest"]["rows"], 5);
  auto events = Get("/api/jobs/job-1/events");
  EXPECT_EQ(events.events_job, "job-1");
  auto ev = Dashboard(o_).ProgressEvent("job-1");
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->second);  // finished: the stream ends after one event
  EXPECT_EQ(ev->first.rfind("data: {", 0), 0u);
  EXPECT_EQ(Get("/static/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/jobs/nope").status, 404);
  EXPECT_EQ(Get("/api/jobs/nope").status, 404);
}

TEST_F(DashboardTest, EverythingFromRecordsIsEscaped) {
  for (const char* path : {"/jobs/job-1", "/jobs/job-1/tasks/1/log", "/jobs/job-1/charts"}) {
    auto r = Get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find("<script>alert"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("<img src=x"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("<b>evil"), std::string::npos) << path;
  }
  auto page = Get("/jobs/job-1");
  EXPECT_NE(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;.csv"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // Links carry the name percent-encoded.
  EXPECT_NE(page.body.find("files?input=%3Cscript%3Ealert%281%29%3C%2Fscript%3E.csv"), std::string::npos);
  auto file = Get("/jobs/job-1/files", {}, {{"input", kEvil}});
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body.find("<script>alert"), std::string::npos);
}

TEST_F(DashboardTest, SecretsAreHidden) {
  for (const char* path : {"/jobs/job-1", "/api/jobs/job-1", "/api/jobs", "/"}) {
    auto r = Get(path);
    EXPECT_EQ(r.body.find("s3cr3tvalue"), std::string::npos) << path;
  }
  auto file = Get("/api/jobs/job-1/files", {}, {{"input", "a.csv"}});
  EXPECT_EQ(file.body.find("s3cr3tvalue"), std::string::npos);
  EXPECT_NE(file.body.find("[hidden]"), std::string::npos);
}

TEST_F(DashboardTest, HostHeaderIsChecked) {
  EXPECT_EQ(Get("/", {{"host", "evil.example:8421"}}).status, 403);
  EXPECT_EQ(Get("/", {{"host", ""}}).status, 403);
  EXPECT_EQ(Get("/", {{"host", "LOCALHOST:8421"}}).status, 200);
  EXPECT_EQ(Get("/", {{"host", "10.0.0.5:8421"}}).status, 403);
  o_.any_ip_host = true;  // bound to 0.0.0.0: IP literals, never names
  EXPECT_EQ(Get("/", {{"host", "10.0.0.5:8421"}}).status, 200);
  EXPECT_EQ(Get("/", {{"host", "evil.example:8421"}}).status, 403);
}

TEST_F(DashboardTest, TokenOnEveryRequest) {
  o_.token = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(Get("/").status, 401);
  EXPECT_EQ(Get("/api/jobs").status, 401);
  EXPECT_EQ(Get("/static/app.js").status, 401);
  EXPECT_EQ(Get("/", {{"authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(Get("/", {{"authorization", "Bearer 0123456789abcdef0123456789abcdeX"}}).status, 401);
  EXPECT_EQ(Get("/", {{"authorization", "Bearer " + o_.token}}).status, 200);
  EXPECT_EQ(Get("/api/jobs/job-1", {{"cookie", "a=b; fb_token=" + o_.token}}).status, 200);
  EXPECT_EQ(Get("/", {{"cookie", "fb_token=wrong"}}).status, 401);
  EXPECT_EQ(Get("/", {}, {{"token", "wrong"}}).status, 401);
  auto link = Get("/jobs/job-1", {}, {{"token", o_.token}, {"x", "a b"}});
  EXPECT_EQ(link.status, 303);
  EXPECT_EQ(Header(link, "Location"), "/jobs/job-1?x=a%20b");
  EXPECT_EQ(Header(link, "Set-Cookie"), "fb_token=" + o_.token + "; HttpOnly; SameSite=Strict; Path=/");
}

TEST_F(DashboardTest, NoPathFromARequestReachesTheFileSystem) {
  EXPECT_EQ(Get("/jobs/../secret.txt").status, 400);
  EXPECT_EQ(Get("/jobs/job-1/tasks/../../../secret.txt/log").status, 400);
  EXPECT_EQ(Get("/api/jobs/..").status, 400);
  EXPECT_EQ(Get("/api/jobs/job-1/tasks/1%2F..%2F..%2Fsecret.txt/log").status, 404);
  EXPECT_EQ(Get("/api/jobs/job-1/tasks/-1/log").status, 404);
  EXPECT_EQ(Get("/api/jobs/job-1/tasks/7/log").status, 404);  // no such task
  EXPECT_EQ(Get("/api/jobs/job-1/tasks/0/log").status, 404);  // a task without a log yet
  EXPECT_EQ(Get("/api/jobs/job-1/files", {}, {{"input", "../secret.txt"}}).status, 404);
  EXPECT_EQ(Get("/api/jobs/job-1/files", {}, {{"input", (dir_ / "secret.txt").string()}}).status, 404);
  EXPECT_EQ(Get("/jobs/job%201").status, 404);
  EXPECT_EQ(Get("/jobs/a\\b").status, 400);
  for (const char* p : {"/jobs/../secret.txt", "/api/jobs/job-1/files"}) {
    EXPECT_EQ(Get(p, {}, {{"input", "../secret.txt"}}).body.find("do not serve"), std::string::npos);
  }
}

TEST_F(DashboardTest, SecurityHeaders) {
  auto r = Get("/jobs/job-1");
  EXPECT_NE(Header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Header(Get("/nope", {{"host", "evil"}}), "X-Frame-Options"), "DENY");
}

TEST_F(DashboardTest, ActionsNeedTheFlagACsrfTokenAndTheSameOrigin) {
  auto post = [&](const std::map<std::string, std::string>& form,
                  std::map<std::string, std::string> headers = {}) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/jobs/job-1/resume";
    r.form = form;
    r.headers = std::move(headers);
    r.headers["host"] = "localhost:8421";
    return Dashboard(o_).Handle(r);
  };
  EXPECT_EQ(post({{"csrf", o_.csrf}}).status, 403);  // no --allow-actions
  EXPECT_EQ(Get("/jobs/job-1").body.find("name=\"csrf\""), std::string::npos);
  o_.allow_actions = true;
  o_.self_exe = "/bin/true";  // the command itself is tested end to end (tests/serve)
  EXPECT_NE(Get("/jobs/job-1").body.find("value=\"" + o_.csrf + "\""), std::string::npos);
  EXPECT_EQ(post({}).status, 403);
  EXPECT_EQ(post({{"csrf", "wrong"}}).status, 403);
  EXPECT_EQ(post({{"csrf", o_.csrf}}, {{"origin", "http://evil.example"}}).status, 403);
  EXPECT_EQ(post({{"csrf", o_.csrf}}, {{"origin", "http://localhost:8421"}}).status, 303);
  EXPECT_EQ(post({{"csrf", o_.csrf}}).status, 303);
  HttpRequest get;
  get.method = "GET";
  get.path = "/jobs/job-1/resume";
  get.headers["host"] = "localhost:8421";
  EXPECT_EQ(Dashboard(o_).Handle(get).status, 404);  // actions only by POST
  get.method = "PUT";
  EXPECT_EQ(Dashboard(o_).Handle(get).status, 405);
}

// A job whose record says "running" is live only while its supervisor holds
// the job's lease: killed, it is shown as dead (no live updates, no cancel
// button, a resume one), never as running.
TEST_F(DashboardTest, AJobWhoseSupervisorIsDeadIsNotLive) {
  {
    auto db = JobDb::Open(state_);
    ASSERT_TRUE(db.ok());
    JobRecord j;
    j.id = "job-2";
    j.state = JobState::kRunning;
    j.spec_json = JobSpec().ToJson();
    j.files_total = 2;
    ASSERT_TRUE((*db)->CreateJob(j).ok());
    ASSERT_TRUE((*db)->AddPendingFiles("job-2", {"x.csv", "y.csv"}, {0, 0}).ok());
    FileRecord f;
    f.relative = "x.csv";
    f.state = FileState::kRunning;
    ASSERT_TRUE((*db)->RecordFile("job-2", f).ok());
  }
  o_.allow_actions = true;
  fs::create_directories(state_ + "/leases");
  const std::string lease_path = JobLeasePath(state_, "job-2");
  auto state_of = [&](const std::string& list_path) {
    const auto list = nlohmann::json::parse(Get(list_path).body);  // kept: the loop reads a member of it
    for (const auto& j : list["jobs"]) {
      if (j["job"] == "job-2") return j["state"].get<std::string>();
    }
    return std::string("(missing)");
  };
  {
    // The supervisor (this process) holds the lease: live.
    auto lease = Lease::Acquire(lease_path, "job job-2");
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    auto ev = Dashboard(o_).ProgressEvent("job-2");
    ASSERT_TRUE(ev.ok());
    EXPECT_TRUE(ev->second);
    auto page = Get("/jobs/job-2");
    EXPECT_NE(page.body.find("data-live=\"1\""), std::string::npos);
    EXPECT_NE(page.body.find("id=\"cancel\""), std::string::npos);
    EXPECT_EQ(state_of("/api/jobs"), "running");
  }
  // A supervisor that took the lease and was killed (it never released it).
  const pid_t child = ::fork();
  if (child == 0) {
    auto lease = Lease::Acquire(lease_path, "job job-2");
    ::_exit(lease.ok() ? 0 : 1);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(child, &ws, 0), child);
  ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  auto held = Lease::Read(lease_path);
  ASSERT_TRUE(held.ok() && held->has_value());  // its lease is still there, naming a dead process
  auto ev = Dashboard(o_).ProgressEvent("job-2");
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->second);  // the event stream ends: nothing will change
  EXPECT_NE(ev->first.find("\"state\":\"dead\""), std::string::npos) << ev->first;
  EXPECT_NE(ev->first.find("\"eta_seconds\":null"), std::string::npos) << ev->first;
  auto page = Get("/jobs/job-2");
  EXPECT_NE(page.body.find("data-live=\"0\""), std::string::npos);
  EXPECT_NE(page.body.find("id=\"dead\""), std::string::npos);
  EXPECT_NE(page.body.find("<span class=\"state state-dead\" id=\"state\">dead</span>"), std::string::npos);
  EXPECT_EQ(page.body.find("id=\"cancel\""), std::string::npos);
  EXPECT_NE(page.body.find("id=\"resume\""), std::string::npos);
  EXPECT_EQ(state_of("/api/jobs"), "dead");
  EXPECT_EQ(nlohmann::json::parse(Get("/api/jobs/job-2").body)["progress"]["live"], false);
  EXPECT_NE(Get("/").body.find("state-dead"), std::string::npos);
  // No lease at all (a record from before leases, or a removed one): dead too.
  fs::remove(lease_path);
  EXPECT_EQ(state_of("/api/jobs"), "dead");
}

// Job names come from `run --name` and ids from the records: both escaped
// wherever shown (a record written by another tool may hold any id).
TEST_F(DashboardTest, JobNamesAndIdsFromRecordsAreEscaped) {
  {
    auto db = JobDb::Open(state_);
    ASSERT_TRUE(db.ok());
    JobRecord j;
    j.id = "x\"><script>alert(2)</script>";
    j.name = "<b onmouseover=alert(3)>n</b>";
    j.state = JobState::kSucceeded;
    j.spec_json = "not json";  // unreadable: shown without its fields
    ASSERT_TRUE((*db)->CreateJob(j).ok());
    j.id = "named";
    ASSERT_TRUE((*db)->CreateJob(j).ok());
  }
  auto list = Get("/");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("<script>alert(2)"), std::string::npos);
  EXPECT_NE(list.body.find("x&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(list.body.find("href=\"/jobs/x%22%3E%3Cscript%3Ealert%282%29%3C%2Fscript%3E\""),
            std::string::npos);
  EXPECT_EQ(Get("/jobs/x%22%3E%3Cscript%3Ealert%282%29%3C%2Fscript%3E").status,
            404);  // not a job id in a URL
  auto page = Get("/jobs/named");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<b onmouseover"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;b onmouseover=alert(3)&gt;n&lt;/b&gt;"), std::string::npos);
  auto api = Get("/api/jobs");
  EXPECT_EQ(api.content_type, "application/json");
}

// A job submitted with `submit --estimate`: the list shows the estimate its
// submit record keeps (the engine has the actual); one without shows "-".
TEST_F(DashboardTest, SubmittedJobsShowTheirKeptEstimate) {
  fs::create_directories(state_ + "/submits");
  std::ofstream(state_ + "/submits/with.json")
      << R"({"name": "with", "engine": "slurm", "job_id": "4242", "workers": 3,
             "submitted_at": "2027-01-15T07:00:00Z",
             "estimate": {"made_at": "2027-01-15T06:59:00Z", "files": 30, "workers": 3, "vcpus_per_task": 2,
                          "duration_seconds": 61.5, "vcpu_seconds": 369, "price_per_vcpu_hour": 0.02,
                          "sample": "in/a.csv", "assumptions": []}})";
  std::ofstream(state_ + "/submits/without.json")
      << R"({"name": "without", "engine": "slurm", "job_id": "4243", "workers": 1})";
  auto page = Get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("1m 1.5s, 369.0 reserved vCPU-seconds, cost 0.00205"), std::string::npos)
      << page.body;
  const auto api = nlohmann::json::parse(Get("/api/jobs").body);
  int seen = 0;
  for (const auto& row : api["submitted"]) {
    if (row["name"] == "with") {
      EXPECT_EQ(row["estimate"]["duration_seconds"], 61.5);
      ++seen;
    } else if (row["name"] == "without") {
      EXPECT_TRUE(row["estimate"].is_null());
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace fb::serve
