// "Sniff the first block, then replay it": a BlockReader whose first block
// is read ahead, so that a caller can look at it (to tell the input's
// format) before the work starts, and that then hands the same block out
// again as the first of the sequence, without copying it.
//
//   grist::BlockReader reader(paths);
//   grist::PeekBlockReader in(reader);
//   if (const grist::Block* first = in.first()) format = sniff(first->view());
//   grist::Block block;
//   while (in.next(block)) ...;  // the first block, then the rest
#pragma once

#include <utility>

#include "grist/io/block_reader.hpp"

namespace grist {

class PeekBlockReader {
 public:
  // Reads the first block of `reader` now (which may throw as
  // BlockReader::next does). `reader` must outlive this object.
  explicit PeekBlockReader(BlockReader& reader) : reader_(reader) {
    pending_ = reader_.next(first_);
  }
  PeekBlockReader(const PeekBlockReader&) = delete;
  PeekBlockReader& operator=(const PeekBlockReader&) = delete;

  // The first block, or nullptr when the input is empty; nullptr too once
  // next() has handed it out.
  const Block* first() const { return pending_ ? &first_ : nullptr; }

  // The first block (swapped into `b`: `b`'s old buffer is reused later),
  // then BlockReader::next.
  bool next(Block& b) {
    if (pending_) {
      pending_ = false;
      std::swap(b, first_);
      return true;
    }
    return reader_.next(b);
  }

  BlockReader& reader() { return reader_; }

 private:
  BlockReader& reader_;
  Block first_;
  bool pending_ = false;
};

}  // namespace grist
