// A fresh directory for a test's files, under $GRIST_TEST_TMP (else
// /tmp), named after the test and the process so that parallel runs do
// not meet; and a file written there in one call.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace grist_test {

// Empty, made anew: PREFIX-NAME-PID.
inline std::filesystem::path fresh_dir(const std::string& prefix, const std::string& name) {
  const char* base = std::getenv("GRIST_TEST_TMP");
  std::filesystem::path p = std::filesystem::path(base ? base : "/tmp") /
                            (prefix + "-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// Writes `text` to `p` and returns the path as a string.
inline std::string write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

}  // namespace grist_test
