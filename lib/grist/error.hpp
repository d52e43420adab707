// Typed errors thrown by the library and caught once by each tool's main.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace grist {

// A runtime or data error. what() is "FILE:LINE: message", "FILE: message"
// or "message", ready to be prefixed with "grist-TOOL: ". Tools map it to
// exit status 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message)
      : std::runtime_error(message), message_(message) {}
  Error(const std::string& file, const std::string& message)
      : std::runtime_error(file + ": " + message), file_(file), message_(message) {}
  Error(const std::string& file, uint64_t line, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(line) + ": " + message),
        file_(file), line_(line), message_(message) {}

  const std::string& file() const { return file_; }
  uint64_t line() const { return line_; }  // 0 when not about one line
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  uint64_t line_ = 0;
  std::string message_;
};

// A bad option value found after parsing (exit status 2, like a parse error).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by error_from_errno helpers: "FILE: strerror(errno)".
[[noreturn]] void throw_errno(const std::string& file, const std::string& what);

}  // namespace grist
