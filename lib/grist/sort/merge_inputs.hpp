// The merge of sorted inputs: the library behind grist-merge (the reduce
// side of a MapReduce job: sorted files or partition directories, their
// order checked as they are read, equal keys reduced with reducers.hpp)
// and the writers of line records shared by the sort and the merge.
//
//   grist::MergeInputsOptions o;  o.reduce = {grist::Reduction::sum};
//   o.memory = 256 << 20;  // sizes the fan-in (merge_fan_in, merge.hpp)
//   grist::MergeInputsStats st;
//   auto out = grist::Sink::open("-", {});
//   grist::merge_sorted_files({"a.tsv.zst", "b.tsv"}, o, *out, st);
//
//   grist::merge_partition_directories({"shard1", "shard2"}, "totals", o, st);
//
// Records are line records (key, rest): see reducers.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/record_stream.hpp"
#include "grist/sort/reducers.hpp"

namespace grist {

// Reads a sorted input as line records (key, rest), checking the order as
// it goes: a key smaller than the one before is a grist::Error
// "FILE:LINE: disorder: 'KEY' after 'PREV'". Every value must pass `check`
// ("FILE:LINE: value is not ..." otherwise), so that `--reduce sum` and
// `--numeric` name the bad line. Views stay valid until the next next().
class SortedLineReader : public RecordStream {
 public:
  SortedLineReader(std::unique_ptr<Source> source, ValueCheck check = ValueCheck::none,
                   size_t block_size = 128 << 10);
  // On destruction, adds the records and bytes read to these (if set).
  ~SortedLineReader() override;
  std::atomic<uint64_t>* total_records = nullptr;
  std::atomic<uint64_t>* total_bytes = nullptr;
  bool next(Record& r) override;
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return reader_.bytes_read(); }

 private:
  BlockReader reader_;
  Block block_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  uint64_t line_ = 0;
  uint64_t raw_counted_ = 0;  // of reader_.raw_bytes_read(), in merge_input_bytes()
  uint64_t records_ = 0;
  ValueCheck check_;
  bool have_prev_ = false;
  std::string_view prev_view_;  // the previous key: in block_, or in prev_
  std::string prev_;
};

struct MergeInputsOptions {
  ReduceSpec reduce;
  std::string temp_dir = "/tmp";  // for intermediate runs (more inputs than fan_in)
  // The working-memory budget (-S): sizes the fan-in (merge_fan_in at
  // kFileInputCost, merge.hpp) and caps the partitions merged at once (one
  // per kPartitionCost). 0: no budget (fan-in kMaxFanIn, shared).
  uint64_t memory = 0;
  // Most inputs merged at once, shared by the partitions merged at once;
  // more inputs are merged in several passes through zstd runs in
  // temp_dir. 0: from memory.
  size_t fan_in = 0;
  int threads = 1;  // most partitions merged at once (directories)
  SinkOptions sink;  // for the parts of an output partition directory
  std::string tool = "grist-merge";  // for the manifest
  // Partition directories: merge only this partition of each (a reduce
  // task); -1: all of them.
  int64_t only_partition = -1;
};

// What one partition being merged costs besides its inputs: a zstd part
// written (a 1 MiB buffer and the encoder's jobs) and its share of the
// inputs: about 16 MiB.
constexpr uint64_t kPartitionCost = uint64_t(16) << 20;

// The partitions merge_partition_directories merges at once: o.threads,
// at most one per kPartitionCost of o.memory, at least one.
int partitions_at_once(const MergeInputsOptions& o);
// The fan-in of each of `merges` merges running at once under o.
size_t merge_inputs_fan_in(const MergeInputsOptions& o, int merges = 1);

struct MergeInputsStats {
  uint64_t records_in = 0;
  uint64_t bytes_in = 0;
  uint64_t records_out = 0;
  uint64_t intermediate_runs = 0;
  uint32_t partitions = 0;
};

using StreamOpener = std::function<std::unique_ptr<RecordStream>()>;

