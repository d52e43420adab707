// Sorted streams of key-value records, their order, and combiners.
//
// The pieces of grist's external sort (run.hpp, merge.hpp, sorter.hpp,
// partition_dir.hpp) pass records as (key, value) string views through the
// RecordStream interface below. A record is the line `key\tvalue` of
// docs/design.md, "Records": the key holds no TAB and no LF, the value no LF.
//
//   std::unique_ptr<grist::RecordStream> s = ...;
//   grist::Record r;
//   while (s->next(r)) use(r.key, r.value);   // views valid until next()
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "grist/error.hpp"
#include "grist/record/partition.hpp"

namespace grist {

struct Record {
  std::string_view key;
  std::string_view value;
};

// A stream of records. next() fills `r` and returns true, or returns false
// at the end (and keeps returning false). The views in `r` stay valid until
// the next call of next() or the destruction of the stream. Throws
// grist::Error on unreadable data.
class RecordStream {
 public:
  virtual ~RecordStream() = default;
  virtual bool next(Record& r) = 0;
};

// The order of sorted streams. With partitions == 0 it is bytewise key order
// (memcmp, shorter prefix first: LC_ALL=C sort). With partitions == N > 0
// records are ordered by (partition_of(key, N), key): a stream sorted that
// way is the concatenation of the N sorted partitions, which lets a
// partition directory be written one part at a time (PartitionWriter).
struct RecordOrder {
  uint32_t partitions = 0;

  // The major sort component of a key (0 without partitions).
  uint64_t rank(std::string_view key) const {
    return partitions ? partition_of(key, partitions) : 0;
  }
  // Same, from an already computed stable_hash(key).
  uint64_t rank_from_hash(uint64_t hash) const { return partitions ? hash % partitions : 0; }
};

// memcmp order of byte strings (the order of LC_ALL=C sort).
inline int compare_keys(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// Reduces the values of records with equal keys, while merging. For each
// group of equal keys the merger calls start() with the first value, add()
// with each further value (in stream order), then result(). The view
// returned by result() stays valid until the next start(). Throws
// grist::Error when values cannot be combined (bad number, overflow); `key`
// is passed for the message.
class Combiner {
 public:
  virtual ~Combiner() = default;
  virtual void start(std::string_view key, std::string_view value) = 0;
  virtual void add(std::string_view key, std::string_view value) = 0;
  virtual std::string_view result() = 0;
};

// A key quoted for messages (truncated, control bytes escaped).
std::string quote_key(std::string_view key);

}  // namespace grist
