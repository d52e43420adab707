// A seeded, uniformly random permutation of lines within a memory budget:
// the library behind grist-shuffle-sort --random.
//
//   grist::ShuffleOptions o;  o.memory = 256 << 20;  o.seed = 7;
//   grist::BlockReader reader(paths, grist::shuffle_block_size(o));
//   grist::ShuffleStats st;
//   grist::shuffle_lines(reader, o, *sink, st);
//
// The permutation is defined without reference to memory: line i (0-based,
// over all inputs) gets the rank shuffle_rank(seed, i), and the output is
// the lines in increasing rank. The ranks of one seed are distinct (a
// bijection of i), so the order is total, and it depends only on the input
// and the seed, never on -S, -j or spills.
//
// When the input does not fit in memory, lines are scattered to B = 2^b
// buckets on disk by the top b bits of their rank (so bucket order is rank
// order), each bucket a sequence of zstd frames (a fast match finder with
// Huffman-coded literals, compressed by oneTBB tasks beside the scattering)
// in one anonymous spill file, each line stored with the gap to the index
// of the bucket's previous line rather than its 8-byte rank. Then each
// bucket is loaded into one half of the memory (its frames decoded in
// parallel), radix-sorted by rank and written out, while the next bucket
// is loaded and sorted into the other half. A bucket still too large for
// half the memory is scattered again by the next bits.
// B comes from the input size when it is known (regular files), otherwise
// it is the most the buffer budget allows; recursion covers a bad guess.
#pragma once

#include <cstdint>
#include <string>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"

namespace grist {

struct ShuffleOptions {
  uint64_t memory = uint64_t(1) << 30;  // the whole working-memory budget
  std::string temp_dir = "/tmp";
  uint64_t seed = 0;
  size_t block_size = 0;  // 0: shuffle_block_size()
  // Buckets of the first scatter (a power of two); 0: from the input size.
  size_t buckets = 0;
};

struct ShuffleStats {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t buckets = 0;      // buckets written, all levels
  uint64_t spill_bytes = 0;  // compressed bytes written to spill files
  uint32_t levels = 0;       // scatter levels (0: everything fitted in memory)
};

size_t shuffle_block_size(const ShuffleOptions& o);

// The rank of line `index` for `seed`: the SplitMix64 output for the state
// mix(seed) + (index + 1) * 0x9E3779B97F4A7C15, where mix is SplitMix64's
// output function. Distinct for distinct indexes.
uint64_t shuffle_rank(uint64_t seed, uint64_t index);

// Writes the lines of `reader` to `out` in random order (each line followed
// by '\n'). Does not commit `out`. Throws grist::Error on input errors and
// spill errors (a full spill directory).
void shuffle_lines(BlockReader& reader, const ShuffleOptions& o, Sink& out, ShuffleStats& stats);

}  // namespace grist
