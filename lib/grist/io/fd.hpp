// File descriptors: an owner, and the read/write loops every module needs.
//
//   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   grist::pwrite_all(fd.get(), buf, n, off, "(spill file)");
//
// The loops retry on EINTR (a signal caught with SA_RESTART unset, or a
// stop/continue) and on short transfers; any other failure throws
// grist::Error naming `name` with strerror(errno). A read past the end of
// a file is an error of its own ("unexpected end of file"), never an errno
// message with a stale errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace grist {

// An owned file descriptor, closed on destruction. Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Writes all n bytes at the descriptor's offset. EPIPE is thrown as any
// other error: callers that must end quietly on a closed pipe check first.
void write_all(int fd, const void* p, size_t n, const std::string& name);
// Writes all n bytes at `off` (pwrite).
void pwrite_all(int fd, const void* p, size_t n, uint64_t off, const std::string& name);
// Reads exactly n bytes at `off` (pread); fewer is "unexpected end of file".
void pread_all(int fd, void* p, size_t n, uint64_t off, const std::string& name);
// One read(2) of at most n bytes, retried on EINTR: 0 only at end of file.
size_t read_some(int fd, void* p, size_t n, const std::string& name);

}  // namespace grist
