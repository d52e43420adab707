#include "grist/sort/check_sorted.hpp"

#include "grist/record/record.hpp"
#include "grist/sort/record_stream.hpp"

namespace grist {

bool check_sorted(BlockReader& reader, const SortOptions& o, std::string* where,
                  uint64_t* records) {
  Block b;
  std::string prev;
  uint64_t prev_rank = 0;
  bool have = false;
  uint64_t n = 0;
  RecordOrder order{o.partitions};
  while (reader.next(b)) {
    uint64_t line_no = b.first_line;
    bool bad = false;
    std::string_view bad_line;
    for_each_line(b, [&](std::string_view line) {
      if (bad) return;
      std::string_view key = o.whole_line ? line : split_key_value(line).key;
      uint64_t rank = order.rank(key);
      if (have) {
        bool ok = prev_rank != rank ? prev_rank < rank : compare_keys(prev, key) <= 0;
        if (!ok) {
          bad = true;
          bad_line = line;
          return;
        }
      }
      prev.assign(key);
      prev_rank = rank;
      have = true;
      ++line_no;
      ++n;
    });
    if (bad) {
      if (where) *where = escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line_no) +
                          ": disorder: " + escape_bytes(bad_line, 200);
      if (records) *records = n;
      return false;
    }
  }
  if (records) *records = n;
  return true;
}

}  // namespace grist
