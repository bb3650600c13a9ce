// `forestbatch serve`: the web dashboard over a state folder's job records
// (serve/dashboard.h, docs/serve.md).
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "cli/run_options.h"
#include "serve/dashboard.h"
#include "serve/http_server.h"

namespace fb::cli {
namespace {

struct ServeFlags {
  std::string state = ".forestbatch";
  std::string listen = "127.0.0.1:8421";
  std::string token;
  bool generate_token = false;
  bool allow_actions = false;
  std::vector<std::string> allow_hosts;
  std::string price_text;
};

std::string SelfExe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

int Serve(const ServeFlags& f) {
  std::string host;
  int port = 0;
  if (Status s = serve::ParseListen(f.listen, &host, &port); !s.ok()) return ReportError(s);
  auto price = PriceFrom(f.price_text);
  if (!price.ok()) return ReportError(price.status());
  if (::access(f.state.c_str(), F_OK) != 0) return ReportError(NotFound("no state folder " + f.state));
  // The dashboard only reads (JobDb::OpenReadOnly), so it never races a
  // starting job for the database's write lock.

  serve::DashboardOptions o;
  o.state_dir = f.state;
  o.self_exe = SelfExe();
  o.allow_actions = f.allow_actions;
  o.price_per_vcpu_hour = *price;
  o.token = f.token;
  const bool loopback = serve::IsLoopback(host);
  if (o.token.empty() && (!loopback || f.generate_token)) {
    auto t = serve::RandomToken();
    if (!t.ok()) return ReportError(t.status());
    o.token = *t;
  }
  if (!o.token.empty() && o.token.size() < 16)
    return ReportError(InvalidArgument("--token: use at least 16 characters"));
  auto csrf = serve::RandomToken();
  if (!csrf.ok()) return ReportError(csrf.status());
  o.csrf = *csrf;

  serve::HttpServer server{serve::Dashboard(o)};
  auto bound = server.Bind(host, port);
  if (!bound.ok()) return ReportError(bound.status());
  // The Host header values a browser sends for this server.
  std::vector<std::string> hosts = {"localhost", "127.0.0.1", "[::1]"};
  const bool wildcard = host == "0.0.0.0" || host == "[::]";
  if (!wildcard) hosts.push_back(host);
  for (const auto& h : f.allow_hosts) hosts.push_back(h);
  std::vector<std::string> allowed;
  for (auto h : hosts) {
    for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    allowed.push_back(h);
    allowed.push_back(fmt::format("{}:{}", h, *bound));
  }
  server.dashboard().mutable_options().allowed_hosts = allowed;
  server.dashboard().mutable_options().any_ip_host = wildcard;

  const std::string shown = wildcard ? "127.0.0.1" : host;
  std::string url = fmt::format("http://{}:{}/", shown, *bound);
  if (!o.token.empty()) url += "?token=" + o.token;
  fmt::print("forestbatch serve: jobs of {} at {}\n", f.state, url);
  if (!o.token.empty() && f.token.empty()) fmt::print("token (generated): {}\n", o.token);
  if (!loopback)
    fmt::print("listening on {} (not only this machine): every request needs the token\n", f.listen);
  if (f.allow_actions) fmt::print("cancel and resume buttons are on (--allow-actions)\n");
  std::fflush(stdout);

  InstallStopHandlers();
  std::thread watcher([&server] {
    while (!g_stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.Stop();
  });
  Status s = server.Listen();
  g_stop_requested.store(true);
  watcher.join();
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

CommandSpec ServeCommand() {
  return {"serve", "a web dashboard of the jobs in a state folder (docs/serve.md)", [](CLI::App* sub) {
            auto f = std::make_shared<ServeFlags>();
            sub->add_option("--state", f->state, "job records folder (default ./.forestbatch)");
            sub->add_option("--listen", f->listen,
                            "HOST:PORT to listen on (default 127.0.0.1:8421; port 0: any)");
            sub->add_option("--token", f->token,
                            "a secret every request must carry (required, or generated, off loopback)");
            sub->add_flag("--generate-token", f->generate_token, "require a generated token on loopback too");
            sub->add_flag("--allow-actions", f->allow_actions, "show cancel and resume buttons");
            sub->add_option("--allow-host", f->allow_hosts,
                            "another name this server is reached by (Host header; repeatable)")
                ->expected(1)
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            AddPriceFlag(sub, &f->price_text);
            return std::function<int()>([f] { return Serve(*f); });
          }};
}

}  // namespace fb::cli
