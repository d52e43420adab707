// Skipping a unit test that needs something outside the build.
//
// A test case that needs a file or a program that may be absent (Debian's
// unicode-data, mandoc, zsh, fish) is tagged [external] and calls
// GRIST_SKIP(reason) when it is missing. The test binary then exits 77
// when nothing failed, and CTest (SKIP_RETURN_CODE 77) reports the entry
// as skipped, never as passed. Under GRIST_REQUIRE_ALL=1 (CI, where
// scripts/install-deps.sh installed everything) a skip fails the case.
// tests/CMakeLists.txt gives the [external] cases of each file their own
// CTest entry, so that a skip hides nothing else.
#pragma once

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

namespace grist_test {

// True when GRIST_REQUIRE_ALL=1: a skip is a failure.
bool require_all();
// Records a skip (the binary exits 77 if nothing fails) and prints it.
void note_skip(const std::string& reason);
bool skipped_any();

}  // namespace grist_test

// Ends the test case as skipped (or, under GRIST_REQUIRE_ALL=1, failed).
#define GRIST_SKIP(msg)                                                              \
  do {                                                                               \
    std::ostringstream grist_skip_os_;                                               \
    grist_skip_os_ << msg;                                                           \
    if (grist_test::require_all()) {                                                 \
      FAIL("cannot run: " << grist_skip_os_.str()                                    \
                          << " (GRIST_REQUIRE_ALL=1: CI installs what tests need)"); \
    }                                                                                \
    grist_test::note_skip(grist_skip_os_.str());                                     \
    return;                                                                          \
  } while (0)
