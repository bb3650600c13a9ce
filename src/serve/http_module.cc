// forestbatch-http.so: the dashboard's HTTP server on Debian's cpp-httplib
// (serve/http_module.h says why it is a module of its own).
#include "serve/http_module.h"

#include <httplib.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <thread>

namespace {

using fb::serve::HttpHandlers;
using fb::serve::HttpRequest;
using fb::serve::HttpResponse;

struct Server {
  explicit Server(const HttpHandlers* h) : handlers(h) {
    server.set_payload_max_length(64 * 1024);
    server.set_read_timeout(10, 0);
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
      const bool form =
          req.method == "POST" &&
          req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0;
      for (const auto& [k, v] : req.params) {
        (form ? r.form : r.query).emplace(k, v);
      }
      HttpResponse out = handlers->handle(r);
      res.status = out.status;
      for (const auto& [k, v] : out.headers) res.set_header(k, v);
      if (out.events_job.empty()) {
        res.set_content(out.body, out.content_type);
        return;
      }
      const std::string job = out.events_job;
      res.set_chunked_content_provider("text/event-stream", [this, job](size_t, httplib::DataSink& sink) {
        std::string event;
        bool live = false;
        if (!handlers->progress(job, &event, &live)) {
          sink.done();
          return true;
        }
        if (!sink.write(event.data(), event.size())) return false;
        if (!live || stopping()) {
          sink.done();
          return true;
        }
        for (int i = 0; i < 10 && !stopping(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return sink.is_writable();
      });
    };
    server.Get(R"(.*)", handler);
    server.Post(R"(.*)", handler);
    server.Put(R"(.*)", handler);
    server.Delete(R"(.*)", handler);
    server.Patch(R"(.*)", handler);
    server.Options(R"(.*)", handler);
  }
  bool stopping() const { return handlers->stopping != nullptr && handlers->stopping->load(); }

  const HttpHandlers* handlers;
  httplib::Server server;
};

void* Create(const HttpHandlers* handlers) { return new Server(handlers); }
void Destroy(void* s) { delete static_cast<Server*>(s); }
int Bind(void* s, const char* host, int port) {
  httplib::Server& server = static_cast<Server*>(s)->server;
  if (port == 0) return server.bind_to_any_port(host);
  return server.bind_to_port(host, port) ? port : -1;
}
int Listen(void* s) { return static_cast<Server*>(s)->server.listen_after_bind() ? 1 : 0; }
void Stop(void* s) { static_cast<Server*>(s)->server.stop(); }

const FbHttpModule kModule = {FB_HTTP_MODULE_ABI, Create, Destroy, Bind, Listen, Stop};

}  // namespace

extern "C" const FbHttpModule* forestbatch_http_module() { return &kModule; }
