#include "grist/io/cleanup.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

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

sigset_t cleanup_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

bool termination_pending() {
  if (!g_cleanup_installed.load(std::memory_order_acquire)) return false;
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
         sigismember(&pending, SIGHUP) == 1;
}

void cleanup_thread_main(sigset_t set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  {
    // Hold the lock until the process dies, so that no thread can register
    // (and then create) a new temporary file after this sweep.
    registry_mutex().lock();
    for (const auto& p : registry()) remove_path_quietly(p);
  }
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);
  _exit(128 + sig);
}

}  // namespace

void throw_errno(const std::string& file, const std::string& what) {
  int e = errno;
  throw Error(file, what.empty() ? std::string(std::strerror(e))
                                 : what + ": " + std::strerror(e));
}

void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set = cleanup_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread(cleanup_thread_main, set).detach();
    g_cleanup_installed.store(true, std::memory_order_release);
  });
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

void TempPath::rename_to(const std::string& to) {
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
    throw_errno(to, "cannot rename temporary output into place");
  }
  registry().erase(path_);
  path_.clear();
}

std::string temp_sibling_name(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  std::string t = target;
  while (t.size() > 1 && t.back() == '/') t.pop_back();
  auto slash = t.rfind('/');
  std::string dir = slash == std::string::npos ? "" : t.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? t : t.substr(slash + 1);
  return dir + "." + base + ".grist-tmp." + std::to_string(getpid()) + "." +
         std::to_string(counter++);
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
  std::string tmpl = dir + "/.grist-spill.XXXXXX";
  int fd2 = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd2 < 0) throw_errno(dir, "cannot create temporary file");
  ::unlink(tmpl.c_str());
  return fd2;
}

}  // namespace grist
