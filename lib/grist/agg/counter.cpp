#include "grist/agg/counter.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <tbb/concurrent_queue.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <queue>

#include "grist/agg/count_table.hpp"
#include "grist/error.hpp"
#include "grist/record/record.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/merge_inputs.hpp"
#include "grist/sort/run.hpp"

namespace grist {

namespace {

size_t tokens_for(const CountOptions& o) { return static_cast<size_t>(std::max(o.threads, 1)) * 2; }

// Bits set where the 64 bytes from p equal c (bit i: p[i]).
#if defined(__SSE2__)
using ByteSplat = __m128i;  // c in every byte
inline ByteSplat splat(char c) { return _mm_set1_epi8(c); }
inline uint64_t eq_mask64(const char* p, ByteSplat c) {
  uint64_t m = 0;
  for (int o = 0; o < 64; o += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + o));
    m |= uint64_t(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)))) << o;
  }
  return m;
}
#else
using ByteSplat = char;
inline ByteSplat splat(char c) { return c; }
inline uint64_t eq_mask64(const char* p, ByteSplat c) {
  uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= uint64_t(p[i] == c) << i;
  return m;
}
#endif

// One aggregation worker's state; a pool of them is shared by the pipeline's
// parallel stage (a bounded pool rather than thread-local storage, so that
// the number of tables never exceeds `threads` whichever threads TBB uses).
struct Worker {
  explicit Worker(size_t budget) : table(budget) {}
  CountTable table;
  int64_t accounted = 0;  // table memory last added to the total
  uint64_t records = 0;
  SkippedLines skipped;  // its `first`: the earliest of this worker's, at:
  uint64_t first_bad_block = UINT64_MAX, first_bad_line = 0;
};

class Aggregator {
 public:
  Aggregator(const CountOptions& o, CountStats& st) : o_(o), st_(st), order_{o.partitions} {}

  void spill(Worker& w) {
    w.table.sort(order_);
    RunWriter rw(o_.temp_dir, kCompactRunLevel);
    char buf[24];
    for (size_t i = 0; i < w.table.size(); ++i) {
      char* e = format_u64(w.table.count(i), buf);
      rw.add(w.table.key(i), std::string_view(buf, static_cast<size_t>(e - buf)));
    }
    Run run = rw.finish();
    w.table.clear();
    std::lock_guard<std::mutex> lock(mu_);
    st_.spills++;
    st_.spill_bytes += run.file_bytes;
    runs_.push_back(std::move(run));
  }

  // Keeps the sum of all tables' memory and its peak up to date.
  void report(Worker& w) {
    int64_t now = static_cast<int64_t>(w.table.memory());
    int64_t delta = now - w.accounted;
    w.accounted = now;
    int64_t total = table_memory_.fetch_add(delta) + delta;
    int64_t peak = peak_.load();
    while (total > peak && !peak_.compare_exchange_weak(peak, total)) {
    }
  }

  // The line number of the line holding p, for messages (rare: counted
  // rather than tracked).
  static uint64_t line_at(const Block& b, const char* p) {
    return b.first_line + static_cast<uint64_t>(std::count(b.data(), p, '\n'));
  }

