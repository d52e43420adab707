// isolated_task_group (a preview in oneTBB 2021, header-only over the
// exported isolate_within_arena); defined before any TBB header.
#define TBB_PREVIEW_ISOLATED_TASK_GROUP 1
#include <tbb/task_group.h>

#include "grist/sort/merge.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

#include "grist/error.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/record/record.hpp"

namespace grist {

namespace {

// Records copied out of an input: bytes (key then value) and an index.
// ChunkRec::prefix caches the first 16 key bytes for the comparisons.
struct ChunkRec {
  uint64_t rank, prefix[2];
  uint32_t off, klen, vlen;
};

constexpr size_t kSlack = 16;

// The first min(n, 8) bytes at p, big-endian, zero-padded, from a full
// 8-byte load (p has 8 readable bytes).
inline uint64_t masked_prefix(const char* p, size_t n) {
  if (n == 0) return 0;
  uint64_t v;
  std::memcpy(&v, p, 8);
  v = __builtin_bswap64(v);
  return n >= 8 ? v : v & ~(~uint64_t(0) >> (8 * n));
}

struct Chunk {
  // A chunk closes at whichever limit comes first.
  static constexpr size_t kBytes = 128 << 10;
  static constexpr size_t kRecs = 4096;

  std::unique_ptr<char[]> bytes;
  size_t cap = 0, used = 0;
  std::vector<ChunkRec> recs;
  size_t pos = 0;  // the current record
  bool last = false;  // the input ends after these records (or fails: error)
  std::exception_ptr error;

  void append(const Record& r, RecordOrder order) {
    size_t n = r.key.size() + r.value.size();
    if (n > cap - used) {
      size_t c = std::max(cap * 2, used + n);
      c = std::max<size_t>(c, kBytes + 256);
      // kSlack bytes past cap: prefixes load 16 bytes from any key start.
      std::unique_ptr<char[]> b(new char[c + kSlack]);
      if (used) std::memcpy(b.get(), bytes.get(), used);
      bytes = std::move(b);
      cap = c;
    }
    char* p = bytes.get() + used;
    const size_t k = r.key.size();
    if (k && r.key.data() + k == r.value.data()) {  // one copy when contiguous
      std::memcpy(p, r.key.data(), n);
    } else {
      if (k) std::memcpy(p, r.key.data(), k);
      if (!r.value.empty()) std::memcpy(p + k, r.value.data(), r.value.size());
    }
    recs.push_back(ChunkRec{order.rank(r.key),
                            {masked_prefix(p, k), k > 8 ? masked_prefix(p + 8, k - 8) : 0},
                            static_cast<uint32_t>(used), static_cast<uint32_t>(r.key.size()),
                            static_cast<uint32_t>(r.value.size())});
    used += n;
  }

  // Refills the chunk from `in`. Never throws: an error is kept, to be
  // rethrown when the merge gets past the records read before it.
  void fill(RecordStream& in, RecordOrder order) {
    used = 0;
    pos = 0;
    recs.clear();
    try {
      Record r;
      while (used < kBytes && recs.size() < kRecs) {
        if (!in.next(r)) {
          last = true;
          return;
        }
        append(r, order);
      }
    } catch (...) {
      error = std::current_exception();
      last = true;
    }
  }
};

}  // namespace

struct KWayMerger::Input {
  std::unique_ptr<RecordStream> stream;
  Chunk cur, ahead;
  bool filling = false;  // a task is filling `ahead`
  // Isolated: a thread waiting for this input's chunk runs only this
  // input's task, never some unrelated task (another whole partition merge
  // under merge_partition_directories, for instance).
  tbb::isolated_task_group tg;

  explicit Input(std::unique_ptr<RecordStream> s) : stream(std::move(s)) {}
  ~Input() {
    if (filling) tg.wait();  // fill() does not throw
  }

  void start_fill(RecordOrder order) {
    filling = true;
    tg.run([this, order] { ahead.fill(*stream, order); });
  }

