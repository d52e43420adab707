// Exact counting of keys within a memory budget: the library behind
// grist-count.
//
//   grist::CountOptions o;  o.memory = 256 << 20;  o.threads = 2;  o.temp_dir = "/tmp";
//   grist::BlockReader reader(paths, grist::count_block_size(o));
//   grist::CountStats st;
//   auto counts = grist::count_records(reader, o, st);   // sorted, summed
//   grist::write_counts(*counts, *sink, o, st);
//
// Input lines are `key` (counts 1) or `key\tN` (adds N), split at the first
// tab (docs/design.md, "Records"). Blocks are read serially and aggregated in
// parallel (oneTBB parallel_pipeline) into per-worker CountTables. A table
// that reaches its share of the budget is sorted and spilled as a zstd run
// (RunWriter); at the end the runs are merged with bounded fan-in, summing
// equal keys, and the last merge streams straight into the output. Without
// spills the sorted tables are merged in memory. The output depends only on
// the input and the options that shape it (min_count, top, partitions),
// never on threads, memory or spills.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/skipped.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/record_output.hpp"
#include "grist/sort/record_stream.hpp"

namespace grist {

// The smallest -S the tool accepts: below it, block buffers alone would
// take most of the budget. (The library takes any budget; unit tests use a
// few KiB to force spills.)
constexpr uint64_t kMinCountMemory = uint64_t(1) << 20;

struct CountOptions {
  uint64_t memory = uint64_t(1) << 30;  // the whole working-memory budget
  int threads = 1;                       // aggregation workers (>= 1)
  std::string temp_dir = "/tmp";         // spill directory
  size_t block_size = 0;  // input block size; 0: count_block_size()
  size_t fan_in = 0;      // most runs merged at once; 0: from memory (4..64)
  bool skip_bad_lines = false;  // --on-error skip: bad values are counted, not fatal
  uint64_t min_count = 0;       // write keys with count >= min_count
  uint64_t top = 0;             // > 0: the `top` largest counts only
  uint32_t partitions = 0;      // > 0: order (and write) by partition first
};

struct CountStats {
  uint64_t records = 0;     // input lines
  uint64_t bytes = 0;       // decoded input bytes
  SkippedLines skipped;     // bad lines skipped (skip_bad_lines), the first in input order
  uint64_t distinct = 0;    // distinct keys seen by write_counts
  uint64_t written = 0;     // lines written
  uint64_t spills = 0;      // runs spilled from tables
  uint64_t spill_bytes = 0; // compressed bytes of those runs
  uint64_t merge_passes = 0;
  uint64_t intermediate_runs = 0;
  size_t peak_table_memory = 0;  // largest sum of table memory seen
};

// The aggregation workers for a budget of `memory` and `threads` wanted:
// each thread aggregates into a table of its own, a share of the budget;
// below about 256 KiB a table holds so few keys that it spills every few
// lines (-j 256 -S 1M made thousands of runs and ran out of file
// descriptors). So a small budget gets fewer threads: one per 256 KiB.
int count_threads(uint64_t memory, int threads);

// The input block size implied by o (o.block_size if set): about an eighth
// of the budget over the blocks in flight, 64 KiB to 4 MiB.
size_t count_block_size(const CountOptions& o);

// Reads every block of `reader` and returns the summed counts as a lazy
// stream of `key\tcount` records sorted in RecordOrder{o.partitions}, each
// key once. Throws grist::Error: "FILE:LINE: ..." for a value that is not
// an unsigned 64-bit integer (unless skip_bad_lines) or a sum that
// overflows; I/O and decoding errors of the input and of spill files.
std::unique_ptr<RecordStream> count_records(BlockReader& reader, const CountOptions& o,
                                            CountStats& stats);

// Writes the counts as `key\tcount\n` lines, keeping counts >= min_count;
// with top > 0 only the `top` largest (count descending, key ascending).
// Does not commit the sink.
void write_counts(RecordStream& counts, Sink& out, const CountOptions& o, CountStats& stats);

// Same into a partition directory (counts must be in RecordOrder{N} order,
// as count_records gives them with o.partitions == N). top is not allowed.
// Does not commit the writer.
void write_counts(RecordStream& counts, PartitionWriter& out, const CountOptions& o,
                  CountStats& stats);
// Same into whichever output `out` is.
void write_counts(RecordStream& counts, RecordOutput& out, const CountOptions& o,
                  CountStats& stats);

}  // namespace grist
