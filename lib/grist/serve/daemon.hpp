// The life of a grist-serve process around its Server: signals, reloading
// the model when its file is replaced, and the drain at the end.
//
//   grist::serve::ServiceSignals signals;        // first thing in main
//   ... parse options ...
//   signals.install();
//   return grist::serve::run_daemon(opts, log, warn);
//
// SIGHUP reloads; SIGTERM and SIGINT stop accepting, drain the requests in
// flight (at most drain_s seconds) and return 0. A reload reads and checks
// the new file off the request path, then swaps it in; a refused file is
// logged, counted, and not retried until it changes again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "grist/serve/handler.hpp"
#include "grist/serve/server.hpp"

namespace grist::serve {

// SIGHUP, SIGINT and SIGTERM, answered by the daemon itself. The
// constructor sets them ignored (so that the common signal cleanup, started
// later by cli::Tool::run, leaves them alone: grist-serve has no
// temporaries) and remembers which were inherited ignored: those stay so.
class ServiceSignals {
 public:
  ServiceSignals();
  ServiceSignals(const ServiceSignals&) = delete;
  ServiceSignals& operator=(const ServiceSignals&) = delete;
  // Installs the handlers, which write the signal's number into a pipe.
  void install();
  // The pipe's read end (non-blocking).
  int fd() const;

 private:
  bool inherited_ignored_[3];
};

// The bearer token in `path`, trailing blanks removed. Throws grist::Error
// naming the file (never quoting the token) when it cannot be read, is
// empty or holds anything but printable ASCII.
std::string read_token(const std::string& path);

struct DaemonOptions {
  std::string model_path;
  ServerOptions server;
  ServiceOptions service;
  unsigned drain_s = 10;    // the bound of the drain
  unsigned poll_ms = 1000;  // how often the model's file is checked (0: never)
};

using LogFn = std::function<void(const std::string&)>;

// Loads the model, serves until SIGTERM or SIGINT (from `signals`), and
// returns 0 once drained. `log` gets the progress lines, `warn` the refused
// reloads. Throws grist::Error when the first model cannot be loaded or the
// address cannot be bound.
int run_daemon(const DaemonOptions& o, const ServiceSignals& signals, const LogFn& log,
               const LogFn& warn);

}  // namespace grist::serve
