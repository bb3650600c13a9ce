#include "serve/http_server.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace fb::serve {

HttpServer::HttpServer(Dashboard dashboard) : dashboard_(std::move(dashboard)) {
  handlers_.handle = [this](const HttpRequest& r) { return dashboard_.Handle(r); };
  handlers_.progress = [this](const std::string& job, std::string* event, bool* live) {
    auto ev = dashboard_.ProgressEvent(job);
    if (!ev.ok()) return false;
    *event = std::move(ev->first);
    *live = ev->second;
    return true;
  };
  handlers_.stopping = &stopping_;
}

HttpServer::~HttpServer() {
  // The module stays loaded: nothing of it is called after this.
  if (server_ != nullptr) module_->destroy(server_);
}

std::string HttpModulePath() {
  if (const char* p = std::getenv("FORESTBATCH_HTTP_MODULE"); p != nullptr && *p != '\0') return p;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path(".") : exe.parent_path()) / "forestbatch-http.so").string();
}

Result<int> HttpServer::Bind(const std::string& host, int port) {
  if (server_ == nullptr) {
    const std::string path = HttpModulePath();
    void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      return Unsupported(std::string("serve needs its HTTP module, forestbatch-http.so, beside the binary "
                                     "(make build puts it there; the deploy image has it): ") +
                         (why ? why : "cannot load it"))
          .At(path);
    }
    using Entry = const FbHttpModule* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(lib, "forestbatch_http_module"));
    module_ = entry != nullptr ? entry() : nullptr;
    if (module_ == nullptr || module_->abi != FB_HTTP_MODULE_ABI) {
      module_ = nullptr;
      return Unsupported("not forestbatch's HTTP module, or one of another version").At(path);
    }
    server_ = module_->create(&handlers_);
  }
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const int p = module_->bind(server_, h.c_str(), port);
  if (p < 0) {
    if (port == 0) return IoError("cannot listen on " + host);
    return IoError(fmt::format("cannot listen on {}:{}", host, port));
  }
  return p;
}

Status HttpServer::Listen() {
  if (server_ == nullptr) return Internal("Listen before Bind");
  if (!module_->listen(server_) && !stopping_.load()) return IoError("the server stopped unexpectedly");
  return Status::Ok();
}

void HttpServer::Stop() {
  stopping_.store(true);
  if (server_ != nullptr) module_->stop(server_);
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
