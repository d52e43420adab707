#include "grist/sort/spill_writer.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "grist/sort/line_scan.hpp"
#include "grist/sort/merge.hpp"

namespace grist {

using line_scan::line_end;
using line_scan::line_end_before;

size_t spill_slice(uint64_t memory) {
  return std::clamp<uint64_t>(memory / 256, 32 << 10, 256 << 10);
}

uint64_t spill_writer_cost(uint64_t memory) {
  return kSpillTokens * 3 * spill_slice(memory) + (1 << 20);
}

SpillWriter::SpillWriter(std::string temp_dir, uint64_t memory, ReduceSpec combine,
                         bool whole_line)
    : temp_dir_(std::move(temp_dir)), memory_(memory), combine_(combine), whole_line_(whole_line) {}

struct SpillWriter::Slice {
  size_t from = 0, to = 0;
  size_t done = 0;  // plain slices: entries from..done encoded (the rest: last stage)
  size_t used = 0;  // plain slices: bytes of `lines` used
  uint64_t records = 0, bytes = 0;
  uint64_t line_bytes = 0;  // of the input lines from..to (whole groups)
  std::vector<char> lines, frame;
};

namespace {

bool different_keys(const Entry& a, const Entry& b, const char* base) {
  if (a.prefix != b.prefix || a.klen != b.klen) return true;
  return std::memcmp(base + a.off, base + b.off, a.klen) != 0;
}

}  // namespace

// One spill: the pipeline's three stages over the batch's sorted entries.
// Slices are reused; the first and the last stage may run at once on
// different threads, hence the lock. kSpillTokens items in flight at most,
// so a slice is always free when the first stage runs.
//
// Plain slices (no combiner, key-value lines) are cut by count, at the
// batch's mean line length, and lines_of() stops at the byte limit, the
// last stage encoding what is left. Other slices are cut by size from the
// line bytes of each group of kGroup entries (the entries hold key lengths
// only), so a slice passes spill_slice() bytes by less than a group's lines.
class SpillWriter::Spill {
 public:
  Spill(SpillWriter& w, const Batch& b)
      : w_(w),
        e_(b.entries()),
        n_(b.lines),
        base_(b.buf.data()),
        used_end_(base_ + b.used),
        combine_(w.combine_.op != Reduction::none),
        plain_(!combine_ && !w.whole_line_),
        slice_bytes_(spill_slice(w.memory_)),
        slice_count_(std::max<size_t>(1, slice_bytes_ / mean_line(b))),
        run_(w.temp_dir_, kRunLevel),
        slices_(kSpillTokens) {
    for (auto& sl : slices_) free_.push_back(&sl);
  }

  Run write() {
    if (!plain_) measure_groups();
    tbb::parallel_pipeline(
        kSpillTokens,
        tbb::make_filter<void, Slice*>(tbb::filter_mode::serial_in_order,
                                       [&](tbb::flow_control& fc) { return cut(fc); }) &
            tbb::make_filter<Slice*, Slice*>(tbb::filter_mode::parallel,
                                             [&](Slice* sl) { return encode(sl); }) &
            tbb::make_filter<Slice*, void>(tbb::filter_mode::serial_in_order,
                                           [&](Slice* sl) { put(sl); }));
    return run_.finish();
  }

 private:
  static constexpr size_t kGroup = 64;

  static size_t mean_line(const Batch& b) {
    return std::max<size_t>(1, b.used / std::max<size_t>(b.lines, 1));
  }

  void measure_groups() {
    group_bytes_.resize((n_ + kGroup - 1) / kGroup);
    const bool whole = w_.whole_line_;
    tbb::parallel_for(size_t(0), group_bytes_.size(), [&](size_t g) {
      uint64_t sum = 0;
      for (size_t i = g * kGroup, end = std::min(n_, i + kGroup); i < end; ++i) {
        if (i + 8 < end) __builtin_prefetch(base_ + e_[i + 8].off + e_[i + 8].klen);
        const char* v = base_ + e_[i].off + e_[i].klen;
        sum += e_[i].klen + (whole ? 1 : static_cast<size_t>(line_end(v) - v) + 1);
      }
      group_bytes_[g] = sum;
    });
  }

  // First stage: the next slice of entries.
  Slice* cut(tbb::flow_control& fc) {
    if (at_ == n_) {
      fc.stop();
      return nullptr;
    }
    Slice* sl;
    {
      std::lock_guard<std::mutex> lock(free_lock_);
      sl = free_.back();
      free_.pop_back();
    }
    sl->from = at_;
    if (plain_) {
      sl->to = at_ = std::min(n_, at_ + slice_count_);
      return sl;
    }
    uint64_t bytes = 0;
    size_t to = at_;
    while (to < n_ && bytes < slice_bytes_) {
      bytes += group_bytes_[to / kGroup];
      to = std::min(n_, (to / kGroup + 1) * kGroup);
    }
    // With a combiner, equal keys stay in one slice.
    while (combine_ && to < n_ && !different_keys(e_[to - 1], e_[to], base_)) ++to;
    sl->to = to;
    sl->line_bytes = bytes;
    at_ = to;
    return sl;
  }

