#include "grist/io/cleanup.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/test_hook.hpp"

namespace grist {

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::set<std::string>& registry() {
  static std::set<std::string> s;
  return s;
}

std::atomic<bool> g_cleanup_installed{false};
sigset_t g_caught;                      // the cleanup thread's signals
std::atomic<bool> g_pipe_caught{false};  // SIGPIPE among them
std::string g_program = "grist";

// Every signal whose default action ends the process and that another
// process may send. Faults (SIGSEGV...) and SIGABRT are left alone: the
// process is in no state to clean up.
std::vector<int> terminating_signals() {
  std::vector<int> v = {SIGHUP,  SIGINT,    SIGQUIT,  SIGPIPE, SIGALRM, SIGTERM,
                        SIGUSR1, SIGUSR2,   SIGXCPU,  SIGXFSZ, SIGVTALRM, SIGPROF,
                        SIGIO,   SIGPWR,    SIGSTKFLT};
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) v.push_back(s);
  return v;
}

bool inherited_ignored(int sig) {
  struct sigaction sa;
  return sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

bool termination_pending() {
  if (!g_cleanup_installed.load(std::memory_order_acquire)) return false;
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&g_caught, s) == 1 && sigismember(&pending, s) == 1) return true;
  }
  return false;
}

// Removes every registered path and ends the process by `sig`, the
// registry's lock held (by the caller). The lock is kept until the process
// dies, so that no thread can register (and then create) a new temporary
// after this sweep, nor commit one.
[[noreturn]] void sweep_locked_and_die(int sig) {
  for (const auto& p : registry()) remove_path_quietly(p);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  // A pending signal of this thread (SIGPIPE from its own write) is
  // delivered as soon as it is unblocked; else raise it.
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);
  _exit(128 + sig);
}

[[noreturn]] void sweep_and_die(int sig) {
  registry_mutex().lock();
  sweep_locked_and_die(sig);
}

// Waits for a caught signal without taking it: the signal is taken off the
// pending set only under the registry's lock. A commit (TempPath::rename_to)
// checks for pending signals under that lock, so it either sees the signal
// pending or never runs again; with sigwait() a signal taken just before a
// commit, the cleanup thread not yet holding the lock, let the commit
// through and the process exit 0.
void cleanup_thread_main(sigset_t set) {
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {  // no signalfd: the small window above stays open
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    sweep_and_die(sig);
  }
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, -1) <= 0) continue;
    registry_mutex().lock();
    signalfd_siginfo si;
    if (::read(fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      sweep_locked_and_die(static_cast<int>(si.ssi_signo));
    }
    registry_mutex().unlock();  // taken by another thread (sigtimedwait)
  }
}

// A word fit for a file name: [A-Za-z0-9_-] kept, anything else '_', at
// most 32 characters, `fallback` when empty.
std::string safe_word(std::string_view s, const char* fallback) {
  std::string out;
  for (char c : s.substr(0, 32)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? fallback : out;
}

// The first label of the host name.
std::string short_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) buf[0] = 0;
  std::string_view h(buf);
  return safe_word(h.substr(0, h.find('.')), "host");
}

}  // namespace

void throw_errno(const std::string& file, const std::string& what) {
  int e = errno;
  if (e == EFBIG) {
    // Past RLIMIT_FSIZE the kernel also sends SIGXFSZ to this thread; it is
    // blocked here (install_signal_cleanup), so take it off the pending set:
    // it is answered by this error, and must not look like a termination
    // request to a later rename_to.
    sigset_t x;
    sigemptyset(&x);
    sigaddset(&x, SIGXFSZ);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&x, nullptr, &zero) == SIGXFSZ) {
    }
    throw Error(file, "file size limit exceeded");
  }
  throw Error(file, what.empty() ? std::string(std::strerror(e))
                                 : what + ": " + std::strerror(e));
}

