#include "serve/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <thread>

namespace fb::serve {

HttpServer::HttpServer(Dashboard dashboard)
    : dashboard_(std::move(dashboard)), server_(std::make_unique<httplib::Server>()) {
  server_->set_payload_max_length(64 * 1024);
  server_->set_read_timeout(10, 0);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace(name, v);
    }
    // httplib parses an urlencoded POST body into the same params as the query.
    const bool form = req.method == "POST" &&
                      req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0;
    for (const auto& [k, v] : req.params) {
      (form ? r.form : r.query).emplace(k, v);
    }
    HttpResponse out = dashboard_.Handle(r);
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    if (out.events_job.empty()) {
      res.set_content(out.body, out.content_type);
      return;
    }
    const std::string job = out.events_job;
    res.set_chunked_content_provider("text/event-stream", [this, job](size_t, httplib::DataSink& sink) {
      auto ev = dashboard_.ProgressEvent(job);
      if (!ev.ok()) {
        sink.done();
        return true;
      }
      if (!sink.write(ev->first.data(), ev->first.size())) return false;
      if (!ev->second || stopping_.load()) {
        sink.done();
        return true;
      }
      for (int i = 0; i < 10 && !stopping_.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return sink.is_writable();
    });
  };
  server_->Get(R"(.*)", handler);
  server_->Post(R"(.*)", handler);
  server_->Put(R"(.*)", handler);
  server_->Delete(R"(.*)", handler);
  server_->Patch(R"(.*)", handler);
  server_->Options(R"(.*)", handler);
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Bind(const std::string& host, int port) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (port == 0) {
    const int p = server_->bind_to_any_port(h);
    if (p < 0) return IoError("cannot listen on " + host);
    return p;
  }
  if (!server_->bind_to_port(h, port)) return IoError(fmt::format("cannot listen on {}:{}", host, port));
  return port;
}

Status HttpServer::Listen() {
  if (!server_->listen_after_bind() && !stopping_.load()) return IoError("the server stopped unexpectedly");
  return Status::Ok();
}

void HttpServer::Stop() {
  stopping_.store(true);
  server_->stop();
}

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  auto bad = [&] {
    return InvalidArgument("--listen '" + listen + "': want HOST:PORT, e.g. 127.0.0.1:8421");
  };
  if (colon == std::string::npos) return bad();
  *host = listen.substr(0, colon);
  const std::string p = listen.substr(colon + 1);
  if (host->empty()) *host = "127.0.0.1";
  if (host->find(':') != std::string::npos && !(host->front() == '[' && host->back() == ']')) return bad();
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return bad();
  *port = std::stoi(p);
  if (*port > 65535) return bad();
  return Status::Ok();
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.x.y.z
  int a, b, c, d;
  char tail;
  if (std::sscanf(host.c_str(), "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) == 4) {
    return a == 127 && b >= 0 && b < 256 && c >= 0 && c < 256 && d >= 0 && d < 256;
  }
  return false;
}

}  // namespace fb::serve