  void bad_line(Worker& w, const Block& b, const char* at, std::string_view value) {
    uint64_t line = line_at(b, at);
    std::string msg = "count is not an unsigned 64-bit integer: " + quote_input(value, 40);
    if (!o_.skip_bad_lines) throw Error(*b.source, line, msg);
    ++w.skipped.count;
    if (b.index < w.first_bad_block ||
        (b.index == w.first_bad_block && line < w.first_bad_line)) {
      w.first_bad_block = b.index;
      w.first_bad_line = line;
      w.skipped.first = escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line) + ": " + msg;
    }
  }

  // add() of a key the table refused (full or overflow).
  __attribute__((noinline)) void add(Worker& w, const Block& b, const CountTable::Key& key,
                                     uint64_t n) {
    const char* at = key.data;
    for (;;) {
      switch (w.table.add(key, n)) {
        case CountTable::AddResult::ok:
          return;
        case CountTable::AddResult::overflow:
          throw Error(*b.source, line_at(b, at),
                      "the count of key " + quote_key(std::string_view(at, key.size())) +
                          " overflows 64 bits");
        case CountTable::AddResult::full:
          report(w);
          spill(w);
          report(w);
          break;
      }
    }
  }

  void aggregate(Worker& w, const Block& b) {
    // Lines are found 64 bytes at a time from bit masks of '\n' and '\t';
    // keys are packed and hashed a batch ahead of the table lookups, with
    // their slots prefetched, so that the lookups' cache misses overlap.
    constexpr int kBatch = 32;
    CountTable::Key keys[kBatch];
    uint64_t ns[kBatch];
    int pending = 0;
    CountTable& table = w.table;
    auto drain = [&] {
      for (int i = 0; i < pending; ++i) {
        if (__builtin_expect(table.add(keys[i], ns[i]) != CountTable::AddResult::ok, 0)) {
          add(w, b, keys[i], ns[i]);  // full or overflow: spill and retry, or throw
        }
      }
      pending = 0;
    };
    auto emit = [&](const char* k, size_t len, uint64_t n) {
      CountTable::Key& key = keys[pending];
      key = CountTable::make_key_padded(k, len);
      table.prefetch(key);
      ns[pending] = n;
      if (++pending == kBatch) drain();
    };
    const ByteSplat nl_c = splat('\n'), tab_c = splat('\t');
    const char* const base = b.data();
    const char* const end = base + b.size;
    const char* line = base;     // start of the current line
    const char* tab = nullptr;   // its first tab, once seen
    // The block is followed by kBlockPadding (>= 64) zero bytes: the last
    // 64-byte load and a key's 16-byte load stay inside the buffer and see
    // no '\n' or '\t' past the end.
    for (const char* c = base; c < end; c += 64) {
      uint64_t nl = eq_mask64(c, nl_c);
      uint64_t tb = eq_mask64(c, tab_c);
      if (tb == 0 && tab == nullptr) {  // plain keys: the common case
        while (nl) {
          const char* e = c + __builtin_ctzll(nl);
          nl &= nl - 1;
          emit(line, static_cast<size_t>(e - line), 1);
          line = e + 1;
        }
        continue;
      }
      for (uint64_t m = nl | tb; m; m &= m - 1) {
        int i = __builtin_ctzll(m);
        const char* e = c + i;
        if (!((nl >> i) & 1)) {  // a tab: the first one splits the line
          if (!tab) tab = e;
          continue;
        }
        if (tab) {
          std::string_view value(tab + 1, static_cast<size_t>(e - tab - 1));
          auto v = parse_u64(value);
          if (v) {
            emit(line, static_cast<size_t>(tab - line), *v);
          } else {
            drain();  // earlier lines first, as their errors come first
            bad_line(w, b, line, value);
          }
          tab = nullptr;
        } else {
          emit(line, static_cast<size_t>(e - line), 1);
        }
        line = e + 1;
      }
    }
    drain();
    w.records += b.lines;
    report(w);
  }

  std::vector<Run> take_runs() { return std::move(runs_); }
  size_t peak() const { return static_cast<size_t>(peak_.load()); }

 private:
  const CountOptions& o_;
  CountStats& st_;
  RecordOrder order_;
  std::mutex mu_;
  std::vector<Run> runs_;
  std::atomic<int64_t> table_memory_{0}, peak_{0};
};

// The result stream, owning the tables it reads in the in-memory case.
class CountsStream : public RecordStream {
 public:
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<RecordStream> inner;
  bool next(Record& r) override { return inner->next(r); }
};

