// JSON-lines field extraction: any bytes give ok (with a well-formed UTF-8
// value), missing, not_string or invalid; never a crash or a read outside
// the line and its padding. The padded in-place call and the copying call
// agree.
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/json/json_field.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kPaths[] = {"text", "a.b", "meta.body", "a", "x.y.z.w", "\xc3\xa9"};
  const char* path = kPaths[data[0] % 6];
  std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);

  grist::JsonField field(path);
  // Exactly the line plus the minimum padding, the padding filled with
  // bytes that would confuse a parser that read into it as JSON.
  std::vector<char> buf(line.size() + 64, '"');
  std::copy(line.begin(), line.end(), buf.begin());
  std::string_view value;
  auto s1 = field.extract(buf.data(), line.size(), buf.size(), value);
  std::string v1(value);
  if (s1 == grist::JsonField::Status::ok) {
    FUZZ_CHECK(grist_fuzz::valid_utf8(v1));
  } else {
    FUZZ_CHECK(!field.error().empty());
  }
  grist::JsonField again(path);
  auto s2 = again.extract(line, value);
  FUZZ_CHECK(s1 == s2);
  if (s1 == grist::JsonField::Status::ok) FUZZ_CHECK(v1 == value);
  // The same field object, reused, gives the same answer.
  auto s3 = field.extract(line, value);
  FUZZ_CHECK(s3 == s1);
  return 0;
}
