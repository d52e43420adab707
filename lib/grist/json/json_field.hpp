// Extraction of one string field from JSON lines (simdjson On-Demand).
//
//   grist::JsonField field("meta.body");          // one per thread
//   std::string_view text;
//   switch (field.extract(line.data(), line.size(), room, text)) {
//     case grist::JsonField::Status::ok: use(text); break;  // valid until the next call
//     default: warn(field.error());
//   }
//
// The path is a dotted list of keys into nested objects ("text",
// "meta.body"); a key cannot contain '.'. The first occurrence of a key
// wins. The string is unescaped ("\n" is a newline, "\u00e9" is "é").
//
// Validation: the objects along the path are read to their closing brace
// and nothing but whitespace may follow the root object, so truncated lines
// and trailing garbage are caught; values off the path are skipped, checked
// only for balanced brackets and well-formed strings (simdjson On-Demand's
// laziness, which makes extraction fast).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace grist {

class JsonField {
 public:
  enum class Status {
    ok,
    missing,     // the path does not lead to a value (or the line is not an object)
    not_string,  // the value is a number, object, array, bool or null
    invalid,     // the line is not valid JSON (or is not UTF-8)
  };

  // Throws grist::UsageError on an empty path or an empty key ("a..b").
  explicit JsonField(std::string_view path);
  ~JsonField();
  JsonField(const JsonField&) = delete;
  JsonField& operator=(const JsonField&) = delete;

  // Parses the JSON text data[0, len) in place. `capacity` is the number of
  // readable bytes from `data`; it must be at least len + 64
  // (SIMDJSON_PADDING, grist::kBlockPadding): the bytes after the line may
  // be anything (the following lines of a block). On ok, `value` views the
  // unescaped string, valid until the next call. Not thread-safe: one
  // JsonField per thread.
  Status extract(const char* data, size_t len, size_t capacity, std::string_view& value);

  // The same on text without padding (copied first): tests, small inputs.
  Status extract(std::string_view line, std::string_view& value);

  // Why the last call did not return ok, e.g. "missing field 'meta.body'",
  // "field 'text' is a number, not a string", "invalid JSON: ...".
  const std::string& error() const { return error_; }

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  std::string error_;
};

}  // namespace grist