// Merges sorted line-record inputs (in input order: equal keys come out in
// that order) and applies the reduction. Inputs are opened only when their
// pass starts, so at most o.fan_in are open at once; with more inputs than
// o.fan_in, earlier passes merge groups into zstd runs first. The result is
// lazy.
std::unique_ptr<RecordStream> merge_streams_reduced(std::vector<StreamOpener> inputs,
                                                    const MergeInputsOptions& o,
                                                    uint64_t* intermediate_runs = nullptr);

// Merges sorted files ("-" is stdin) into `out` (key + rest + "\n" lines).
// Does not commit `out`. Throws grist::Error (disorder, bad values, I/O).
void merge_sorted_files(const std::vector<std::string>& paths, const MergeInputsOptions& o,
                        Sink& out, MergeInputsStats& stats);

// Merges partition i of every directory into partition i of a new partition
// directory `out_dir`, partitions in parallel (o.threads at once); with
// o.only_partition = P only partition P (the other parts of `out_dir` are
// empty). Every input is opened with open_partition_directory() and its
// parts read with open_part(): besides what those refuse (an incomplete or
// damaged directory, a part that differs from its manifest), refuses
// directories whose partition counts differ and a P beyond them. The
// output directory is complete (manifest, _SUCCESS, renamed into place) or
// absent.
void merge_partition_directories(const std::vector<std::string>& dirs,
                                 const std::string& out_dir, const MergeInputsOptions& o,
                                 MergeInputsStats& stats);

// Merges every part of the directories (only partition o.only_partition if
// set) into one stream sorted by key, written to `out` (not committed).
// Same checks and refusals as above.
void merge_partition_directories(const std::vector<std::string>& dirs,
                                 const MergeInputsOptions& o, Sink& out,
                                 MergeInputsStats& stats);

// How locate_sum_overflow reads a line: as the sum of grist-merge and
// grist-shuffle-sort does (key TAB unsigned value), or as grist-count does
// (a key alone counts 1; a line with a bad value was skipped).
enum class SumInput { values, counts };

// Finds the record where the sum of a key's values first passes 2^64-1 in
// lines fed to it in input order (the lines of the key only matter).
class SumOverflowFinder {
 public:
  SumOverflowFinder(const SumOverflow& e, SumInput how);
  // Feeds the lines of [p, p + n) (each ending with '\n') of `file`, the
  // first being line `first_line`. Returns true once the record is found.
  bool feed(const std::string& file, uint64_t first_line, const char* p, size_t n);
  // "FILE:LINE: the sum of key 'K' overflows 64 bits (its values from
  // FILE0:LINE0 to here add up to more than 18446744073709551615)" once
  // found; else the message without a place.
  Error error() const;

 private:
  std::string key_, what_, first_, file_;
  SumInput how_;
  uint64_t sum_ = 0, line_ = 0;
  bool found_ = false;
};

// The error to throw for `e`, raised while combining the records of `paths`
// (in this order, which is the order the merge gives equal keys). Reads
// them again, only now that the sum has failed, and names the record where
// the sum of the key's values first passes 2^64-1 and the key's first one:
// "FILE:LINE: the sum of key 'K' overflows 64 bits (its values from
// FILE0:LINE0 to here add up to more than 18446744073709551615)". When an
// input cannot be read twice (standard input, a pipe; or `paths` is empty:
// an already open source) it names the key and says why the line is not
// known. Never throws (but std::bad_alloc).
Error locate_sum_overflow(const std::vector<std::string>& paths, const SumOverflow& e,
                          SumInput how);

// `in`, whose SumOverflow errors become locate_sum_overflow(paths, e, how).
std::unique_ptr<RecordStream> locate_sum_overflows(std::unique_ptr<RecordStream> in,
                                                   std::vector<std::string> paths, SumInput how);

// Writes line records as lines (key + rest + "\n"); returns their number.
uint64_t write_line_records(RecordStream& in, Sink& out);
uint64_t write_line_records(RecordStream& in, PartSink& out);

}  // namespace grist
