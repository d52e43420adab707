#include "grist/sort/external_sort.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "grist/error.hpp"
#include "grist/record/line_key.hpp"
#include "grist/record/record.hpp"
#include "grist/sort/batch.hpp"
#include "grist/sort/line_scan.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/merge_inputs.hpp"
#include "grist/sort/run.hpp"
#include "grist/sort/spill_writer.hpp"

namespace grist {

size_t sort_block_size(const SortOptions& o) {
  if (o.block_size) return o.block_size;
  return std::clamp<uint64_t>(o.memory / 16, 16 << 10, 4 << 20);
}

namespace {
// Turns escaped whole-line keys back into lines.
class DecodeStream : public RecordStream {
 public:
  explicit DecodeStream(std::unique_ptr<RecordStream> in) : in_(std::move(in)) {}
  bool next(Record& r) override {
    if (!in_->next(r)) return false;
    if (std::memchr(r.key.data(), '\x08', r.key.size())) {
      decode_line_key(r.key, scratch_);
      r.key = scratch_;
    }
    return true;
  }

 private:
  std::unique_ptr<RecordStream> in_;
  std::string scratch_;
};

// The error for an overflow of a sum within one batch: its lines are in
// memory, in input order, whatever the input (standard input included).
Error locate_in_batch(const char* base, const std::vector<Batch::Piece>& pieces,
                      const SumOverflow& e) {
  SumOverflowFinder finder(e, SumInput::values);
  for (const auto& pc : pieces) {
    if (finder.feed(*pc.source, pc.first_line, base + pc.off, pc.size)) break;
  }
  return finder.error();
}

// The last batch, combined in memory: an overflow is named from its lines.
class BatchLocatingStream : public RecordStream {
 public:
  BatchLocatingStream(std::unique_ptr<RecordStream> in, const char* base,
                      std::vector<Batch::Piece> pieces)
      : in_(std::move(in)), base_(base), pieces_(std::move(pieces)) {}
  bool next(Record& r) override {
    try {
      return in_->next(r);
    } catch (const SumOverflow& e) {
      throw locate_in_batch(base_, pieces_, e);
    }
  }

 private:
  std::unique_ptr<RecordStream> in_;
  const char* base_;  // owned by in_
  std::vector<Batch::Piece> pieces_;
};

// Collects input blocks into the batch, sorts and spills it when full, and
// at the end merges the runs and the last batch.
class Sorter {
 public:
  Sorter(const SortOptions& o, SortStats& st)
      : o_(o), st_(st), spill_writer_(o.temp_dir, o.memory, o.combine, o.whole_line) {
    size_t block = sort_block_size(o);
    // The last batch stays in memory through the final merge: the runs'
    // readers get half of what a merge alone would.
    fan_in_ = o.fan_in ? o.fan_in : merge_fan_in(o.memory / 2, kRunInputCost);
    uint64_t fixed = 3 * block + fan_in_ * kRunInputCost + spill_writer_cost(o.memory);
    uint64_t cap = std::max<uint64_t>(o.memory > fixed ? o.memory - fixed : 0, o.memory / 2);
    cap = std::max<uint64_t>(cap, 4 << 10);
    // Offsets are 32-bit.
    batch_cap_ = std::min<uint64_t>(cap, uint64_t(4000) << 20);
    batch_order_.partitions = o.partitions;
    batch_order_.whole_line = o.whole_line;
    batch_order_.wide_digit = o.memory >= (uint64_t(64) << 20);
  }

  void add_block(const Block& b) {
    st_.records += b.lines;
    st_.bytes += b.size;
    if (batch_.need(b.size, b.lines) > batch_.cap) {
      if (batch_.lines && batch_.need(b.size, b.lines) > batch_cap_) {
        try {
          spill();
        } catch (const SumOverflow& e) {  // a sum within this batch: its lines are here
          throw locate_in_batch(batch_.buf.data(), batch_.pieces, e);
        }
      }
      if (batch_.need(b.size, b.lines) > batch_.cap) grow(batch_.need(b.size, b.lines));
    }
    std::memcpy(batch_.buf.data() + batch_.used, b.data(), b.size);
    batch_.pieces.push_back({batch_.used, b.size, b.lines, batch_.lines, b.first_line, b.source});
    batch_.used += b.size;
    batch_.lines += b.lines;
  }

  std::unique_ptr<RecordStream> finish() {
    std::unique_ptr<RecordStream> last = last_batch();
    std::unique_ptr<RecordStream> out;
    st_.merge_passes = 0;
    if (!runs_.empty()) {
      out = merge_spills(std::move(last));
    } else if (last) {
      out = std::move(last);
    } else {
      struct Empty : RecordStream {
        bool next(Record&) override { return false; }
      };
      out = std::make_unique<Empty>();
    }
    if (o_.whole_line) out = std::make_unique<DecodeStream>(std::move(out));
    return out;
  }

