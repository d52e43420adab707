#include "grist/serve/server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

#include <strings.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "grist/error.hpp"

namespace grist::serve {

struct Server::Impl {
  const Service& service;
  ServerOptions o;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> draining{false};
};

namespace {

using Clock = std::chrono::steady_clock;

struct RequestContext {
  std::string body;
  Clock::time_point start;
};

std::optional<std::string_view> header(MHD_Connection* c, const char* name) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
  if (!v) return std::nullopt;
  return std::string_view(v);
}

MHD_Result send(Server::Impl& s, MHD_Connection* c, const Response& r) {
  MHD_Response* m = MHD_create_response_from_buffer(
      r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
  if (!m) return MHD_NO;
  MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  if (!r.model_hash.empty()) MHD_add_response_header(m, kModelHeader, r.model_hash.c_str());
  for (const auto& [k, v] : r.headers) MHD_add_response_header(m, k.c_str(), v.c_str());
  if (s.draining.load(std::memory_order_relaxed)) {
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
  }
  MHD_Result ret = MHD_queue_response(c, static_cast<unsigned>(r.status), m);
  MHD_destroy_response(m);
  return ret;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char* /*version*/, const char* upload, size_t* upload_size,
                      void** con_cls) {
  auto& s = *static_cast<Server::Impl*>(cls);
  auto* ctx = static_cast<RequestContext*>(*con_cls);
  if (!ctx) {
    ctx = new (std::nothrow) RequestContext;
    if (!ctx) return MHD_NO;
    ctx->start = Clock::now();
    *con_cls = ctx;
    s.in_flight.fetch_add(1, std::memory_order_relaxed);
    // Two Content-Length headers, or one with chunked encoding, read one
    // way here and another by a proxy in front: refused (RFC 9112 6.3),
    // which libmicrohttpd 0.9 does not do itself.
    int lengths = 0;
    bool chunked = false;
    MHD_get_connection_values(
        c, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char*) -> MHD_Result {
          if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) ++*static_cast<int*>(cls);
          return MHD_YES;
        },
        &lengths);
    if (header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING)) chunked = true;
    if (lengths > 1 || (lengths == 1 && chunked)) {
      Response r;
      r.status = 400;
      r.body = lengths > 1 ? "more than one Content-Length\n"
                           : "both Content-Length and Transfer-Encoding\n";
      r.headers.emplace_back(MHD_HTTP_HEADER_CONNECTION, "close");
      s.service.metrics().request(Endpoint::other, 400, 0);
      return send(s, c, r);
    }
    // A body announced larger than the limit is refused before it is read
    // (libmicrohttpd then closes the connection rather than read it).
    if (auto cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
      uint64_t n = 0;
      bool digits = !cl->empty();
      for (char ch : *cl) {
        if (ch < '0' || ch > '9' || n > (UINT64_MAX - 9) / 10) { digits = false; break; }
        n = n * 10 + static_cast<uint64_t>(ch - '0');
      }
      if (digits && n > s.o.max_body) {
        Response r;
        r.status = 413;
        r.body = "the body is larger than the limit (--max-body " + std::to_string(s.o.max_body) +
                 " bytes)\n";
        if (auto m = s.service.models().get()) r.model_hash = m->hash;
        s.service.metrics().request(Endpoint::predict, 413, 0);
        return send(s, c, r);
      }
    }
    return MHD_YES;
  }
  if (*upload_size) {
    // A body that comes too slowly, or grows past the limit (chunked: no
    // Content-Length to refuse it by), ends the connection.
    if (Clock::now() - ctx->start > std::chrono::seconds(s.o.timeout_s)) return MHD_NO;
    if (ctx->body.size() + *upload_size > s.o.max_body) return MHD_NO;
    ctx->body.append(upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  Request req;
  req.method = method;
  req.path = url;
  req.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
  req.content_encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
  req.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
  req.body = ctx->body;
  MHD_get_connection_values(
      c, MHD_GET_ARGUMENT_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
        static_cast<Request*>(cls)->query.emplace_back(key, value ? value : "");
        return MHD_YES;
      },
      &req);
  Response r = s.service.handle(req);
  return send(s, c, r);
}

void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  auto& s = *static_cast<Server::Impl*>(cls);
  auto* ctx = static_cast<RequestContext*>(*con_cls);
  if (!ctx) return;
  delete ctx;
  *con_cls = nullptr;
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void on_connection(void* cls, MHD_Connection*, void**, MHD_ConnectionNotificationCode code) {
  auto& s = *static_cast<Server::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) s.service.metrics().connection_opened();
  else s.service.metrics().connection_closed();
}

}  // namespace

bool is_loopback(const std::string& address) {
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, address.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, address.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  throw UsageError("invalid argument '" + address +
                   "' for '--listen': expected an IPv4 or IPv6 address");
}

Server::Server(const ServerOptions& o, const Service& service)
    : impl_(new Impl{service, o}) {
  sockaddr_in a4{};
  sockaddr_in6 a6{};
  const sockaddr* addr;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO;
  if (inet_pton(AF_INET, o.address.c_str(), &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(o.port);
    addr = reinterpret_cast<const sockaddr*>(&a4);
  } else if (inet_pton(AF_INET6, o.address.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(o.port);
    addr = reinterpret_cast<const sockaddr*>(&a6);
    flags |= MHD_USE_IPv6;
  } else {
    delete impl_;
    throw UsageError("invalid argument '" + o.address + "' for '--listen': expected an IPv4 or IPv6 address");
  }
  errno = 0;
  daemon_ = MHD_start_daemon(
      flags, o.port, nullptr, nullptr, &on_request, impl_,
      MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(o.threads > 1 ? o.threads : 0),
      MHD_OPTION_CONNECTION_LIMIT, o.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, o.timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, o.max_header,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, impl_,
      MHD_OPTION_NOTIFY_CONNECTION, &on_connection, impl_,
      MHD_OPTION_END);
  if (!daemon_) {
    int e = errno;
    delete impl_;
    throw Error(o.address + ":" + std::to_string(o.port),
                std::string("cannot listen") + (e ? std::string(": ") + std::strerror(e) : ""));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : o.port;
}

Server::~Server() {
  stop();
  delete impl_;
}

void Server::quiesce() {
  if (!daemon_ || impl_->draining.exchange(true)) return;
  MHD_socket fd = MHD_quiesce_daemon(daemon_);
  if (fd != MHD_INVALID_SOCKET) ::close(fd);
}

bool Server::drain(std::chrono::milliseconds bound) {
  auto end = Clock::now() + bound;
  while (impl_->in_flight.load(std::memory_order_relaxed) > 0) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void Server::stop() {
  if (daemon_) MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

}  // namespace grist::serve