void install_signal_cleanup(const std::string& program) {
  static std::once_flag once;
  std::call_once(once, [&] {
    g_program = safe_word(program, "grist");
    sigemptyset(&g_caught);
    for (int s : terminating_signals()) {
      if (!inherited_ignored(s)) sigaddset(&g_caught, s);
    }
    g_pipe_caught.store(sigismember(&g_caught, SIGPIPE) == 1, std::memory_order_relaxed);
    // SIGXFSZ is blocked even when inherited as ignored (no difference: the
    // write fails with EFBIG either way).
    sigset_t block = g_caught;
    sigaddset(&block, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);
    if (!sigisemptyset(&g_caught)) std::thread(cleanup_thread_main, g_caught).detach();
    g_cleanup_installed.store(true, std::memory_order_release);
  });
}

void end_on_broken_pipe() {
  if (!g_cleanup_installed.load(std::memory_order_acquire) ||
      !g_pipe_caught.load(std::memory_order_relaxed)) {
    return;
  }
  sweep_and_die(SIGPIPE);
}

void register_temp_path(const std::string& path) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().insert(path);
}

void unregister_temp_path(const std::string& path) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(path);
}

void remove_path_quietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

TempPath::TempPath(std::string path) : path_(std::move(path)) {
  register_temp_path(path_);
}

namespace {

// Makes a file system entry with `make` (true on success, errno set on
// failure) and registers it, both under the registry's lock.
template <class Make>
void create_registered(const std::string& path, const std::string& target, const char* what,
                       Make make) {
  std::unique_lock<std::mutex> lock(registry_mutex());
  if (!make()) {
    int e = errno;
    lock.unlock();
    errno = e;
    throw_errno(target, what);
  }
  registry().insert(path);
}

}  // namespace

TempPath TempPath::create_file(const std::string& path, const std::string& target, int* fd) {
  create_registered(path, target, "cannot create output", [&] {
    *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    return *fd >= 0;
  });
  TempPath t;
  t.path_ = path;
  return t;
}

TempPath TempPath::create_directory(const std::string& path, const std::string& target) {
  create_registered(path, target, "cannot create output directory",
                    [&] { return ::mkdir(path.c_str(), 0777) == 0; });
  TempPath t;
  t.path_ = path;
  return t;
}

TempPath::TempPath(TempPath&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempPath& TempPath::operator=(TempPath&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempPath::~TempPath() { remove(); }

void TempPath::release() {
  if (!path_.empty()) unregister_temp_path(path_);
  path_.clear();
}

void TempPath::remove() {
  if (path_.empty()) return;
  remove_path_quietly(path_);
  unregister_temp_path(path_);
  path_.clear();
}

void TempPath::rename_to(const std::string& to, const std::string& name) {
  test_stop_point("commit");
  std::unique_lock<std::mutex> lock(registry_mutex());
  if (termination_pending()) {
    // The cleanup thread owns the end of this process now; it needs the
    // lock to sweep, and never returns.
    lock.unlock();
    for (;;) pause();
  }
  if (::rename(path_.c_str(), to.c_str()) != 0) {
    lock.unlock();
    throw_errno(name.empty() ? to : name, "cannot rename temporary output into place");
  }
  registry().erase(path_);
  path_.clear();
}

std::string temp_owner_tag() {
  static const std::string host = short_host();
  return g_program + "." + host + "." + std::to_string(getpid());
}

std::string temp_sibling_name(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  std::string t = target;
  while (t.size() > 1 && t.back() == '/') t.pop_back();
  auto slash = t.rfind('/');
  std::string dir = slash == std::string::npos ? "" : t.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? t : t.substr(slash + 1);
  std::string tail = ".grist-tmp." + temp_owner_tag() + "." + std::to_string(counter++);
  constexpr size_t kNameMax = 255;  // NAME_MAX of Linux file systems
  if (1 + base.size() + tail.size() > kNameMax) base.resize(kNameMax - 1 - tail.size());
  return dir + "." + base + tail;
}

std::string resolve_temp_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("TMPDIR");
  if (env && *env) return env;
  return "/tmp";
}

int open_anonymous_temp_file(const std::string& dir) {
#ifdef O_TMPFILE
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    throw_errno(dir, "cannot create temporary file");
  }
#endif
  // Without O_TMPFILE the name exists only between these two calls.
  std::string tmpl = dir + "/.grist-spill." + temp_owner_tag() + ".XXXXXX";
  int fd2 = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd2 < 0) throw_errno(dir, "cannot create temporary file");
  ::unlink(tmpl.c_str());
  return fd2;
}

}  // namespace grist
