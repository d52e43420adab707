// k-way merging of sorted record streams, with an optional combiner, and
// the multi-level merge of many runs with a bounded fan-in.
//
//   std::vector<std::unique_ptr<grist::RecordStream>> in = ...;  // each sorted
//   grist::KWayMerger m(std::move(in), order);      // one sorted stream
//   grist::CombiningStream c(std::make_unique<grist::KWayMerger>(...),
//                            std::make_unique<grist::SumU64Combiner>());
//
//   grist::MergeOptions mo;  mo.temp_dir = dir;  mo.fan_in = 64;
//   mo.make_combiner = [] { return std::make_unique<grist::SumU64Combiner>(); };
//   auto stream = grist::merge_runs(std::move(runs), mo, &stats);
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
// the merge is stable and deterministic. Holds one record per input.
class KWayMerger : public RecordStream {
 public:
  KWayMerger(std::vector<std::unique_ptr<RecordStream>> inputs, RecordOrder order = {});
  ~KWayMerger() override;
  bool next(Record& r) override;
  size_t inputs() const { return inputs_.size(); }

 private:
  struct Head {
    Record rec;
    uint64_t rank;
  };
  bool less(uint32_t a, uint32_t b) const;
  void sift_down(size_t i);
  bool advance(uint32_t input);

  std::vector<std::unique_ptr<RecordStream>> inputs_;
  std::vector<Head> heads_;
  std::vector<uint32_t> heap_;  // input indexes, a binary min-heap
  RecordOrder order_;
  bool started_ = false;
  int64_t pending_ = -1;  // input whose record was returned last: advance it first
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

struct MergeOptions {
  std::string temp_dir;  // where intermediate runs go
  // Most runs merged at once (>= 2). Each open run costs about 1 MiB
  // (RunReader), so fan_in bounds both memory and file descriptors.
  size_t fan_in = 64;
  RecordOrder order;
  int level = 1;  // zstd level of intermediate runs
  // Makes the combiner applied while merging (equal keys reduced to one
  // record); empty: records with equal keys are all kept, in stable order.
  std::function<std::unique_ptr<Combiner>()> make_combiner;
};

struct MergeStats {
  uint64_t intermediate_runs = 0;  // runs written by intermediate passes
  uint64_t passes = 0;             // merge passes, the final one included
};

// Merges `runs` (each sorted in mo.order, given in the order of the data:
// earlier runs hold earlier records, which decides the order of equal keys
// without a combiner). While more than mo.fan_in runs remain, a pass merges
// each group of mo.fan_in consecutive runs into one run, in place (so the
// merge stays stable), bounding open files and memory. Returns the final
// merge as a lazy stream; extra streams (in-memory sorted data) may be
// appended by the caller with `extra`, after the runs. Throws grist::Error.
std::unique_ptr<RecordStream> merge_runs(std::vector<Run> runs, const MergeOptions& mo,
                                         MergeStats* stats = nullptr,
                                         std::vector<std::unique_ptr<RecordStream>> extra = {});

}  // namespace grist
