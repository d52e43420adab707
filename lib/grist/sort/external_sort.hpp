// External sort of text records within a memory budget: the library behind
// grist-shuffle-sort (--check: check_sorted.hpp).
//
//   grist::SortOptions o;  o.memory = 256 << 20;  o.temp_dir = "/tmp";
//   grist::BlockReader reader(paths, grist::sort_block_size(o));
//   grist::SortStats st;
//   auto sorted = grist::sort_line_records(reader, o, st);   // lazy
//   grist::write_line_records(*sorted, *sink);                // merge_inputs.hpp
//
// Lines are read in blocks and copied into a batch buffer that holds the
// line bytes (growing up) and a 16-byte index entry per line (growing down:
// an 8-byte big-endian key prefix, the offset and the key length), so that
// the batch never takes more than its share of the budget however long or
// short the lines are (batch.hpp). A full batch is sorted in parallel (the
// top one or two key bytes while indexing: entries are counted, then
// scattered into their buckets; then an in-place MSD radix sort on the
// prefixes, entry_sort.hpp; ties are broken by the offset, i.e. by input
// order, which makes the unstable sort stable and the result independent of
// the thread count), reduced by the combiner if any, and spilled as a zstd
// run under temp_dir (spill_writer.hpp). At the end the runs are
// merged with a bounded fan-in (merge_runs: multi-level when there are more
// runs than the fan-in; KWayMerger reads its inputs ahead on another
// thread), the last batch joining the final merge from memory; that final
// merge is the returned lazy stream. Without spills nothing touches the
// disk.
//
// Records are line records (merge_inputs.hpp): key = the bytes before the first
// TAB, value = the rest of the line ("" or "\t..."), so key + value is the
// input line. With whole_line the key is the whole line and the value "".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "grist/io/block_reader.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/record_output.hpp"
#include "grist/sort/record_stream.hpp"
#include "grist/sort/reducers.hpp"

namespace grist {

// The smallest -S the tool accepts (the library takes any budget; unit tests
// use a few KiB to force spills and multi-level merges).
constexpr uint64_t kMinSortMemory = uint64_t(1) << 20;

struct SortOptions {
  uint64_t memory = uint64_t(1) << 30;  // the whole working-memory budget
  std::string temp_dir = "/tmp";         // spill directory
  size_t block_size = 0;  // input block size; 0: sort_block_size()
  size_t fan_in = 0;      // most runs merged at once; 0: from memory (2..64)
  // > 0: records ordered by (partition_of(key, N), key), as PartitionWriter
  // wants them (RecordOrder{N}). Not with whole_line.
  uint32_t partitions = 0;
  bool whole_line = false;  // --by line: the whole line is the key
  // Equal keys reduced while sorting and merging (not Reduction::count);
  // none: every record kept, equal keys in input order (a stable sort).
  ReduceSpec combine;
};

struct SortStats {
  uint64_t records = 0;      // input lines
  uint64_t bytes = 0;        // decoded input bytes
  uint64_t batches = 0;      // in-memory sorts
  uint64_t spills = 0;       // runs written from batches
  uint64_t spill_bytes = 0;  // compressed bytes of those runs
  uint64_t merge_passes = 0;
  uint64_t intermediate_runs = 0;
};

// The input block size implied by o: o.block_size if set, else a sixteenth
// of the budget, 16 KiB .. 4 MiB.
size_t sort_block_size(const SortOptions& o);

// Reads every block of `reader` and returns the records sorted (and
// combined), lazily. Throws grist::Error on input and spill errors (a full
// spill directory: "(spill file): write error: No space left on device")
// and on values the combiner refuses.
std::unique_ptr<RecordStream> sort_line_records(BlockReader& reader, const SortOptions& o,
                                                SortStats& stats);

// Writes line records sorted in RecordOrder{N} into a partition directory.
// A part file holds `key\tvalue` records, so a line without a TAB gains one
// there. Returns the number of records.
uint64_t write_line_records(RecordStream& in, PartitionWriter& out);
// Same into whichever output `out` is (a file: merge_inputs.hpp's).
uint64_t write_line_records(RecordStream& in, RecordOutput& out);

}  // namespace grist
