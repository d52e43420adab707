#include <catch2/catch.hpp>

#include <string>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/json/json_field.hpp"

using grist::JsonField;
using Status = JsonField::Status;

namespace {

// Extracts and returns "ok:VALUE" or the status name, for compact checks.
std::string get(JsonField& f, const std::string& line) {
  std::string_view v;
  switch (f.extract(line, v)) {
    case Status::ok: return "ok:" + std::string(v);
    case Status::missing: return "missing";
    case Status::not_string: return "not_string";
    case Status::invalid: return "invalid";
  }
  return "?";
}

}  // namespace

TEST_CASE("top-level string field", "[test_json]") {
  JsonField f("text");
  CHECK(get(f, R"({"text": "hello world"})") == "ok:hello world");
  CHECK(get(f, R"({"id": 3, "text": "b", "more": [1, {"text": 2}]})") == "ok:b");
  CHECK(get(f, R"({"text": ""})") == "ok:");
  // The first occurrence of a key wins.
  CHECK(get(f, R"({"text": "first", "text": "second"})") == "ok:first");
}

TEST_CASE("nested paths", "[test_json]") {
  JsonField f("meta.body");
  CHECK(get(f, R"({"meta": {"body": "deep"}})") == "ok:deep");
  CHECK(get(f, R"({"body": "no", "meta": {"x": [1,2], "body": "yes"}, "z": null})") == "ok:yes");
  CHECK(get(f, R"({"meta": {"x": 1}})") == "missing");
  CHECK(f.error() == "missing field 'meta.body'");
  CHECK(get(f, R"({"meta": 5})") == "missing");
  CHECK(f.error() == "missing field 'meta.body' ('meta' is a number)");
  CHECK(get(f, R"({"meta": {"body": {"a": "b"}}})") == "not_string");
  JsonField g("a.b.c.d");
  CHECK(get(g, R"({"a":{"b":{"c":{"d":"x"}}}})") == "ok:x");
  CHECK(get(g, R"({"a":{"b":{"c":{"e":"x"}}}})") == "missing");
}

TEST_CASE("escapes are decoded", "[test_json]") {
  JsonField f("text");
  CHECK(get(f, R"({"text": "a\nb\tc\"d\\e\/f"})") == "ok:a\nb\tc\"d\\e/f");
  CHECK(get(f, R"({"text": "caf\u00e9 \u6771\u4eac"})") == "ok:caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac");
  // A surrogate pair.
  CHECK(get(f, R"({"text": "\ud83d\ude00"})") == "ok:\xf0\x9f\x98\x80");
  // An escaped key matches its unescaped form.
  CHECK(get(f, R"({"t\u0065xt": "k"})") == "ok:k");
  // Raw UTF-8 passes through.
  CHECK(get(f, "{\"text\": \"Stra\xc3\x9f" "e\"}") == "ok:Stra\xc3\x9f" "e");
}

TEST_CASE("missing fields and other types", "[test_json]") {
  JsonField f("text");
  CHECK(get(f, R"({"title": "x"})") == "missing");
  CHECK(f.error() == "missing field 'text'");
  CHECK(get(f, R"({})") == "missing");
  CHECK(get(f, R"({"text": 12})") == "not_string");
  CHECK(f.error() == "field 'text' is a number, not a string");
  CHECK(get(f, R"({"text": null})") == "not_string");
  CHECK(get(f, R"({"text": ["a"]})") == "not_string");
  CHECK(get(f, R"({"text": true})") == "not_string");
  CHECK(get(f, R"(["text", "a"])") == "missing");
  CHECK(get(f, R"("text")") == "missing");
}

TEST_CASE("invalid JSON lines", "[test_json]") {
  JsonField f("text");
  CHECK(get(f, R"({"text": "abc)") == "invalid");
  CHECK(get(f, R"({"text": "abc")") == "invalid");
  CHECK(get(f, R"({"text": "abc",)") == "invalid");
  CHECK(get(f, R"({"text": "abc", "x": )") == "invalid");
  CHECK(get(f, R"({"text": "abc"} xyz)") == "invalid");
  CHECK(get(f, R"({"text": "abc"}})") == "invalid");
  CHECK(get(f, R"({text: "abc"})") == "invalid");
  CHECK(get(f, "") == "invalid");
  CHECK(get(f, "not json") == "invalid");
  CHECK(get(f, R"({"text": "bad \x escape"})") == "invalid");
  CHECK(get(f, R"({"text": "lone \ud800 surrogate"})") == "invalid");
  CHECK(get(f, "{\"text\": \"bad \xff utf8\"}") == "invalid");
  CHECK(f.error().rfind("invalid JSON: ", 0) == 0);
}

TEST_CASE("whitespace around the object is fine", "[test_json]") {
  JsonField f("text");
  CHECK(get(f, "  {\"text\": \"a\"}  ") == "ok:a");
  CHECK(get(f, "{\"text\": \"a\"}\r") == "ok:a");
  CHECK(get(f, "\t{ \"text\" :\"a\" }\t\r") == "ok:a");
}

TEST_CASE("deep nesting does not crash", "[test_json]") {
  JsonField f("text");
  std::string deep = "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') +
                     ", \"text\": \"after\"}";
  std::string r = get(f, deep);
  CHECK((r == "ok:after" || r == "invalid"));
  std::string open = "{\"x\": " + std::string(100000, '[');
  CHECK(get(f, open) == "invalid");
  std::string objs;
  for (int i = 0; i < 50000; ++i) objs += "{\"text\":";
  CHECK(get(f, objs) != "?");
  JsonField g("text.text.text");
  CHECK(get(g, objs + "\"v\"" + std::string(50000, '}')) != "?");
}

TEST_CASE("lines parsed in place inside a padded block", "[test_json]") {
  // The bytes after each line are the following lines, then the padding.
  std::string text = "{\"text\": \"one\"}\n{\"text\": 1}\n{\"text\": \"three\"}\n";
  std::string buf = text + std::string(grist::kBlockPadding, '\0');
  JsonField f("text");
  std::vector<std::string> got;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view v;
    Status s = f.extract(buf.data() + pos, nl - pos, buf.size() - pos, v);
    got.push_back(s == Status::ok ? std::string(v) : "-");
    pos = nl + 1;
  }
  CHECK(got == std::vector<std::string>{"one", "-", "three"});
}

TEST_CASE("bad paths are usage errors", "[test_json]") {
  CHECK_THROWS_AS(JsonField(""), grist::UsageError);
  CHECK_THROWS_AS(JsonField("a..b"), grist::UsageError);
  CHECK_THROWS_AS(JsonField(".a"), grist::UsageError);
  CHECK_THROWS_AS(JsonField("a."), grist::UsageError);
}
