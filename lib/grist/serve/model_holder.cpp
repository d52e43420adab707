#include "grist/serve/model_holder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "grist/error.hpp"
#include "grist/sgd/predict.hpp"

namespace grist::serve {

std::shared_ptr<const LoadedModel> load_model(const std::string& path) {
  static std::atomic<uint64_t> generations{0};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path, std::strerror(errno));
  struct stat st {};
  std::string bytes;
  try {
    if (::fstat(fd, &st) != 0) throw Error(path, std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw Error(path, "not a regular file");
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (true) {
      if (got == bytes.size()) bytes.resize(bytes.size() + (1 << 16));
      ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(path, std::strerror(errno));
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    bytes.resize(got);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  auto m = std::make_shared<LoadedModel>();
  m->model = sgd::Model::from_bytes(bytes, path, sgd::ModelState::weights_only);
  m->parse = sgd::prediction_parse_options(*m->model, std::nullopt);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  m->hash = hex;
  m->path = path;
  m->file_bytes = bytes.size();
  m->loaded_at = std::chrono::duration<double>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
  m->generation = generations.fetch_add(1, std::memory_order_relaxed) + 1;
  m->dev = st.st_dev;
  m->ino = st.st_ino;
  m->mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return m;
}

}  // namespace grist::serve
