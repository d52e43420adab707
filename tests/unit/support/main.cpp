// The unit tests' main: Catch2's, except that a run in which a test case
// was skipped (GRIST_SKIP) and nothing failed exits 77, CTest's
// SKIP_RETURN_CODE.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include "support/skip.hpp"

namespace grist_test {

namespace {
std::mutex g_lock;
int g_skips = 0;
}  // namespace

bool require_all() {
  const char* v = std::getenv("GRIST_REQUIRE_ALL");
  return v && std::strcmp(v, "1") == 0;
}

void note_skip(const std::string& reason) {
  std::lock_guard<std::mutex> lock(g_lock);
  ++g_skips;
  std::cout << "SKIP: " << Catch::getResultCapture().getCurrentTestName() << ": " << reason
            << std::endl;
}

bool skipped_any() {
  std::lock_guard<std::mutex> lock(g_lock);
  return g_skips > 0;
}

}  // namespace grist_test

int main(int argc, char* argv[]) {
  int rc = Catch::Session().run(argc, argv);
  if (rc == 0 && grist_test::skipped_any()) {
    std::cout << "skipped: see the SKIP lines above (exit status 77)" << std::endl;
    return 77;
  }
  return rc;
}
