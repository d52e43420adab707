// Reducers and the merge of sorted inputs: the library behind grist-merge
// (the reduce side of a MapReduce job) and behind grist-shuffle-sort's
// --combine.
//
//   grist::MergeInputsOptions o;  o.reduce = {grist::Reduction::sum};
//   grist::MergeInputsStats st;
//   auto out = grist::Sink::open("-", {});
//   grist::merge_sorted_files({"a.tsv.zst", "b.tsv"}, o, *out, st);
//
//   grist::merge_partition_directories({"shard1", "shard2"}, "totals", o, st);
//
// "Line records". Inside grist's sort and merge a line travels as a Record
// whose key is the key (up to the first TAB) and whose value is the REST of
// the line after the key: "" for a line without a TAB, else "\t" followed by
// the value. The line is exactly key + rest, so a line without a TAB stays
// without one, byte for byte (as sort(1) keeps it). The reducers below take
// and return rests in that form.
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

namespace grist {

enum class Reduction { none, sum, count, min, max, first, last };

// "sum", "count", "min", "max", "first", "last" (and "none"); throws
// grist::UsageError on anything else.
Reduction parse_reduction(std::string_view name);
const char* reduction_name(Reduction r);

struct ReduceSpec {
  Reduction op = Reduction::none;
  // min/max: compare values as numbers (decimal, with a sign, a point and
  // an exponent, as `sort -g` reads them) instead of bytewise. A value that
  // is not a finite number (parse_finite_number) is then an error.
  bool numeric = false;
};

// The one rule for --numeric: a value is an optional sign, decimal digits
// with an optional point, and an optional exponent, whose value is finite
// as a 64-bit double. "nan", "inf", "infinity", hexadecimal, surrounding
// spaces, and numbers beyond a double's range (1e999, and 1e-999, which
// would round to 0 and tie with 0) are not numbers. Values are compared as
// doubles; -0 equals 0.
bool parse_finite_number(std::string_view s, double& out);

// What a reader checks of every value, as it reads it, so that a bad value
// is an error naming its file and line (combining happens later, after
// sorting, where they are no longer known).
enum class ValueCheck { none, u64, number };
// The check a reduction needs: u64 for sum, number for numeric min/max.
ValueCheck value_check_for(const ReduceSpec& spec);
// nullptr if `value` passes the check, else the start of the message
// ("value is not ...: "), to be followed by the quoted value.
const char* value_error(ValueCheck check, std::string_view value);

// A Combiner over line-record rests (see above), reducing the records of one
// key in stream order:
//   sum    "\t" + the unsigned 64-bit sum of the values (a value that is not
//          an unsigned decimal, an empty one included, or an overflow is an
//          error naming the key);
//   count  "\t" + the number of records;
//   min    the rest of the record with the smallest value (bytewise, or
//          numeric with spec.numeric); the first one on ties;
//   max    the same with the largest value; the first one on ties;
//   first  the rest of the first record; last: of the last one.
// Returns nullptr for Reduction::none. count is not a combiner (applying it
// twice counts counts): apply it once, to the final stream.
std::unique_ptr<Combiner> make_reducer(const ReduceSpec& spec);

// The value of a line-record rest ("" or what follows the TAB).
inline std::string_view rest_value(std::string_view rest) {
  return rest.empty() ? rest : rest.substr(1);
}

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
  // Most inputs merged at once; more inputs are merged in several passes
  // through zstd runs in temp_dir. 0: 64.
  size_t fan_in = 0;
  int threads = 1;  // partitions merged at once (directories)
  SinkOptions sink;  // for the parts of an output partition directory
  std::string tool = "grist-merge";  // for the manifest
  // Partition directories: merge only this partition of each (a reduce
  // task); -1: all of them.
  int64_t only_partition = -1;
};

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
