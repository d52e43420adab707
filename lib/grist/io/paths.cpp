#include "grist/io/paths.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "grist/error.hpp"

namespace grist {

namespace {

constexpr int kMaxSymlinkHops = 40;  // Linux's own limit

std::string dir_of(const std::string& p) {
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

std::string base_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// /proc/PID/fd or /proc/PID/task/TID/fd: its entries are the "magic" links
// to descriptors, which readlink cannot follow ("pipe:[1234]"). Sets *own
// when PID is this process.
bool is_fd_directory(const std::string& dir, bool* own) {
  char buf[PATH_MAX];
  if (!::realpath(dir.c_str(), buf)) return false;
  std::string_view r(buf);
  if (r.substr(0, 6) != "/proc/") return false;
  r.remove_prefix(6);
  auto slash = r.find('/');
  if (slash == std::string_view::npos || !all_digits(r.substr(0, slash))) return false;
  *own = std::stol(std::string(r.substr(0, slash))) == static_cast<long>(::getpid());
  r.remove_prefix(slash);
  if (r == "/fd") return true;
  if (r.substr(0, 6) != "/task/") return false;
  r.remove_prefix(6);
  slash = r.find('/');
  return slash != std::string_view::npos && all_digits(r.substr(0, slash)) &&
         r.substr(slash) == "/fd";
}

// Follows the symlinks of the last component; stops at a descriptor link.
// Returns the final path; sets *fd_link to the descriptor number (and *own)
// when it is one.
std::string follow(const std::string& path, const std::string& name, int* fd_link, bool* own) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  *fd_link = -1;
  for (int hops = 0;; ++hops) {
    if (all_digits(base_of(p)) && is_fd_directory(dir_of(p), own)) {
      *fd_link = std::atoi(base_of(p).c_str());
      return p;
    }
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    if (hops == kMaxSymlinkHops) {
      errno = ELOOP;
      throw_errno(name, "cannot create output");
    }
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : PATH_MAX) + 1, '\0');
    ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
    if (n < 0) throw_errno(name, "cannot read symbolic link");
    target.resize(static_cast<size_t>(n));
    p = target.front() == '/' ? target : dir_of(p) + "/" + target;
  }
}

}  // namespace

OutputTarget resolve_output(const std::string& path, const std::string& name) {
  OutputTarget t;
  bool own = false;
  int fd = -1;
  t.path = follow(path, name, &fd, &own);
  if (fd >= 0 && own) {
    if (::fcntl(fd, F_GETFD) < 0) throw_errno(name, "cannot write to descriptor " + std::to_string(fd));
    t.kind = OutputTarget::Kind::descriptor;
    t.fd = fd;
    return t;
  }
  if (fd >= 0) {  // another process's descriptor: open it like a device
    t.kind = OutputTarget::Kind::through;
    return t;
  }
  if (::stat(t.path.c_str(), &t.st) != 0) return t;  // new (or unreachable: creating says why)
  if (S_ISREG(t.st.st_mode)) {
    t.exists = true;
  } else if (S_ISDIR(t.st.st_mode)) {
    t.kind = OutputTarget::Kind::directory;
  } else {
    t.kind = OutputTarget::Kind::through;
  }
  return t;
}

FileIdentity identify_file(const std::string& path) {
  FileIdentity id;
  struct stat st;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.mode = st.st_mode;
    auto c = fs::canonical(path, ec);
    id.path = ec ? path : c.string();
    return id;
  }
  int fd = -1;
  bool own = false;
  std::string p = path;
  try {
    p = follow(path, path, &fd, &own);
  } catch (const Error&) {
  }
  auto c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  id.path = ec ? p : c.lexically_normal().string();
  while (id.path.size() > 1 && id.path.back() == '/') id.path.pop_back();
  return id;
}

FileIdentity identify_descriptor(int fd) {
  FileIdentity id;
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.mode = st.st_mode;
  }
  return id;
}

bool same_file(const FileIdentity& a, const FileIdentity& b) {
  if (a.exists && b.exists) return a.dev == b.dev && a.ino == b.ino;
  if (a.exists != b.exists) return false;
  return !a.path.empty() && a.path == b.path;
}

bool path_within(const std::string& inner, const std::string& outer) {
  if (inner.empty() || outer.empty()) return false;
  if (inner == outer) return true;
  if (outer == "/") return inner.front() == '/';
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         inner[outer.size()] == '/';
}

}  // namespace grist