// Reads every block of `reader` and aggregates it into the workers' tables
// (spilling them as they fill), `threads` blocks at once. The pools of
// blocks and workers are blocking queues: the pipeline's tokens bound the
// blocks in flight and the arena the stage bodies running at once, so a
// pop finds an item at once or waits briefly for one being handed back.
void aggregate_input(BlockReader& reader, Aggregator& agg,
                     const std::vector<std::unique_ptr<Worker>>& workers, size_t tokens,
                     tbb::task_arena& arena) {
  tbb::concurrent_bounded_queue<Worker*> idle;
  for (auto& w : workers) idle.push(w.get());
  std::vector<std::unique_ptr<Block>> blocks;
  tbb::concurrent_bounded_queue<Block*> free_blocks;
  for (size_t i = 0; i < tokens; ++i) {
    blocks.push_back(std::make_unique<Block>());
    free_blocks.push(blocks.back().get());
  }
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, Block*>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) -> Block* {
              Block* b = nullptr;
              free_blocks.pop(b);
              if (!reader.next(*b)) {
                free_blocks.push(b);
                fc.stop();
                return nullptr;
              }
              return b;
            }) &
            tbb::make_filter<Block*, void>(tbb::filter_mode::parallel, [&](Block* b) {
              Worker* w = nullptr;
              idle.pop(w);
              try {
                agg.aggregate(*w, *b);
              } catch (...) {
                idle.push(w);
                free_blocks.push(b);
                throw;
              }
              idle.push(w);
              free_blocks.push(b);
            }));
  });
}

// Adds the workers' records and skipped lines to st; the first skipped
// line is the earliest in input order over all workers.
void collect_worker_stats(const std::vector<std::unique_ptr<Worker>>& workers, CountStats& st) {
  uint64_t first_block = UINT64_MAX, first_line = 0;
  for (auto& w : workers) {
    st.records += w->records;
    st.skipped.count += w->skipped.count;
    const bool earlier = w->first_bad_block < first_block ||
                         (w->first_bad_block == first_block && w->first_bad_line < first_line);
    if (w->skipped.count && earlier) {
      first_block = w->first_bad_block;
      first_line = w->first_bad_line;
      st.skipped.first = w->skipped.first;
    }
  }
}

// The counts of the tables and runs, merged and summed into one stream.
std::unique_ptr<RecordStream> merge_counts(CountsStream& result, Aggregator& agg,
                                           const CountOptions& o, CountStats& st,
                                           tbb::task_arena& arena) {
  MergeOptions merge_options;
  merge_options.temp_dir = o.temp_dir;
  merge_options.order = RecordOrder{o.partitions};
  merge_options.fan_in = o.fan_in ? o.fan_in : merge_fan_in(o.memory, kRunInputCost);
  merge_options.make_combiner = [] { return std::make_unique<SumU64Combiner>(); };
  MergeStats merge_stats;
  std::unique_ptr<RecordStream> merged;
  auto& workers = result.workers;
  if (st.spills == 0) {
    // Everything fits: merge the sorted tables in memory.
    std::vector<std::unique_ptr<RecordStream>> streams;
    size_t nonempty = 0;
    for (auto& w : workers) nonempty += !w->table.empty();
    arena.execute([&] {
      tbb::parallel_for(size_t(0), workers.size(),
                        [&](size_t i) { workers[i]->table.sort(merge_options.order, true); });
    });
    for (auto& w : workers) {
      if (!w->table.empty()) streams.push_back(std::make_unique<CountTableStream>(w->table));
    }
    if (nonempty == 1) {
      merged = std::move(streams[0]);  // one table: keys already unique
    } else {
      merged = merge_runs({}, merge_options, &merge_stats, std::move(streams));
    }
  } else {
    // Spill what is left too, so that the merge has the whole budget; the
    // tables are sorted and written side by side. (Runs may land in any
    // order: summing is commutative, so the output does not depend on it.)
    arena.execute([&] {
      tbb::parallel_for(size_t(0), workers.size(), [&](size_t i) {
        Worker& w = *workers[i];
        if (!w.table.empty()) agg.spill(w);
        w.table.release();
      });
    });
    merged = merge_runs(agg.take_runs(), merge_options, &merge_stats);
  }
  st.merge_passes = merge_stats.passes;
  st.intermediate_runs = merge_stats.intermediate_runs;
  return merged;
}

}  // namespace

int count_threads(uint64_t memory, int threads) {
  return static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(std::max(threads, 1)),
                                             std::max<uint64_t>(1, memory >> 18)));
}

size_t count_block_size(const CountOptions& o) {
  if (o.block_size) return o.block_size;
  return std::clamp<size_t>(o.memory / 8 / tokens_for(o), 64 << 10, 4 << 20);
}

