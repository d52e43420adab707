// One batch of the external sort (external_sort.hpp): line bytes copied in
// from input blocks, growing up from the start of a buffer, and a 16-byte
// index entry per line (entry_sort.hpp), placed down from the buffer's end
// when the batch is sorted; and the sorted batch read as line records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/sort/entry_sort.hpp"
#include "grist/sort/record_stream.hpp"

namespace grist {

struct Batch {
  ByteBuffer buf;   // grows by realloc (large: mremap, no copy) as lines come
  size_t cap = 0;   // bytes of buf
  size_t used = 0;  // line bytes
  size_t lines = 0;
  // One input block's lines, for the index and for messages.
  struct Piece {
    size_t off, size, lines, first_entry;
    uint64_t first_line;  // in its input, for messages
    std::shared_ptr<const std::string> source;
  };
  std::vector<Piece> pieces;

  Entry* entries() const {
    uintptr_t end = reinterpret_cast<uintptr_t>(buf.data()) + cap;
    end &= ~uintptr_t(alignof(Entry) - 1);
    return reinterpret_cast<Entry*>(end) - lines;
  }
  // The buffer bytes needed to add `bytes` of line bytes holding n lines.
  size_t need(size_t bytes, size_t n) const {
    return used + bytes + (lines + n) * sizeof(Entry) + alignof(Entry);
  }
  void clear() {
    used = lines = 0;
    pieces.clear();
  }
};

// How a batch is indexed and sorted.
struct BatchOrder {
  uint32_t partitions = 0;  // > 0: by (partition_of(key), key)
  bool whole_line = false;  // the whole line is the key
  // The scatter may use a 16-bit top digit (2.3 MiB of counters): only
  // with a budget of 64 MiB or more.
  bool wide_digit = false;
};

// Indexes every line of the batch and sorts the index into key order
// (EntryLess: equal keys in input order). `scratch` keeps its memory
// between calls.
void sort_batch(Batch& batch, const BatchOrder& order, std::vector<uint32_t>& scratch);

// Sorted entries of a batch as line records (whole-line keys escaped as
// record/line_key.hpp does, as runs need them). Owns the batch when it is
// the final one.
class BatchStream : public RecordStream {
 public:
  BatchStream(const char* base, const Entry* e, size_t n, bool whole_line)
      : base_(base), e_(e), n_(n), whole_line_(whole_line) {}
  BatchStream(Batch&& b, bool whole_line)
      : BatchStream(b.buf.data(), b.entries(), b.lines, whole_line) {
    owned_ = std::move(b);
  }
  bool next(Record& r) override;

 private:
  const char* base_;
  const Entry* e_;
  size_t n_, i_ = 0;
  bool whole_line_;
  std::string scratch_;
  Batch owned_;
};

}  // namespace grist
