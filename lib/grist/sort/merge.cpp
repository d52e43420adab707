#include "grist/sort/merge.hpp"

#include <algorithm>

#include "grist/error.hpp"
#include "grist/record/record.hpp"

namespace grist {

KWayMerger::KWayMerger(std::vector<std::unique_ptr<RecordStream>> inputs, RecordOrder order)
    : inputs_(std::move(inputs)), heads_(inputs_.size()), order_(order) {}

KWayMerger::~KWayMerger() = default;

bool KWayMerger::less(uint32_t a, uint32_t b) const {
  const Head& x = heads_[a];
  const Head& y = heads_[b];
  if (x.rank != y.rank) return x.rank < y.rank;
  int c = compare_keys(x.rec.key, y.rec.key);
  if (c != 0) return c < 0;
  return a < b;  // stability: the earlier input first
}

void KWayMerger::sift_down(size_t i) {
  size_t n = heap_.size();
  uint32_t v = heap_[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap_[c + 1], heap_[c])) ++c;
    if (!less(heap_[c], v)) break;
    heap_[i] = heap_[c];
    i = c;
  }
  heap_[i] = v;
}

bool KWayMerger::advance(uint32_t input) {
  Head& h = heads_[input];
  if (!inputs_[input]->next(h.rec)) return false;
  h.rank = order_.rank(h.rec.key);
  return true;
}

bool KWayMerger::next(Record& r) {
  if (!started_) {
    started_ = true;
    for (uint32_t i = 0; i < inputs_.size(); ++i) {
      if (advance(i)) heap_.push_back(i);
    }
    for (size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
  } else if (pending_ >= 0) {
    // The record returned last time is consumed only now: its views had to
    // stay valid until this call.
    if (advance(static_cast<uint32_t>(pending_))) {
      sift_down(0);
    } else {
      heap_[0] = heap_.back();
      heap_.pop_back();
      if (!heap_.empty()) sift_down(0);
    }
    pending_ = -1;
  }
  if (heap_.empty()) return false;
  pending_ = heap_[0];
  r = heads_[heap_[0]].rec;
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
                                            const MergeOptions& mo) {
  std::unique_ptr<RecordStream> s;
  if (in.size() == 1) {
    s = std::move(in[0]);
  } else {
    s = std::make_unique<KWayMerger>(std::move(in), mo.order);
  }
  if (mo.make_combiner) s = std::make_unique<CombiningStream>(std::move(s), mo.make_combiner());
  return s;
}

}  // namespace

std::unique_ptr<RecordStream> merge_runs(std::vector<Run> runs, const MergeOptions& mo,
                                         MergeStats* stats,
                                         std::vector<std::unique_ptr<RecordStream>> extra) {
  size_t fan_in = std::max<size_t>(mo.fan_in, 2);
  while (runs.size() > fan_in) {
    std::vector<Run> next;
    for (size_t i = 0; i < runs.size(); i += fan_in) {
      size_t end = std::min(runs.size(), i + fan_in);
      if (end - i == 1) {
        next.push_back(std::move(runs[i]));
        continue;
      }
      std::vector<std::unique_ptr<RecordStream>> in;
      for (size_t j = i; j < end; ++j) in.push_back(std::make_unique<RunReader>(std::move(runs[j])));
      auto s = merge_streams(std::move(in), mo);
      RunWriter w(mo.temp_dir, mo.level);
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
  if (in.empty()) {
    struct Empty : RecordStream {
      bool next(Record&) override { return false; }
    };
    return std::make_unique<Empty>();
  }
  return merge_streams(std::move(in), mo);
}

// ---- combiners ----

std::string quote_key(std::string_view key) {
  std::string out = "'";
  size_t n = std::min<size_t>(key.size(), 60);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (key.size() > n) out += "...";
  return out + "'";
}

static uint64_t parse_count(std::string_view key, std::string_view value) {
  auto v = parse_u64(value);
  if (!v) throw Error("count of key " + quote_key(key) + " is not an unsigned 64-bit integer: '" +
                      std::string(value.substr(0, 40)) + "'");
  return *v;
}

void SumU64Combiner::start(std::string_view key, std::string_view value) {
  sum_ = parse_count(key, value);
}

void SumU64Combiner::add(std::string_view key, std::string_view value) {
  if (!add_u64(sum_, parse_count(key, value))) {
    throw Error("the count of key " + quote_key(key) + " overflows 64 bits");
  }
}

std::string_view SumU64Combiner::result() {
  char* e = format_u64(sum_, buf_);
  return {buf_, static_cast<size_t>(e - buf_)};
}

}  // namespace grist
