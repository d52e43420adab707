// Writes a sorted batch of the external sort (batch.hpp) as a spill run
// (run.hpp) under the temporary directory: consecutive slices of the
// sorted entries are turned into front-coded run records and compressed as
// independent zstd frames (level kRunLevel) in parallel, in a oneTBB
// pipeline, and written in order. With a combiner the records of each key
// are reduced first (slices then end between keys).
#pragma once

#include <tbb/enumerable_thread_specific.h>

#include <cstdint>
#include <string>

#include "grist/sort/batch.hpp"
#include "grist/sort/reducers.hpp"
#include "grist/sort/run.hpp"

namespace grist {

// Slices in flight in a spill.
constexpr size_t kSpillTokens = 4;
// The bytes of lines per slice for a budget of `memory`: 32 .. 256 KiB.
size_t spill_slice(uint64_t memory);
// The memory a spill takes besides the batch: kSpillTokens slices, each
// about spill_slice() bytes of lines and their compressed frame, and a
// compression context per thread.
uint64_t spill_writer_cost(uint64_t memory);

class SpillWriter {
 public:
  // temp_dir: where runs go; memory: the sort's budget (sizes the slices);
  // combine: the reduction applied to each key's records (or none);
  // whole_line: batches whose keys are whole lines.
  SpillWriter(std::string temp_dir, uint64_t memory, ReduceSpec combine, bool whole_line);
  SpillWriter(const SpillWriter&) = delete;
  SpillWriter& operator=(const SpillWriter&) = delete;

  // Writes the batch, whose index is sorted (sort_batch), as one run.
  // Throws grist::Error on write errors and on values the combiner refuses
  // (SumOverflow for sums).
  Run write(const Batch& batch);

 private:
  struct Slice;
  class Spill;

  std::string temp_dir_;
  uint64_t memory_;
  ReduceSpec combine_;
  bool whole_line_;
  tbb::enumerable_thread_specific<RunFrameCompressor> compressors_{kRunLevel};
  tbb::enumerable_thread_specific<std::string> prev_keys_;  // per thread: front coding
};

}  // namespace grist
