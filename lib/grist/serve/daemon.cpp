#include "grist/serve/daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "grist/error.hpp"
#include "grist/serve/metrics.hpp"
#include "grist/serve/model_holder.hpp"

namespace grist::serve {

namespace {

constexpr int kSignals[] = {SIGHUP, SIGINT, SIGTERM};
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

// What tells a replaced file from the one loaded.
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
  return FileId{st.st_dev, st.st_ino,
                int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, st.st_size};
}

bool is_loaded(const FileId& id, const LoadedModel& m) {
  return id.dev == m.dev && id.ino == m.ino && id.mtime_ns == m.mtime_ns &&
         uint64_t(id.size) == m.file_bytes;
}

enum class Retry { always, if_changed };

// Serving state of one daemon: the model, its reloads and the signal loop.
class Daemon {
 public:
  Daemon(const DaemonOptions& o, const LogFn& log, const LogFn& warn)
      : o_(o), log_(log), warn_(warn), holder_(load_model(o.model_path)),
        service_(o.service, holder_, metrics_) {}

  int run(int signal_fd) {
    Server server(o_.server, service_);
    announce(server.port());
    auto last_check = std::chrono::steady_clock::now();
    while (!wait_signals(signal_fd)) {
      if (o_.poll_ms == 0) continue;
      auto now = std::chrono::steady_clock::now();
      if (now - last_check < std::chrono::milliseconds(o_.poll_ms)) continue;
      last_check = now;
      auto id = file_id(o_.model_path);
      if (id && !is_loaded(*id, *holder_.get())) reload("file replaced", Retry::if_changed);
    }
    log_("stopping: no new connections; draining requests in flight");
    server.quiesce();
    bool drained = server.drain(std::chrono::seconds(o_.drain_s));
    server.stop();
    log_(drained ? "stopped" : "stopped: requests still in flight after --drain were cut off");
    return 0;
  }

 private:
  void announce(uint16_t port) {
    auto m = holder_.get();
    const std::string& a = o_.server.address;
    std::string host = a.find(':') != std::string::npos ? "[" + a + "]" : a;
    log_("listening on http://" + host + ":" + std::to_string(port) + " (model " + m->path +
         ", hash " + m->hash + ", " + std::to_string(o_.server.threads) + " threads" +
         (o_.service.token.empty() ? "" : ", bearer token required") + ")");
  }

  // Waits for a signal or the next poll; reloads on SIGHUP. True once
  // SIGTERM or SIGINT came.
  bool wait_signals(int fd) {
    pollfd p{fd, POLLIN, 0};
    int timeout = o_.poll_ms ? static_cast<int>(o_.poll_ms) : -1;
    if (::poll(&p, 1, timeout) <= 0) return false;
    bool stop = false;
    unsigned char buf[64];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == SIGHUP) {
          reload("SIGHUP", Retry::always);
        } else {
          stop = true;
        }
      }
    }
    return stop;
  }

  void reload(const char* why, Retry retry) {
    auto id = file_id(o_.model_path);
    if (retry == Retry::if_changed && id && id == refused_) return;
    try {
      auto m = load_model(o_.model_path);
      holder_.set(m);
      metrics_.reload(ReloadOutcome::loaded);
      refused_.reset();
      log_(std::string("reloaded ") + o_.model_path + " (" + why + "): hash " + m->hash);
    } catch (const Error& e) {
      metrics_.reload(ReloadOutcome::refused);
      refused_ = id;
      warn_(std::string("refused the new model (") + why + "): " + e.what() +
            "; still serving hash " + holder_.get()->hash);
    }
  }

  const DaemonOptions& o_;
  const LogFn& log_;
  const LogFn& warn_;
  ModelHolder holder_;
  ServeMetrics metrics_;
  Service service_;
  std::optional<FileId> refused_;  // the last file refused, not retried until it changes
};

}  // namespace

ServiceSignals::ServiceSignals() {
  for (int i = 0; i < 3; ++i) {
    struct sigaction old {};
    sigaction(kSignals[i], nullptr, &old);
    inherited_ignored_[i] = old.sa_handler == SIG_IGN;
    signal(kSignals[i], SIG_IGN);
  }
}

void ServiceSignals::install() {
  if (g_signal_pipe[0] < 0 && ::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw Error(std::string("pipe: ") + std::strerror(errno));
  }
  for (int i = 0; i < 3; ++i) {
    if (inherited_ignored_[i]) continue;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[i], &sa, nullptr);
  }
}

int ServiceSignals::fd() const { return g_signal_pipe[0]; }

std::string read_token(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, std::string("cannot read the token: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() &&
         (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t')) {
    t.pop_back();
  }
  if (t.empty()) throw Error(path, "the token file is empty");
  for (unsigned char c : t) {
    // Never quote the token: it must not reach a log.
    if (c < 0x21 || c > 0x7e) {
      throw Error(path, "the token holds a byte that is not printable ASCII");
    }
  }
  return t;
}

int run_daemon(const DaemonOptions& o, const ServiceSignals& signals, const LogFn& log,
               const LogFn& warn) {
  Daemon d(o, log, warn);
  return d.run(signals.fd());
}

}  // namespace grist::serve