  // Parallel stage: the slice's run records, compressed.
  Slice* encode(Slice* sl) {
    if (plain_) {
      sl->done = sl->from + lines_of(e_ + sl->from, sl->to - sl->from, *sl);
      w_.compressors_.local().compress(sl->lines.data(), sl->used, sl->frame);
      return sl;
    }
    std::unique_ptr<RecordStream> s =
        std::make_unique<BatchStream>(base_, e_ + sl->from, sl->to - sl->from, w_.whole_line_);
    if (combine_) s = std::make_unique<CombiningStream>(std::move(s), make_reducer(w_.combine_));
    sl->lines.clear();
    sl->records = 0;
    sl->bytes = 0;
    std::string& prev = w_.prev_keys_.local();
    prev.clear();
    Record r;
    while (s->next(r)) {
      const size_t shared = common_prefix(prev, r.key);
      size_t at_line = sl->lines.size();
      sl->lines.resize(at_line + run_record_bound(r.key.size() - shared, r.value.size()));
      char* end = encode_run_record(sl->lines.data() + at_line, shared, r.key, r.value);
      sl->lines.resize(static_cast<size_t>(end - sl->lines.data()));
      prev.resize(shared);
      if (r.key.size() > shared) prev.append(r.key.data() + shared, r.key.size() - shared);
      ++sl->records;
      sl->bytes += r.key.size() + r.value.size() + 2;
    }
    w_.compressors_.local().compress(sl->lines.data(), sl->lines.size(), sl->frame);
    return sl;
  }

  // Last stage: the frame into the run, in order.
  void put(Slice* sl) {
    run_.add_frame({sl->frame.data(), sl->frame.size()}, sl->records, sl->bytes);
    // Lines longer than the mean: the rest of a plain slice, here.
    while (plain_ && sl->done < sl->to) {
      sl->done += lines_of(e_ + sl->done, sl->to - sl->done, *sl);
      w_.compressors_.local().compress(sl->lines.data(), sl->used, sl->frame);
      run_.add_frame({sl->frame.data(), sl->frame.size()}, sl->records, sl->bytes);
    }
    std::lock_guard<std::mutex> lock(free_lock_);
    free_.push_back(sl);
  }

  // The run records (run.hpp) of sorted entries of key-value lines,
  // straight from the batch: what BatchStream and the record loop make,
  // without a virtual call and a Record per line. Encodes entries while
  // they fit in about slice_bytes_ (at least one) and returns how many.
  // The first record shares nothing, so that slices encoded in parallel
  // can be concatenated.
  size_t lines_of(const Entry* e, size_t n, Slice& sl) const {
    const size_t limit = slice_bytes_;
    if (sl.lines.size() < limit + 64) sl.lines.resize(limit + 64);
    char* first = sl.lines.data();
    char* out = first;
    char* stop = first + sl.lines.size();
    uint64_t line_bytes = 0;
    std::string_view prev;
    size_t i = 0;
    for (; i < n; ++i) {
      // Lines are visited in key order, i.e. at random: fetch ahead (the
      // value too, which may lie in the next cache line).
      if (i + 16 < n) {
        __builtin_prefetch(base_ + e[i + 16].off);
        __builtin_prefetch(base_ + e[i + 16].off + e[i + 16].klen + 8);
      }
      const char* p = base_ + e[i].off;
      const char* v = p + e[i].klen;
      const std::string_view key(p, e[i].klen);
      const std::string_view value(v, static_cast<size_t>(line_end_before(v, used_end_) - v));
      const size_t shared = common_prefix(prev, key);
      const size_t need = run_record_bound(key.size() - shared, value.size());
      if (need > static_cast<size_t>(stop - out)) {
        if (i > 0) break;
        sl.lines.resize(need);  // one record longer than the limit
        first = out = sl.lines.data();
        stop = first + sl.lines.size();
      }
      out = encode_run_record(out, shared, key, value);
      line_bytes += key.size() + value.size() + 1;
      prev = key;
      if (static_cast<size_t>(out - first) >= limit) {
        ++i;
        break;
      }
    }
    sl.used = static_cast<size_t>(out - first);
    sl.records = i;
    sl.bytes = line_bytes + i;  // as lines: key TAB value LF
    return i;
  }

  SpillWriter& w_;
  const Entry* e_;
  const size_t n_;
  const char* base_;
  const char* used_end_;
  const bool combine_, plain_;
  const size_t slice_bytes_, slice_count_;
  RunWriter run_;
  std::vector<Slice> slices_;
  std::vector<Slice*> free_;
  std::mutex free_lock_;
  std::vector<uint64_t> group_bytes_;  // line bytes per kGroup entries (not plain)
  size_t at_ = 0;                      // the next entry to cut
};

Run SpillWriter::write(const Batch& batch) { return Spill(*this, batch).write(); }

}  // namespace grist
