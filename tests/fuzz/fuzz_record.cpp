// key\tvalue splitting, u64 parsing and grist-count's counting (tables,
// spills, merges) against simple oracles: count_records either gives
// exactly the sums a std::map gives, or throws grist::Error for the first
// bad value or overflow; never a crash.
#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz_util.hpp"
#include "grist/agg/counter.hpp"
#include "grist/error.hpp"
#include "grist/record/record.hpp"

using grist_fuzz::fail;

namespace {

// The reference parse: strtoull accepts what parse_u64 refuses (sign,
// spaces), so check those first.
std::optional<uint64_t> oracle_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::string z(s);
  errno = 0;
  unsigned long long v = std::strtoull(z.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Line by line: the split and the number parse.
  std::map<std::string, uint64_t> expect;
  bool expect_error = false;
  std::string_view all(bytes);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) nl = all.size();
    std::string_view line = all.substr(pos, nl - pos);
    pos = nl + 1;
    grist::KeyValue kv = grist::split_key_value(line);
    FUZZ_CHECK(kv.key.find('\t') == std::string_view::npos);
    if (kv.has_tab) {
      FUZZ_CHECK(kv.key.size() + 1 + kv.value.size() == line.size());
      FUZZ_CHECK(line[kv.key.size()] == '\t');
    } else {
      FUZZ_CHECK(kv.key == line && kv.value.empty());
    }
    auto v = grist::parse_u64(kv.value);
    FUZZ_CHECK(v == oracle_u64(kv.value));
    if (v) {
      char buf[24];
      char* e = grist::format_u64(*v, buf);
      // Leading zeros aside, formatting gives back the text.
      std::string_view t = kv.value;
      while (t.size() > 1 && t[0] == '0') t.remove_prefix(1);
      FUZZ_CHECK(std::string_view(buf, e - buf) == t);
    }
    if (expect_error) continue;
    uint64_t n = 1;
    if (kv.has_tab) {
      if (!v) { expect_error = true; continue; }
      n = *v;
    }
    uint64_t& slot = expect[std::string(kv.key)];
    if (!grist::add_u64(slot, n)) expect_error = true;
  }

  // The same bytes through grist-count's library: tiny budgets force
  // spills and multi-level merges; the output must not depend on them.
  grist::CountOptions o;
  o.threads = 1 + (knobs & 1);
  o.memory = (knobs & 2) ? (16 << 10) : (8 << 20);
  o.block_size = 1 + (knobs >> 2) % 64;
  o.fan_in = (knobs & 2) ? 2 : 0;
  o.temp_dir = "/tmp";
  o.partitions = (knobs & 0x80) ? 3 : 0;
  try {
    auto reader = grist_fuzz::block_reader(bytes, o.block_size);
    grist::CountStats st;
    auto counts = grist::count_records(reader, o, st);
    grist::Record r;
    std::map<std::string, uint64_t> got;
    while (counts->next(r)) {
      auto v = grist::parse_u64(r.value);
      FUZZ_CHECK(v.has_value());
      FUZZ_CHECK(got.emplace(std::string(r.key), *v).second);
    }
    // A compressed-looking input decodes to other lines than the oracle saw.
    if (grist::Source::from_memory(bytes, "fuzz")->compression() != grist::Compression::none) {
      return 0;
    }
    FUZZ_CHECK(!expect_error);
    // The empty key of an empty last line: the reader appends '\n' only.
    FUZZ_CHECK(got == expect);
  } catch (const grist::Error&) {
    if (grist::Source::from_memory(bytes, "fuzz")->compression() == grist::Compression::none) {
      FUZZ_CHECK(expect_error);
    }
  }
  return 0;
}
