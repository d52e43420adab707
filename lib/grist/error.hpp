// Typed errors thrown by the library and caught once by each tool's main.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace grist {

// Bytes from an input (a key, a value, a token, a line) or from the command
// line, made safe to print in a message: a terminal must not act on them
// (a CR rewrites the line, ESC starts a control sequence, NUL cuts a C
// string) and the reader must see exactly which bytes they were.
//   - printable ASCII and valid UTF-8 are kept as they are;
//   - \\ and \' stand for a backslash and a quote; \t \r \n for TAB, CR, LF;
//   - other control bytes (C0, DEL) and bytes that are not valid UTF-8 are
//     \xHH; C1 controls, line/paragraph separators and bidirectional
//     controls (valid UTF-8 that a terminal acts on) are \uXXXX;
//   - at most `max_bytes` input bytes are shown (never half a character),
//     then "...".
std::string escape_bytes(std::string_view bytes, size_t max_bytes = 64);

// escape_bytes in single quotes: 'a\tb\r'; a value cut short is followed by
// "..." after the closing quote: 'aaaa'...
std::string quote_input(std::string_view bytes, size_t max_bytes = 64);

// `message`, plus a hint about CRLF files when it shows an input value that
// ends in a CR (an escaped \r before a closing quote or at the end): a file
// with CRLF line ends is the usual cause. Every message a tool prints goes
// through it (cli::Tool::error and warn).
std::string with_crlf_hint(const std::string& message);

// A runtime or data error. what() is "FILE:LINE: message", "FILE: message"
// or "message", ready to be prefixed with "grist-TOOL: "; FILE is escaped
// (escape_bytes, never cut), `message` is taken as it is: whoever builds it
// quotes input bytes with quote_input. Tools map it to exit status 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message)
      : std::runtime_error(message), message_(message) {}
  Error(const std::string& file, const std::string& message)
      : std::runtime_error(escape_bytes(file, SIZE_MAX) + ": " + message),
        file_(file), message_(message) {}
  Error(const std::string& file, uint64_t line, const std::string& message)
      : std::runtime_error(escape_bytes(file, SIZE_MAX) + ":" + std::to_string(line) + ": " +
                           message),
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
