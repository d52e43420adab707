#include "grist/record/memsize.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "grist/error.hpp"

namespace grist {

uint64_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t(1) << 32;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

uint64_t address_space_limit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<uint64_t>(rl.rlim_cur);
}

uint64_t default_memory_within_limit(uint64_t fallback) {
  uint64_t limit = address_space_limit();
  if (limit == 0) return fallback;
  return std::clamp<uint64_t>(limit / 2, uint64_t(1) << 20, std::max<uint64_t>(fallback, 1 << 20));
}

int default_threads_within_limit(int cpus) {
  uint64_t limit = address_space_limit();
  if (limit == 0) return cpus;
  return static_cast<int>(std::clamp<uint64_t>(limit / 4 / (uint64_t(4) << 20), 1,
                                               static_cast<uint64_t>(std::max(cpus, 1))));
}

void fit_address_space_limit() {
  uint64_t limit = address_space_limit();
  if (limit == 0) return;
  constexpr uint64_t kArenaReserve = uint64_t(64) << 20;
  const uint64_t arenas = std::clamp<uint64_t>(limit / 4 / kArenaReserve, 1, 64);
#ifdef M_ARENA_MAX
  mallopt(M_ARENA_MAX, static_cast<int>(arenas));
#else
  (void)arenas;
#endif
}

uint64_t parse_memory_size(const std::string& text) {
  auto bad = [&]() -> UsageError {
    return UsageError("invalid memory size '" + text +
                      "' (expected e.g. 512M, 4G, 50%)");
  };
  if (text.empty()) throw bad();
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) throw bad();
  uint64_t n = std::strtoull(text.substr(0, i).c_str(), nullptr, 10);
  std::string suffix = text.substr(i);
  if (suffix.size() > 1 && (suffix[1] == 'i' || suffix[1] == 'I') ) {
    if (suffix.size() == 3 && (suffix[2] == 'b' || suffix[2] == 'B')) suffix = suffix.substr(0, 1);
  } else if (suffix.size() == 2 && (suffix[1] == 'b' || suffix[1] == 'B')) {
    suffix = suffix.substr(0, 1);
  }
  if (suffix == "%") {
    if (n > 100) throw bad();
    return physical_memory() / 100 * n;
  }
  unsigned shift = 10;  // bare number: KiB
  if (!suffix.empty()) {
    if (suffix.size() != 1) throw bad();
    switch (std::tolower(static_cast<unsigned char>(suffix[0]))) {
      case 'b': shift = 0; break;
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      default: throw bad();
    }
  }
  if (shift && n > (UINT64_MAX >> shift)) throw bad();
  return n << shift;
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

}  // namespace grist
