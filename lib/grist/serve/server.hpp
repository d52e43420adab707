// grist-serve's HTTP server: libmicrohttpd (its parser, its epoll loop and
// thread pool) in front of a Service (handler.hpp). No HTTP is parsed here.
//
//   grist::serve::Server server(opts, service);   // listening
//   ... server.port() ...
//   server.quiesce();                    // no new connections
//   server.drain(std::chrono::seconds(10));   // in-flight requests finish
//   server.stop();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "grist/serve/handler.hpp"

struct MHD_Daemon;

namespace grist::serve {

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 address
  uint16_t port = 7607;                // 0: any free port (see port())
  int threads = 1;                     // worker threads, each with its own epoll
  unsigned max_connections = 256;      // more are closed at once
  unsigned timeout_s = 30;             // idle connection, and whole request
  size_t max_header = 32 << 10;        // request line + headers (+ read buffer)
  uint64_t max_body = uint64_t(16) << 20;  // raw body bytes
};

// Whether `address` is a loopback address (127.0.0.0/8, ::1). Throws
// grist::UsageError when it is not an IPv4 or IPv6 address.
bool is_loopback(const std::string& address);

class Server {
 public:
  // Starts listening and answering. Throws grist::Error when the address
  // cannot be bound (in use, not this machine's).
  Server(const ServerOptions& o, const Service& service);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  // Stops accepting connections (the listening socket is closed);
  // responses from now on carry "Connection: close".
  void quiesce();
  // Waits until no request is being received or answered, at most `bound`.
  // Returns whether none is.
  bool drain(std::chrono::milliseconds bound);
  // Closes every connection and joins the threads.
  void stop();

  // Internal (libmicrohttpd callbacks).
  struct Impl;

 private:
  Impl* impl_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace grist::serve
