// k-way merging of sorted record streams, with an optional combiner, and
// the multi-level merge of many runs with a bounded fan-in.
//
//   std::vector<std::unique_ptr<grist::RecordStream>> in = ...;  // each sorted
//   grist::KWayMerger m(std::move(in), order);      // one sorted stream
//   grist::CombiningStream c(std::make_unique<grist::KWayMerger>(...),
//                            std::make_unique<grist::SumU64Combiner>());
//
//   grist::MergeOptions options;  options.temp_dir = dir;  options.fan_in = 64;
//   options.make_combiner = [] { return std::make_unique<grist::SumU64Combiner>(); };
//   auto stream = grist::merge_runs(std::move(runs), options, &stats);
//   // stream is lazy: the last merge pass feeds the caller directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grist/sort/record_stream.hpp"
#include "grist/sort/run.hpp"

namespace grist {

// Merges streams sorted in `order` into one stream sorted in `order`.
// Records with equal keys come out in input order (the record of input i
// before the record of input j > i; within one input, its own order), so
// the merge is stable and deterministic.
//
// Each input is read ahead in chunks (about 128 KiB of record bytes, copied),
// the next chunk filled by a oneTBB task while the current one is merged, so
// that decompressing and parsing the inputs runs beside the merge. Memory:
// about 600 KiB per input. An input's next() is called by one thread at a
// time, in order; an error it throws is rethrown by KWayMerger::next() when
// the merge reaches that point of that input, exactly as without read-ahead.
class KWayMerger : public RecordStream {
 public:
  KWayMerger(std::vector<std::unique_ptr<RecordStream>> inputs, RecordOrder order = {});
  ~KWayMerger() override;
  bool next(Record& r) override;
  size_t inputs() const { return inputs_.size(); }

  struct Input;  // an input and its read-ahead chunks (merge.cpp)

 private:
  // The current record of an input, as the tree compares it. An exhausted
  // input has rank kDone (greater than every real rank) and zero prefixes
  // and length, so that the common comparisons need no separate test.
  struct Head {
    uint64_t rank;
    uint64_t prefix[2];  // first 16 key bytes, big-endian, zero-padded
    const char* key;
    uint32_t klen;
  };
  static constexpr uint64_t kDone = ~uint64_t(0);
  inline bool less(uint32_t a, uint32_t b) const;
  uint32_t build(size_t node);
  bool advance(uint32_t input);

  std::vector<std::unique_ptr<Input>> inputs_;
  std::vector<Head> heads_;
  // A tournament (loser) tree: tree_[0] is the input with the smallest
  // record, tree_[n] for 0 < n < k the loser of the match at node n (the
  // leaves k..2k-1 are the inputs): log2(k) comparisons per record.
  std::vector<uint32_t> tree_;
  RecordOrder order_;
  bool started_ = false;
};

// Combines adjacent records with equal keys of a sorted stream into one
// record (key, combiner result). Without a combiner it passes records on.
class CombiningStream : public RecordStream {
 public:
  CombiningStream(std::unique_ptr<RecordStream> input, std::unique_ptr<Combiner> combiner);
  bool next(Record& r) override;

 private:
  std::unique_ptr<RecordStream> input_;
  std::unique_ptr<Combiner> combiner_;
  Record look_;
  bool have_look_ = false;
  bool started_ = false;
  std::string key_;
};

// The fan-in policy of every merge (grist-shuffle-sort, grist-count,
// grist-merge): each open input costs at most `input_cost` bytes; half of
// the memory given goes to open inputs, at most kMaxFanIn of them in all,
// shared by `merges` merges running at once, and each merge opens at least
// two. Spill runs cost kRunInputCost (RunReader: its zstd window and
// buffers); a user's file kFileInputCost (a 1 MiB read buffer, the 2 MiB
// window of a zstd input written at the default level, its block:
// tests/e2e/faults/memory.sh measures the whole).
constexpr uint64_t kRunInputCost = uint64_t(1) << 20;
constexpr uint64_t kFileInputCost = uint64_t(4) << 20;
constexpr size_t kMaxFanIn = 64;
size_t merge_fan_in(uint64_t memory, uint64_t input_cost, int merges = 1);

struct MergeOptions {
  std::string temp_dir;  // where intermediate runs go
  // Most runs merged at once (>= 2). Each open run costs about 1 MiB
  // (RunReader), so fan_in bounds both memory and file descriptors.
  size_t fan_in = 64;
  RecordOrder order;
  int level = kRunLevel;  // zstd level of intermediate runs
  // Makes the combiner applied while merging (equal keys reduced to one
  // record); empty: records with equal keys are all kept, in stable order.
  std::function<std::unique_ptr<Combiner>()> make_combiner;
};

struct MergeStats {
  uint64_t intermediate_runs = 0;  // runs written by intermediate passes
  uint64_t passes = 0;             // merge passes, the final one included
};

// Merges `runs` (each sorted in merge_options.order, given in the order of
// the data: earlier runs hold earlier records, which decides the order of
// equal keys without a combiner). While more than merge_options.fan_in runs
// remain, a pass merges each group of merge_options.fan_in consecutive runs
// into one run, in place (so the
// merge stays stable), bounding open files and memory. Returns the final
// merge as a lazy stream; extra streams (in-memory sorted data) may be
// appended by the caller with `extra`, after the runs. Throws grist::Error.
std::unique_ptr<RecordStream> merge_runs(std::vector<Run> runs,
                                         const MergeOptions& merge_options,
                                         MergeStats* stats = nullptr,
                                         std::vector<std::unique_ptr<RecordStream>> extra = {});

}  // namespace grist
