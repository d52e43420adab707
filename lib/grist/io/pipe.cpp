#include "grist/io/pipe.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace grist {

void widen_pipe(int fd) {
#ifdef F_SETPIPE_SZ
  constexpr int kPipeBytes = 1 << 20;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  int now = ::fcntl(fd, F_GETPIPE_SZ);
  if (now < 0 || now >= kPipeBytes) return;
  (void)::fcntl(fd, F_SETPIPE_SZ, kPipeBytes);
#else
  (void)fd;
#endif
}

}  // namespace grist
