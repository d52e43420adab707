#include "grist/io/fd.hpp"

#include <unistd.h>

#include <cerrno>

#include "grist/error.hpp"

namespace grist {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void write_all(int fd, const void* p, size_t n, const std::string& name) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(name, "write error");
    }
    c += w;
    n -= static_cast<size_t>(w);
  }
}

void pwrite_all(int fd, const void* p, size_t n, uint64_t off, const std::string& name) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, c, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(name, "write error");
    }
    c += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
}

void pread_all(int fd, void* p, size_t n, uint64_t off, const std::string& name) {
  auto* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::pread(fd, c, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno(name, "read error");
    }
    if (r == 0) throw Error(name, "unexpected end of file");
    c += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
}

size_t read_some(int fd, void* p, size_t n, const std::string& name) {
  for (;;) {
    ssize_t r = ::read(fd, p, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) continue;
    throw_errno(name, "read error");
  }
}

}  // namespace grist
