// The reducers of equal keys: what grist-merge --reduce and
// grist-shuffle-sort --combine apply (make_reducer), the checks their
// values pass as they are read, and the summing combiner of grist-count's
// counts (SumU64Combiner).
//
// "Line records". Inside grist's sort and merge a line travels as a Record
// whose key is the key (up to the first TAB) and whose value is the REST of
// the line after the key: "" for a line without a TAB, else "\t" followed by
// the value. The line is exactly key + rest, so a line without a TAB stays
// without one, byte for byte (as sort(1) keeps it). The reducers below take
// and return rests in that form.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "grist/error.hpp"
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

// Thrown by the summing combiners when the sum of a key's values passes
// 2^64-1. Combining happens after sorting, where the records' files and
// lines are no longer known: the caller that knows the inputs turns it
// into an error naming them (locate_sum_overflow, merge_inputs.hpp).
class SumOverflow : public Error {
 public:
  explicit SumOverflow(std::string_view key);
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Sums unsigned 64-bit decimal values (grist-count's counts: whole values,
// not rests). Overflow is an error (SumOverflow), never a wrap.
class SumU64Combiner : public Combiner {
 public:
  void start(std::string_view key, std::string_view value) override;
  void add(std::string_view key, std::string_view value) override;
  std::string_view result() override;
  uint64_t sum() const { return sum_; }

 private:
  uint64_t sum_ = 0;
  char buf_[24];
};

}  // namespace grist
