// grist-serve: a grist-train-sgd model as an HTTP service, reloaded when its
// file is replaced.
#include <cstdio>
#include <string>

#include "grist/cli/app.hpp"
#include "grist/error.hpp"
#include "grist/io/source.hpp"
#include "grist/serve/daemon.hpp"

using namespace grist;
using namespace grist::serve;

namespace {

void set_man(cli::ManText& m) {
  m.synopsis = "-i MODEL [OPTION]...";
  m.description =
      "grist-serve answers HTTP/1.1 requests (keep-alive) with the predictions of a "
      "grist-train-sgd model, and replaces the model when its file is replaced.\n\n"
      "POST /v1/predict takes examples one per line in the model's own format (labels "
      "optional), plain or compressed with gzip or zstd (Content-Encoding: gzip or zstd), and "
      "answers byte for byte what grist-predict writes for the same lines (one line per line; "
      "an empty line for a blank one). With Content-Type: application/json and a body "
      "{\"instances\": [\"LINE\", ...]} (the shape of TensorFlow Serving's REST API) it answers "
      "{\"predictions\": [...]}: one JSON number per instance, the first word grist-predict "
      "would write (a probability, a class or a score), or null for an instance without an "
      "example. A malformed example is a 400 whose body names its line (\"line 3: ...\", "
      "\"instances[2]: ...\"); nothing is skipped.\n\n"
      "The query string chooses what a prediction shows, as grist-predict's options do "
      "(see grist-predict(1)): output=prob, label or score (--output-type), top_k=K "
      "(--top-k) and threshold=T (--threshold), e.g. POST /v1/predict?output=label&"
      "threshold=0.9; the answer is byte for byte grist-predict's with those options. A JSON "
      "answer holds numbers, or with output=label the class names as JSON strings; top_k "
      "answers are text only. A value that does not fit the model (output=prob for a hinge "
      "model, threshold for --oaa), is not a value, or a parameter that is none of these is a "
      "400 whose body says which.\n\n"
      "GET /healthz answers 200 while the process runs; GET /readyz 200 once a model is "
      "loaded; GET /metrics the Prometheus text format (requests by endpoint and status, "
      "examples, a latency histogram of /v1/predict, reloads and refused reloads, open "
      "connections, the model's hash and load time); GET /v1/model the model's file, hash, "
      "size, load time, input format and options as JSON. Every response carries the header "
      "X-Grist-Model: the XXH3-64 hash (16 hex digits) of the model file that answered it. "
      "No path serves files.\n\n"
      "Reloading: on SIGHUP, and when the model file is replaced (its path is checked every "
      "--poll milliseconds, never with --poll 0: another inode, size or modification time), the new file is read, "
      "checked whole and loaded on the main thread, off the request path, then swapped in at "
      "once: a request answered meanwhile is answered whole by the old model. A file that is "
      "not a good model is refused with a message, counted in "
      "grist_serve_reload_failures_total, and the old model keeps serving. Replace the file "
      "by renaming a complete one over it, as every grist program writes its outputs.\n\n"
      "Safety: grist-serve listens on 127.0.0.1 unless --listen says otherwise; any other "
      "address needs --token-file (then every path but /healthz and /readyz needs the header "
      "\"Authorization: Bearer TOKEN\", compared in constant time, else 401) or an explicit "
      "--no-auth. The token is never printed. A request body larger than --max-body (before or "
      "after decompression) is refused with 413 or its connection closed; request line and "
      "headers larger than --max-header get 431 or a closed connection; past "
      "--max-connections new connections are closed; a connection idle for --timeout seconds, "
      "or a body still arriving after it, is closed. grist-serve speaks plain HTTP: put a "
      "TLS-terminating proxy in front of it for anything but loopback.\n\n"
      "-j sets the worker threads (each with its own epoll loop), which share one model "
      "read-only; each request is scored on one thread.\n\n"
      "Signals: SIGHUP reloads the model. SIGTERM and SIGINT stop accepting connections, let "
      "the requests in flight finish (at most --drain seconds) and exit 0. A signal inherited "
      "as ignored stays ignored.";
  m.notes =
      "Exit status: 0 after SIGTERM or SIGINT; 1 when the model cannot be loaded at start or "
      "the address cannot be bound; 2 for a usage error (a non-loopback --listen without "
      "--token-file or --no-auth included).\n\n"
      "contrib/systemd/grist-serve.service is a sandboxed unit; docs/serve.md shows a TLS "
      "proxy in front.";
  m.examples =
      "$ grist-serve -i spam.gsgd\n"
      "Serve on 127.0.0.1:7607.\n"
      "$ curl --data-binary @mails.txt localhost:7607/v1/predict\n"
      "One prediction per line of mails.txt.\n"
      "$ curl -H 'Content-Type: application/json' -d '{\"instances\": [\"cheap pills now\"]}' "
      "localhost:7607/v1/predict\n"
      "{\"predictions\":[0.93]}\n"
      "$ curl --data-binary @mails.txt 'localhost:7607/v1/predict?output=label&threshold=0.9'\n"
      "The class of each mail, positive only from a probability of 0.9.";
  m.see_also = "grist-train-sgd(1), grist-predict(1), curl(1)";
}

struct Options {
  DaemonOptions daemon;
  std::string token_file;
  bool no_auth = false;
  uint64_t max_header = ServerOptions{}.max_header;
};

void add_options(CLI::App& app, Options& o) {
  ServerOptions& so = o.daemon.server;
  app.add_option("-i,--model", o.daemon.model_path, "The model file (from grist-train-sgd -f)")
      ->type_name("FILE")
      ->required();
  app.add_option("--listen", so.address, "The address to listen on (default 127.0.0.1)")
      ->type_name("ADDR");
  cli::add_number(app, "-p,--port", so.port, "The TCP port (default 7607; 0: any free one)")
      ->type_name("PORT");
  auto* tf = app.add_option("--token-file", o.token_file, "Require the bearer token in FILE")
                 ->type_name("FILE");
  app.add_flag("--no-auth", o.no_auth, "Allow a non-loopback --listen without a token")
      ->excludes(tf);
  cli::add_number(app, "--max-body", o.daemon.service.max_body,
                  "Largest body, raw or decoded (default 16 MiB)", {.min = 1})
      ->type_name("BYTES");
  cli::add_number(app, "--max-header", o.max_header,
                  "Largest request line and headers (default 32768)",
                  {.min = 4096, .max = uint64_t(16) << 20})
      ->type_name("BYTES");
  cli::add_number(app, "--max-connections", so.max_connections,
                  "The most open connections (default 256)", {.min = 1, .max = 1000000})
      ->type_name("N");
  cli::add_number(app, "--timeout", so.timeout_s, "Close idle and slow connections (default 30)",
                  {.min = 1, .max = 86400})
      ->type_name("SECONDS");
  cli::add_number(app, "--drain", o.daemon.drain_s,
                  "Wait for requests in flight on SIGTERM (default 10)", {.min = 0, .max = 3600})
      ->type_name("SECONDS");
  cli::add_number(app, "--poll", o.daemon.poll_ms,
                  "Check the model file every MS ms (default 1000)", {.min = 0, .max = 3600000})
      ->type_name("MS");
}

int serve_model(const cli::Tool& tool, Options& o, ServiceSignals& signals) {
  const auto& c = tool.common();
  DaemonOptions& d = o.daemon;
  if (!is_loopback(d.server.address) && o.token_file.empty() && !o.no_auth) {
    throw UsageError("--listen " + d.server.address +
                     " is not a loopback address: give --token-file FILE, or --no-auth to "
                     "serve anyone who can reach it");
  }
  signals.install();
  set_decoder_memory_limit(kMinDecoderMemory);
  if (!o.token_file.empty()) d.service.token = read_token(o.token_file);
  d.server.max_body = d.service.max_body;
  d.server.max_header = static_cast<size_t>(o.max_header);
  d.server.threads = c.threads;
  auto log = [&](const std::string& s) {
    if (!c.quiet) std::fprintf(stderr, "grist-serve: %s\n", s.c_str());
  };
  auto warn = [&](const std::string& s) { tool.warn(s); };
  return run_daemon(d, signals, log, warn);
}

}  // namespace

int main(int argc, char** argv) {
  ServiceSignals signals;  // before the common signal cleanup starts (daemon.hpp)
  cli::CommonSet set;
  set.output = false;
  set.memory = false;
  set.temp_dir = false;
  set.compression = false;
  cli::Tool tool("grist-serve", "Serve a grist-train-sgd model over HTTP", set);
  Options o;
  add_options(tool.app(), o);
  set_man(tool.man());
  return tool.run(argc, argv, [&] { return serve_model(tool, o, signals); });
}
