// grist-serve: a grist-train-sgd model as an HTTP service, reloaded when its
// file is replaced.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "grist/cli/app.hpp"
#include "grist/error.hpp"
#include "grist/io/source.hpp"
#include "grist/serve/handler.hpp"
#include "grist/serve/model_holder.hpp"
#include "grist/serve/server.hpp"

using namespace grist;
using namespace grist::serve;

namespace {

// The signals grist-serve answers itself; a handler writes their number
// into a pipe that the main loop reads.
constexpr int kSignals[] = {SIGHUP, SIGINT, SIGTERM};
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

std::string read_token(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, std::string("cannot read the token: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t')) {
    t.pop_back();
  }
  if (t.empty()) throw Error(path, "the token file is empty");
  for (unsigned char c : t) {
    // Never quote the token: it must not reach a log.
    if (c < 0x21 || c > 0x7e) throw Error(path, "the token holds a byte that is not printable ASCII");
  }
  return t;
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t mtime_ns = 0;
  off_t size = -1;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> file_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino, int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                st.st_size};
}

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
      "{\"predictions\":[0.93]}";
  m.see_also = "grist-train-sgd(1), grist-predict(1), curl(1)";
}

}  // namespace

int main(int argc, char** argv) {
  // grist-serve answers SIGHUP, SIGINT and SIGTERM itself; ignored while
  // the common signal cleanup starts, they stay out of its set (it has no
  // temporaries to remove). Those inherited as ignored stay ignored.
  bool inherited_ignored[3];
  for (int i = 0; i < 3; ++i) {
    struct sigaction old {};
    sigaction(kSignals[i], nullptr, &old);
    inherited_ignored[i] = old.sa_handler == SIG_IGN;
    signal(kSignals[i], SIG_IGN);
  }

  cli::CommonSet set;
  set.output = false;
  set.memory = false;
  set.temp_dir = false;
  set.compression = false;
  cli::Tool tool("grist-serve", "Serve a grist-train-sgd model over HTTP", set);
  auto& app = tool.app();
  std::string model_path, token_file;
  bool no_auth = false;
  ServerOptions so;
  ServiceOptions svc;
  unsigned drain_s = 10;
  unsigned poll_ms = 1000;
  uint64_t max_header = so.max_header;
  app.add_option("-i,--model", model_path, "The model file (from grist-train-sgd -f)")
      ->type_name("FILE")
      ->required();
  app.add_option("--listen", so.address, "The address to listen on (default 127.0.0.1)")
      ->type_name("ADDR");
  cli::add_number(app, "-p,--port", so.port, "The TCP port (default 7607; 0: any free one)")
      ->type_name("PORT");
  auto* tf = app.add_option("--token-file", token_file,
                            "Require the bearer token in FILE")
                 ->type_name("FILE");
  app.add_flag("--no-auth", no_auth, "Allow a non-loopback --listen without a token")
      ->excludes(tf);
  cli::add_number(app, "--max-body", svc.max_body,
                  "Largest body, raw or decoded (default 16 MiB)",
                  {.min = 1})
      ->type_name("BYTES");
  cli::add_number(app, "--max-header", max_header,
                  "Largest request line and headers (default 32768)",
                  {.min = 4096, .max = uint64_t(16) << 20})
      ->type_name("BYTES");
  cli::add_number(app, "--max-connections", so.max_connections,
                  "The most open connections (default 256)", {.min = 1, .max = 1000000})
      ->type_name("N");
  cli::add_number(app, "--timeout", so.timeout_s,
                  "Close idle and slow connections (default 30)",
                  {.min = 1, .max = 86400})
      ->type_name("SECONDS");
  cli::add_number(app, "--drain", drain_s,
                  "Wait for requests in flight on SIGTERM (default 10)",
                  {.min = 0, .max = 3600})
      ->type_name("SECONDS");
  cli::add_number(app, "--poll", poll_ms,
                  "Check the model file every MS ms (default 1000)",
                  {.min = 0, .max = 3600000})
      ->type_name("MS");
  set_man(tool.man());

  return tool.run(argc, argv, [&]() -> int {
    const auto& c = tool.common();
    if (!is_loopback(so.address) && token_file.empty() && !no_auth) {
      throw UsageError("--listen " + so.address +
                       " is not a loopback address: give --token-file FILE, or --no-auth to "
                       "serve anyone who can reach it");
    }
    if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw Error(std::string("pipe: ") + std::strerror(errno));
    }
    for (int i = 0; i < 3; ++i) {
      if (inherited_ignored[i]) continue;
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      sa.sa_flags = SA_RESTART;
      sigemptyset(&sa.sa_mask);
      sigaction(kSignals[i], &sa, nullptr);
    }
    set_decoder_memory_limit(kMinDecoderMemory);
    if (!token_file.empty()) svc.token = read_token(token_file);
    so.max_body = svc.max_body;
    so.max_header = static_cast<size_t>(max_header);
    so.threads = c.threads;

    ModelHolder holder(load_model(model_path));
    ServeMetrics metrics;
    Service service(svc, holder, metrics);
    Server server(so, service);
    auto log = [&](const std::string& s) {
      if (!c.quiet) std::fprintf(stderr, "grist-serve: %s\n", s.c_str());
    };
    {
      auto m = holder.get();
      std::string host = so.address.find(':') != std::string::npos ? "[" + so.address + "]"
                                                                   : so.address;
      log("listening on http://" + host + ":" + std::to_string(server.port()) + " (model " +
          m->path + ", hash " + m->hash + ", " + std::to_string(c.threads) + " threads" +
          (svc.token.empty() ? "" : ", bearer token required") + ")");
    }

    std::optional<FileId> refused;  // the last file refused, not retried until it changes
    auto reload = [&](const char* why, bool force) {
      auto id = file_id(model_path);
      if (!force && id && id == refused) return;
      try {
        auto m = load_model(model_path);
        holder.set(m);
        metrics.reload(true);
        refused.reset();
        log(std::string("reloaded ") + model_path + " (" + why + "): hash " + m->hash);
      } catch (const Error& e) {
        metrics.reload(false);
        refused = id;
        tool.warn(std::string("refused the new model (") + why + "): " + e.what() +
                  "; still serving hash " + holder.get()->hash);
      }
    };
    auto last_check = std::chrono::steady_clock::now();
    bool stop = false;
    while (!stop) {
      pollfd p{g_signal_pipe[0], POLLIN, 0};
      int rc = ::poll(&p, 1, poll_ms ? static_cast<int>(poll_ms) : -1);
      if (rc > 0) {
        unsigned char buf[64];
        ssize_t n;
        while ((n = ::read(g_signal_pipe[0], buf, sizeof buf)) > 0) {
          for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == SIGHUP) reload("SIGHUP", true);
            else stop = true;
          }
        }
      }
      if (stop || poll_ms == 0) continue;
      auto now = std::chrono::steady_clock::now();
      if (now - last_check < std::chrono::milliseconds(poll_ms)) continue;
      last_check = now;
      auto id = file_id(model_path);
      auto m = holder.get();
      if (id && !(id->dev == m->dev && id->ino == m->ino && id->mtime_ns == m->mtime_ns &&
                  uint64_t(id->size) == m->file_bytes)) {
        reload("file replaced", false);
      }
    }
    log("stopping: no new connections; draining requests in flight");
    server.quiesce();
    bool drained = server.drain(std::chrono::seconds(drain_s));
    server.stop();
    log(drained ? "stopped" : "stopped: requests still in flight after --drain were cut off");
    return 0;
  });
}
