// Dashboard: the web pages and JSON API of `forestbatch serve`, as a pure
// request -> response function over a state folder's job records, so that
// routing and every security rule are tested without a socket
// (serve/http_server.h puts it on one).
//
// Security (docs/serve.md): every request passes the Host check (against DNS
// rebinding) and, when a token is set, the token check (Authorization:
// Bearer, the fb_token cookie, or ?token= once, which sets the cookie and
// redirects to the same URL without it). Nothing in a URL names a file: logs
// and manifests are found by job id, task index and input name through the
// job database. POSTs (cancel, resume) exist only with allow_actions and need
// the CSRF token of the page and a same-origin Origin when one is sent. All
// text from records is HTML-escaped; recorded options have secrets hidden.
//
// Thread safety: Handle may be called from many threads at once (each call
// opens its own database connection).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fb::serve {

struct DashboardOptions {
  std::string state_dir = ".forestbatch";
  std::string self_exe = "/proc/self/exe";  // for cancel and resume
  std::string token;                        // empty: none required
  std::string csrf;                         // the CSRF token of this server's pages
  bool allow_actions = false;
  std::optional<double> price_per_vcpu_hour;
  // Host header values accepted (lower case, with and without the port);
  // empty with `any_ip_host`: any IP literal.
  std::vector<std::string> allowed_hosts;
  bool any_ip_host = false;
};

struct HttpRequest {
  std::string method;                          // GET, POST, ...
  std::string path;                            // percent-decoded
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower case
  std::map<std::string, std::string> form;     // decoded POST form fields
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string events_job;  // non-empty: stream server-sent events of this job (body unused)
};

class Dashboard {
 public:
  explicit Dashboard(DashboardOptions o) : o_(std::move(o)) {}
  HttpResponse Handle(const HttpRequest& request) const;

  // One server-sent event ("data: {...}\n\n") with the job's progress, and
  // whether the job is still live. NotFound for an unknown job.
  Result<std::pair<std::string, bool>> ProgressEvent(const std::string& job) const;

  const DashboardOptions& options() const { return o_; }
  // Before serving only (e.g. the Host names once the port is known).
  DashboardOptions& mutable_options() { return o_; }

 private:
  HttpResponse Route(const HttpRequest& r) const;
  HttpResponse JobList(bool json) const;
  HttpResponse JobPage(const std::string& id) const;
  HttpResponse JobJson(const std::string& id) const;
  HttpResponse Charts(const std::string& id) const;
  HttpResponse TaskLog(const std::string& id, const std::string& task, bool json) const;
  HttpResponse FilePage(const std::string& id, const std::string& input, bool json) const;
  HttpResponse Action(const HttpRequest& r, const std::string& id, const std::string& action) const;
  DashboardOptions o_;
};

// Constant-time comparison of two secrets.
bool SameSecret(const std::string& a, const std::string& b);

// 32 random bytes from the kernel, hex.
Result<std::string> RandomToken();

}  // namespace fb::serve
