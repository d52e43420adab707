#include "grist/io/test_hook.hpp"

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace grist {

namespace {

struct StopAt {
  std::string point;  // empty: not armed
  uint64_t nth = 1;
};

// "POINT" or "POINT:N"; anything unparsable arms nothing, so that a typo in
// a test shows as a run that never stopped.
StopAt read_stop_at() {
  StopAt s;
  const char* v = std::getenv("GRIST_TEST_STOP_AT");
  if (!v || !*v) return s;
  std::string text(v);
  auto colon = text.find(':');
  if (colon != std::string::npos) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(text.c_str() + colon + 1, &end, 10);
    if (!end || *end != '\0' || n == 0) return s;
    s.nth = n;
    text.resize(colon);
  }
  s.point = text;
  return s;
}

const StopAt& stop_at() {
  static const StopAt s = read_stop_at();
  return s;
}

std::atomic<uint64_t> g_hits{0};

}  // namespace

void test_stop_point(const char* point) {
  const StopAt& s = stop_at();
  if (s.point.empty() || s.point != point) return;
  if (g_hits.fetch_add(1, std::memory_order_relaxed) + 1 == s.nth) raise(SIGSTOP);
}

}  // namespace grist