std::unique_ptr<RecordStream> count_records(BlockReader& reader, const CountOptions& o,
                                            CountStats& st) {
  const int threads = std::max(o.threads, 1);
  const size_t tokens = tokens_for(o);
  const size_t block_size = count_block_size(o);
  uint64_t blocks_memory = tokens * block_size;
  uint64_t table_budget = o.memory > blocks_memory * 2 ? o.memory - blocks_memory : o.memory / 2;
  size_t per_worker = static_cast<size_t>(std::max<uint64_t>(table_budget / threads, 1024));

  auto result = std::make_unique<CountsStream>();
  for (int i = 0; i < threads; ++i) result->workers.push_back(std::make_unique<Worker>(per_worker));
  Aggregator agg(o, st);
  tbb::task_arena arena(threads);
  aggregate_input(reader, agg, result->workers, tokens, arena);
  st.bytes = reader.bytes_read();
  collect_worker_stats(result->workers, st);
  result->inner = merge_counts(*result, agg, o, st, arena);
  st.peak_table_memory = agg.peak();
  // A key's count may be split over tables and spills: an overflow found
  // while merging them is named by reading the inputs again.
  result->inner = locate_sum_overflows(std::move(result->inner), reader.paths(), SumInput::counts);
  return result;
}

namespace {

struct TopEntry {
  uint64_t count;
  std::string key;
};
// The heap's top is the worst kept entry: the smallest count, then the
// largest key.
struct WorseFirst {
  bool operator()(const TopEntry& a, const TopEntry& b) const {
    if (a.count != b.count) return a.count > b.count;
    return compare_keys(a.key, b.key) < 0;
  }
};

uint64_t count_of(const Record& r) {
  auto v = parse_u64(r.value);
  if (!v) throw Error("internal: bad count in merged stream for " + quote_key(r.key));
  return *v;
}

}  // namespace

void write_counts(RecordStream& counts, Sink& out, const CountOptions& o, CountStats& st) {
  Record r;
  if (o.top == 0) {
    while (counts.next(r)) {
      ++st.distinct;
      if (o.min_count > 0 && count_of(r) < o.min_count) continue;
      out.write(r.key);
      out.put('\t');
      out.write(r.value);
      out.put('\n');
      ++st.written;
    }
    return;
  }
  std::priority_queue<TopEntry, std::vector<TopEntry>, WorseFirst> heap;
  while (counts.next(r)) {
    ++st.distinct;
    uint64_t c = count_of(r);
    if (c < o.min_count) continue;
    if (heap.size() < o.top) {
      heap.push({c, std::string(r.key)});
    } else {
      const TopEntry& worst = heap.top();
      if (c > worst.count || (c == worst.count && compare_keys(r.key, worst.key) < 0)) {
        heap.pop();
        heap.push({c, std::string(r.key)});
      }
    }
  }
  std::vector<TopEntry> best;
  best.reserve(heap.size());
  while (!heap.empty()) {
    best.push_back(std::move(const_cast<TopEntry&>(heap.top())));
    heap.pop();
  }
  char buf[24];
  for (auto it = best.rbegin(); it != best.rend(); ++it) {
    out.write(it->key);
    out.put('\t');
    char* e = format_u64(it->count, buf);
    out.write(buf, static_cast<size_t>(e - buf));
    out.put('\n');
    ++st.written;
  }
}

void write_counts(RecordStream& counts, PartitionWriter& out, const CountOptions& o,
                  CountStats& st) {
  if (o.top) throw UsageError("--top cannot be combined with a partition directory");
  Record r;
  while (counts.next(r)) {
    ++st.distinct;
    if (o.min_count > 0 && count_of(r) < o.min_count) continue;
    out.add(r.key, r.value);
    ++st.written;
  }
}

void write_counts(RecordStream& counts, RecordOutput& out, const CountOptions& o,
                  CountStats& st) {
  if (out.directory()) {
    write_counts(counts, *out.directory(), o, st);
  } else {
    write_counts(counts, *out.file(), o, st);
  }
}

}  // namespace grist
