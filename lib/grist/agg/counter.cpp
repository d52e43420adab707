#include "grist/agg/counter.hpp"

#include <emmintrin.h>
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
#include "grist/sort/reducers.hpp"
#include "grist/sort/run.hpp"

namespace grist {

namespace {

constexpr size_t kReaderCost = size_t(1) << 20;  // memory of one RunReader

size_t tokens_for(const CountOptions& o) { return static_cast<size_t>(std::max(o.threads, 1)) * 2; }

// Bits set where the 64 bytes from p equal the byte in c (bit i: p[i]).
inline uint64_t eq_mask64(const char* p, __m128i c) {
  uint64_t m = 0;
  for (int o = 0; o < 64; o += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + o));
    m |= uint64_t(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)))) << o;
  }
  return m;
}

// One aggregation worker's state; a pool of them is shared by the pipeline's
// parallel stage (a bounded pool rather than thread-local storage, so that
// the number of tables never exceeds `threads` whichever threads TBB uses).
struct Worker {
  explicit Worker(size_t budget) : table(budget) {}
  CountTable table;
  int64_t accounted = 0;  // table memory last added to the total
  uint64_t records = 0;
  uint64_t bad = 0;
  uint64_t first_bad_block = UINT64_MAX, first_bad_line = 0;
  std::string first_bad;
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
    ++w.bad;
    if (b.index < w.first_bad_block ||
        (b.index == w.first_bad_block && line < w.first_bad_line)) {
      w.first_bad_block = b.index;
      w.first_bad_line = line;
      w.first_bad = escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line) + ": " + msg;
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
    const __m128i nl_c = _mm_set1_epi8('\n'), tab_c = _mm_set1_epi8('\t');
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

}  // namespace

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
  tbb::concurrent_queue<Worker*> idle;
  for (auto& w : result->workers) idle.push(w.get());
  std::vector<std::unique_ptr<Block>> blocks;
  tbb::concurrent_queue<Block*> free_blocks;
  for (size_t i = 0; i < tokens; ++i) {
    blocks.push_back(std::make_unique<Block>());
    free_blocks.push(blocks.back().get());
  }

  Aggregator agg(o, st);
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, Block*>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) -> Block* {
              Block* b = nullptr;
              // A token is free whenever this stage runs, so is a block.
              while (!free_blocks.try_pop(b)) std::this_thread::yield();
              if (!reader.next(*b)) {
                free_blocks.push(b);
                fc.stop();
                return nullptr;
              }
              return b;
            }) &
            tbb::make_filter<Block*, void>(tbb::filter_mode::parallel, [&](Block* b) {
              Worker* w = nullptr;
              while (!idle.try_pop(w)) std::this_thread::yield();
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
  blocks.clear();

  st.bytes = reader.bytes_read();
  uint64_t first_block = UINT64_MAX, first_line = 0;
  for (auto& w : result->workers) {
    st.records += w->records;
    st.bad_lines += w->bad;
    if (w->bad && (w->first_bad_block < first_block ||
                   (w->first_bad_block == first_block && w->first_bad_line < first_line))) {
      first_block = w->first_bad_block;
      first_line = w->first_bad_line;
      st.first_bad = w->first_bad;
    }
  }

  MergeOptions mo;
  mo.temp_dir = o.temp_dir;
  mo.order = RecordOrder{o.partitions};
  mo.fan_in = o.fan_in ? o.fan_in : std::clamp<size_t>(o.memory / 2 / kReaderCost, 4, 64);
  mo.make_combiner = [] { return std::make_unique<SumU64Combiner>(); };
  MergeStats ms;

  if (st.spills == 0) {
    // Everything fits: merge the sorted tables in memory.
    std::vector<std::unique_ptr<RecordStream>> streams;
    size_t nonempty = 0;
    for (auto& w : result->workers) nonempty += !w->table.empty();
    arena.execute([&] {
      tbb::parallel_for(size_t(0), result->workers.size(),
                        [&](size_t i) { result->workers[i]->table.sort(mo.order, true); });
    });
    for (auto& w : result->workers) {
      if (!w->table.empty()) streams.push_back(std::make_unique<CountTableStream>(w->table));
    }
    if (nonempty == 1) {
      result->inner = std::move(streams[0]);  // one table: keys already unique
    } else {
      result->inner = merge_runs({}, mo, &ms, std::move(streams));
    }
  } else {
    // Spill what is left too, so that the merge has the whole budget; the
    // tables are sorted and written side by side. (Runs may land in any
    // order: summing is commutative, so the output does not depend on it.)
    arena.execute([&] {
      tbb::parallel_for(size_t(0), result->workers.size(), [&](size_t i) {
        Worker& w = *result->workers[i];
        if (!w.table.empty()) agg.spill(w);
        w.table.release();
      });
    });
    result->inner = merge_runs(agg.take_runs(), mo, &ms);
  }
  st.merge_passes = ms.passes;
  st.intermediate_runs = ms.intermediate_runs;
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

}  // namespace grist