  // Makes cur.recs[cur.pos] the current record; false at the end. The
  // record returned before has been consumed when this is called, so its
  // chunk can be refilled.
  bool load(RecordOrder order) {
    while (cur.pos >= cur.recs.size()) {
      if (cur.error) std::rethrow_exception(cur.error);
      if (cur.last) return false;
      if (!filling) start_fill(order);
      tg.wait();
      filling = false;
      std::swap(cur, ahead);
      if (!cur.last) start_fill(order);
    }
    return true;
  }
};

KWayMerger::KWayMerger(std::vector<std::unique_ptr<RecordStream>> inputs, RecordOrder order)
    : heads_(inputs.size()), order_(order) {
  inputs_.reserve(inputs.size());
  for (auto& s : inputs) inputs_.push_back(std::make_unique<Input>(std::move(s)));
}

KWayMerger::~KWayMerger() = default;

inline bool KWayMerger::less(uint32_t a, uint32_t b) const {
  const Head& x = heads_[a];
  const Head& y = heads_[b];
  if (x.rank != y.rank) return x.rank < y.rank;
  if (x.prefix[0] != y.prefix[0]) return x.prefix[0] < y.prefix[0];
  if (x.prefix[1] != y.prefix[1]) return x.prefix[1] < y.prefix[1];
  // Equal prefixes: the first min(16, length) bytes are equal (or both
  // inputs are done, lengths 0).
  uint32_t m = x.klen < y.klen ? x.klen : y.klen;
  if (m > 16) {
    int c = std::memcmp(x.key + 16, y.key + 16, m - 16);
    if (c != 0) return c < 0;
  }
  if (x.klen != y.klen) return x.klen < y.klen;
  return a < b;  // stability: the earlier input first
}

// Plays the matches below `node`; returns the winner.
uint32_t KWayMerger::build(size_t node) {
  size_t k = inputs_.size();
  if (node >= k) return static_cast<uint32_t>(node - k);
  uint32_t l = build(2 * node), r = build(2 * node + 1);
  if (less(r, l)) std::swap(l, r);
  tree_[node] = r;
  return l;
}

bool KWayMerger::advance(uint32_t input) {
  Input& in = *inputs_[input];
  Head& h = heads_[input];
  if (!in.load(order_)) {
    h = Head{kDone, {0, 0}, nullptr, 0};
    return false;
  }
  const ChunkRec& c = in.cur.recs[in.cur.pos];
  h.rank = c.rank;
  h.prefix[0] = c.prefix[0];
  h.prefix[1] = c.prefix[1];
  h.key = in.cur.bytes.get() + c.off;
  h.klen = c.klen;
  return true;
}

bool KWayMerger::next(Record& r) {
  const size_t k = inputs_.size();
  if (k == 0) return false;
  if (!started_) {
    started_ = true;
    for (auto& in : inputs_) in->start_fill(order_);
    for (uint32_t i = 0; i < k; ++i) advance(i);
    tree_.assign(k, 0);
    tree_[0] = build(1);  // with one input, node 1 is its leaf
  } else {
    // The record returned last time is consumed only now: its views had to
    // stay valid until this call.
    uint32_t w = tree_[0];
    if (heads_[w].rank == kDone) return false;
    Chunk& cur = inputs_[w]->cur;
    if (++cur.pos < cur.recs.size()) {  // the common case, inline
      const ChunkRec& c = cur.recs[cur.pos];
      heads_[w] = Head{c.rank, {c.prefix[0], c.prefix[1]}, cur.bytes.get() + c.off, c.klen};
    } else {
      advance(w);
    }
    for (size_t node = (w + k) / 2; node > 0; node /= 2) {
      const uint32_t t = tree_[node];
      const bool swap = less(t, w);  // selects rather than branches
      tree_[node] = swap ? w : t;
      w = swap ? t : w;
    }
    tree_[0] = w;
  }
  uint32_t top = tree_[0];
  if (heads_[top].rank == kDone) return false;
  const Chunk& c = inputs_[top]->cur;
  const ChunkRec& e = c.recs[c.pos];
  const char* p = c.bytes.get() + e.off;
  r.key = std::string_view(p, e.klen);
  r.value = std::string_view(p + e.klen, e.vlen);
  return true;
}

CombiningStream::CombiningStream(std::unique_ptr<RecordStream> input,
                                 std::unique_ptr<Combiner> combiner)
    : input_(std::move(input)), combiner_(std::move(combiner)) {}

bool CombiningStream::next(Record& r) {
  if (!combiner_) return input_->next(r);
  if (!started_) {
    started_ = true;
    have_look_ = input_->next(look_);
  }
  if (!have_look_) return false;
  // The look-ahead's views die at the next input_->next(): keep the key.
  key_.assign(look_.key.data(), look_.key.size());
  combiner_->start(key_, look_.value);
  for (;;) {
    have_look_ = input_->next(look_);
    if (!have_look_ || look_.key != std::string_view(key_)) break;
    combiner_->add(key_, look_.value);
  }
  r.key = key_;
  r.value = combiner_->result();
  return true;
}

namespace {

std::unique_ptr<RecordStream> merge_streams(std::vector<std::unique_ptr<RecordStream>> in,
                                            const MergeOptions& merge_options) {
  std::unique_ptr<RecordStream> s;
  if (in.size() == 1) {
    s = std::move(in[0]);
  } else {
    s = std::make_unique<KWayMerger>(std::move(in), merge_options.order);
  }
  if (merge_options.make_combiner) {
    s = std::make_unique<CombiningStream>(std::move(s), merge_options.make_combiner());
  }
  return s;
}

}  // namespace

std::unique_ptr<RecordStream> merge_runs(std::vector<Run> runs,
                                         const MergeOptions& merge_options,
                                         MergeStats* stats,
                                         std::vector<std::unique_ptr<RecordStream>> extra) {
  size_t fan_in = std::max<size_t>(merge_options.fan_in, 2);
  while (runs.size() > fan_in) {
    test_stop_point("merge");
    std::vector<Run> next;
    for (size_t i = 0; i < runs.size(); i += fan_in) {
      size_t end = std::min(runs.size(), i + fan_in);
      if (end - i == 1) {
        next.push_back(std::move(runs[i]));
        continue;
      }
      std::vector<std::unique_ptr<RecordStream>> in;
      for (size_t j = i; j < end; ++j) in.push_back(std::make_unique<RunReader>(std::move(runs[j])));
      auto s = merge_streams(std::move(in), merge_options);
      RunWriter w(merge_options.temp_dir, merge_options.level);
      Record r;
      while (s->next(r)) w.add(r);
      next.push_back(w.finish());
      if (stats) ++stats->intermediate_runs;
    }
    runs = std::move(next);
    if (stats) ++stats->passes;
  }
  std::vector<std::unique_ptr<RecordStream>> in;
  for (auto& run : runs) in.push_back(std::make_unique<RunReader>(std::move(run)));
  for (auto& e : extra) in.push_back(std::move(e));
  if (stats) ++stats->passes;
  test_stop_point("merge");
  if (in.empty()) {
    struct Empty : RecordStream {
      bool next(Record&) override { return false; }
    };
    return std::make_unique<Empty>();
  }
  return merge_streams(std::move(in), merge_options);
}

size_t merge_fan_in(uint64_t memory, uint64_t input_cost, int merges) {
  const uint64_t all = std::min<uint64_t>(memory / 2 / input_cost, kMaxFanIn);
  return std::max<size_t>(2, static_cast<size_t>(all) / static_cast<size_t>(std::max(merges, 1)));
}

// ---- combiners ----

std::string quote_key(std::string_view key) { return quote_input(key, 60); }

}  // namespace grist