 private:
  // Makes room for `need` bytes, keeping the lines: the buffer at least
  // doubles, up to the batch's share of the budget (one block larger than
  // that gets what it needs). Memory is taken as the input needs it, so a
  // small input under a small address-space limit (ulimit -v) takes little.
  void grow(size_t need) {
    const uint64_t doubled = std::max<uint64_t>(2 * uint64_t(batch_.cap), 1 << 20);
    const size_t cap = std::max<size_t>(need, std::min<uint64_t>(batch_cap_, doubled));
    batch_.buf.resize(cap);
    batch_.cap = cap;
  }

  void sort() {
    ++st_.batches;
    sort_batch(batch_, batch_order_, scratch_);
  }

  void spill() {
    sort();
    runs_.push_back(spill_writer_.write(batch_));
    ++st_.spills;
    st_.spill_bytes += runs_.back().file_bytes;
    batch_.clear();
  }

  // The sorted (and combined) last batch, read from memory; null if empty.
  std::unique_ptr<RecordStream> last_batch() {
    if (!batch_.lines) return nullptr;
    sort();
    const char* base = batch_.buf.data();
    const bool sum = o_.combine.op == Reduction::sum;
    std::vector<Batch::Piece> pieces = sum ? batch_.pieces : std::vector<Batch::Piece>{};
    std::unique_ptr<RecordStream> last =
        std::make_unique<BatchStream>(std::move(batch_), o_.whole_line);
    if (o_.combine.op != Reduction::none) {
      last = std::make_unique<CombiningStream>(std::move(last), make_reducer(o_.combine));
    }
    if (sum) last = std::make_unique<BatchLocatingStream>(std::move(last), base, std::move(pieces));
    return last;
  }

  // The final merge of the runs, the last batch (if any) joining it.
  std::unique_ptr<RecordStream> merge_spills(std::unique_ptr<RecordStream> last) {
    MergeOptions merge_options;
    merge_options.temp_dir = o_.temp_dir;
    merge_options.fan_in = fan_in_;
    merge_options.level = kRunLevel;  // intermediate runs too are written once, read once
    merge_options.order = RecordOrder{o_.partitions};
    if (o_.combine.op != Reduction::none) {
      ReduceSpec spec = o_.combine;
      merge_options.make_combiner = [spec] { return make_reducer(spec); };
    }
    std::vector<std::unique_ptr<RecordStream>> extra;
    if (last) extra.push_back(std::move(last));
    MergeStats merge_stats;
    auto out = merge_runs(std::move(runs_), merge_options, &merge_stats, std::move(extra));
    st_.merge_passes = merge_stats.passes;
    st_.intermediate_runs = merge_stats.intermediate_runs;
    return out;
  }

  const SortOptions& o_;
  SortStats& st_;
  BatchOrder batch_order_;
  size_t fan_in_;
  uint64_t batch_cap_;
  Batch batch_;
  std::vector<uint32_t> scratch_;  // sort_batch(): per group and digit
  std::vector<Run> runs_;
  SpillWriter spill_writer_;
};

// The values --combine reads, checked as they are read, where the file and
// line of a bad one are known (the combiner sees them after sorting).
void check_values(const Block& b, ValueCheck check) {
  uint64_t line = b.first_line;
  const char* p = b.data();
  const char* end = p + b.size;
  for (; p < end; ++line) {
    const char* nl = line_scan::line_end(p);
    const KeyValue kv = split_key_value({p, static_cast<size_t>(nl - p)});
    if (const char* what = value_error(check, kv.value)) {
      throw Error(*b.source, line, what + quote_key(kv.value));
    }
    p = nl + 1;
  }
}

}  // namespace

std::unique_ptr<RecordStream> sort_line_records(BlockReader& reader, const SortOptions& o,
                                                SortStats& stats) {
  if (o.whole_line && o.partitions) {
    throw UsageError("--by line sorts whole lines: it does not make partitions");
  }
  if (o.combine.op == Reduction::count) {
    throw UsageError("count is not a combiner (use sum on key TAB 1 records)");
  }
  Sorter s(o, stats);
  Block b;
  const ValueCheck check = o.whole_line ? ValueCheck::none : value_check_for(o.combine);
  while (reader.next(b)) {
    if (check != ValueCheck::none) check_values(b, check);
    s.add_block(b);
  }
  auto sorted = s.finish();
  if (o.combine.op != Reduction::sum) return sorted;
  return locate_sum_overflows(std::move(sorted), reader.paths(), SumInput::values);
}

uint64_t write_line_records(RecordStream& in, PartitionWriter& out) {
  uint64_t n = 0;
  Record r;
  while (in.next(r)) {
    out.add(r.key, rest_value(r.value));
    ++n;
  }
  return n;
}

uint64_t write_line_records(RecordStream& in, RecordOutput& out) {
  if (out.directory()) return write_line_records(in, *out.directory());
  return write_line_records(in, *out.file());
}

}  // namespace grist
