// The trainer: pass 1 over the inputs, the passes over the example cache,
// and early stopping, one member function each; the maths is in
// learner.cpp and optimizer.hpp, the cache in example_cache.cpp, the
// lines it logs in report.cpp.
#include "grist/sgd/train.hpp"

#include <zstd.h>

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <random>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/peek_block.hpp"
#include "grist/io/pipeline.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/sgd/example_cache.hpp"
#include "grist/sgd/learner.hpp"
#include "grist/sgd/report.hpp"

namespace grist::sgd {

namespace {

using Clock = std::chrono::steady_clock;

// A block on its way through the pipeline.
struct Item {
  Block block;
  Examples ex;
  BlockResult res;
  SkippedLines errors;
  std::string packed;  // the block's cache chunk
  std::vector<uint32_t> order;
  size_t seq = 0;  // passes 2..: the position of the block in this pass
};

struct ZstdFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// What each worker thread keeps: its parser, its learner state and its
// zstd contexts (owned: not copyable).
struct PerThread {
  std::unique_ptr<Parser> parser;
  LocalState ls;
  std::unique_ptr<ZSTD_CCtx, ZstdFree> cctx;
  std::unique_ptr<ZSTD_DCtx, ZstdFree> dctx;
  std::string raw;
};

// --- distributed training ---
// This process's share of the inputs: every shards-th input when the
// inputs divide evenly (TrainOptions::shards), else every input and a
// share of its lines.
struct InputShare {
  std::vector<std::string> inputs;
  LineShare lines;
};

InputShare share_of(const TrainOptions& opts) {
  InputShare s{opts.inputs, {}};
  if (opts.shards <= 1) return s;
  if (!s.inputs.empty() && s.inputs.size() % opts.shards == 0) {
    std::vector<std::string> mine;
    for (size_t i = opts.shard; i < s.inputs.size(); i += opts.shards) mine.push_back(s.inputs[i]);
    s.inputs = std::move(mine);
  } else {
    s.lines = LineShare{uint64_t(opts.shards), uint64_t(opts.shard)};
  }
  return s;
}
// --- end distributed training ---

// The model of the best pass so far (weights and optimiser state), to be
// put back when a later pass does worse on the held-out examples. It is
// spilled to an anonymous file in the temp directory rather than copied in
// memory: a model may take up to 64 GiB (kMaxModelFloats), and a copy
// would double the program's peak memory, whereas the temp directory
// already holds the example cache of the same passes and the spill costs
// one sequential write of the model per improving pass. The file vanishes
// on every exit path (open_anonymous_temp_file). It goes through a small
// buffer: the weights are atomics, read and written as training does.
class BestPass {
 public:
  explicit BestPass(const std::string& dir) : dir_(dir), fd_(open_anonymous_temp_file(dir)) {}

  void save(const Model& m) {
    const std::atomic<float>* st = m.state();
    uint64_t n = m.slots() * m.stride();
    for (uint64_t at = 0; at < n; at += kChunk) {
      size_t c = size_t(std::min<uint64_t>(kChunk, n - at));
      buf_.resize(c);
      for (size_t i = 0; i < c; ++i) buf_[i] = st[at + i].load(std::memory_order_relaxed);
      pwrite_all(fd_.get(), buf_.data(), c * sizeof(float), at * sizeof(float), dir_);
    }
  }
  void restore(Model& m) {
    std::atomic<float>* st = m.state();
    uint64_t n = m.slots() * m.stride();
    for (uint64_t at = 0; at < n; at += kChunk) {
      size_t c = size_t(std::min<uint64_t>(kChunk, n - at));
      buf_.resize(c);
      pread_all(fd_.get(), buf_.data(), c * sizeof(float), at * sizeof(float), dir_);
      for (size_t i = 0; i < c; ++i) st[at + i].store(buf_[i], std::memory_order_relaxed);
    }
  }

 private:
  static constexpr uint64_t kChunk = uint64_t(1) << 20;  // floats
  std::string dir_;
  UniqueFd fd_;
  std::vector<float> buf_;
};

void mark_holdout(Examples& ex, uint64_t every) {
  if (!every) return;
  for (size_t i = 0; i < ex.size(); ++i) ex.holdout[i] = ex.line[i] % every == 0;
}

class Trainer {
 public:
  Trainer(Model& model, const TrainOptions& opts, const LogLine& log);
  TrainReport run();

 private:
  void set_format();
  void first_pass();
  void check_first_pass() const;
  void cached_pass(int p);
  bool early_stop(int p);
  void keep_best();
  void work_first(Item& it);
  void work_cached(Item& it, uint64_t seed);
  enum class Phase { first_pass, cached_pass };
  void finish(Item& it, Phase phase);
  void end_pass(TrainReport* first);
  PerThread& thread_state();
  int pipeline_threads() const { return opts_.threads > 1 && opts_.batch_size == 1 ? opts_.threads : 1; }

  Model& model_;
  ModelOptions& model_opts_;
  const TrainOptions& opts_;
  const LogLine& log_;
  const Clock::time_point start_ = Clock::now();
  InputShare share_;
  BlockReader reader_;
  PeekBlockReader input_;  // its first block is read to sniff the format
  ParseOptions parse_opts_;
  std::unique_ptr<ExampleCache> cache_;
  Learner learner_;
  ProgressTable progress_;
  tbb::enumerable_thread_specific<PerThread> threads_;
  TrainReport rep_;
  PassReport pass_;
  double best_ = std::numeric_limits<double>::infinity();  // held-out loss
  int best_pass_ = 1, since_best_ = 0;
  std::unique_ptr<BestPass> best_model_;  // the best pass but the last (held out, passes > 1)
  bool best_saved_ = false;
};

Trainer::Trainer(Model& model, const TrainOptions& opts, const LogLine& log)
    : model_(model),
      model_opts_(model.options()),
      opts_(opts),
      log_(log),
      share_(share_of(opts)),
      reader_(share_.inputs, opts.block_size),
      input_(reader_),
      learner_(model, opts.batch_size),
      progress_(model.options(), opts.progress_lines, log) {
  set_format();
  parse_opts_ = model_opts_.parse_options();
  if (opts_.names && opts_.names->size() != (uint64_t(1) << model_opts_.bits)) {
    throw Error("feature names: table size differs from the model's -b");
  }
  parse_opts_.names = opts_.names;
  parse_opts_.label_hint = opts_.label_hint;
  if (opts_.passes > 1) cache_ = std::make_unique<ExampleCache>(opts_.temp_dir);
  if (opts_.passes > 1 && opts_.holdout_every) {
    best_model_ = std::make_unique<BestPass>(opts_.temp_dir);
  }
  if (opts_.mixer) opts_.mixer->begin(model_);
}

// The input format (sniffed from the first block unless given), and the
// options that need a format.
void Trainer::set_format() {
  const Block* first = input_.first();
  if (first && opts_.sniff) {
    auto f = sniff_format(first->view().substr(0, 1 << 16));
    if (!f) {
      throw Error(*first->source,
                  "cannot tell the input format from the first example; give --format "
                  "svmlight, vw, text or fasttext");
    }
    model_opts_.format = *f;
  }
  if (opts_.text_ngrams > 0 &&
      (model_opts_.format == Format::text || model_opts_.format == Format::fasttext)) {
    model_opts_.ngrams = opts_.text_ngrams;
  }
  check_quadratic(model_opts_.quadratic);
  if (!model_opts_.quadratic.empty() && model_opts_.format != Format::vw) {
    throw Error("-q needs namespaces: it applies to Vowpal Wabbit input only");
  }
  if (model_opts_.ngrams > 1 && model_opts_.format != Format::text &&
      model_opts_.format != Format::fasttext) {
    throw Error(std::string("--ngrams applies to text input (LABEL<TAB>TEXT or fasttext) only, not ") +
                format_name(model_opts_.format));
  }
}

PerThread& Trainer::thread_state() {
  PerThread& pt = threads_.local();
  if (!pt.parser) {
    pt.parser = std::make_unique<Parser>(parse_opts_);
    pt.cctx.reset(ZSTD_createCCtx());
    pt.dctx.reset(ZSTD_createDCtx());
  }
  return pt;
}

TrainReport Trainer::run() {
  first_pass();
  rep_.stop_reason = opts_.passes == 1 ? "one pass, as asked" : "";
  for (int p = 2; p <= opts_.passes; ++p) {
    cached_pass(p);
    if (early_stop(p)) break;
  }
  if (rep_.stop_reason.empty()) rep_.stop_reason = "all " + std::to_string(opts_.passes) + " passes done";
  if (opts_.mixer) opts_.mixer->end(rep_);
  rep_.model_pass = int(rep_.passes.size());
  uint64_t trained = rep_.trained_examples;
  if (best_saved_ && best_pass_ < rep_.model_pass) {
    // A later pass did worse: the model is the best pass's. Distributed,
    // every process gets here alike (the held-out sums are global) and
    // restores the mixed model it saved.
    best_model_->restore(model_);
    rep_.model_pass = best_pass_;
    // The updates up to that pass (global: end_pass summed the counts).
    trained = 0;
    for (int q = 0; q < best_pass_; ++q) trained += rep_.passes[q].examples - rep_.holdout_examples;
  }
  model_opts_.examples_trained += trained;
  model_opts_.passes_trained += rep_.model_pass;
  rep_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  return rep_;
}

// Pass 1: parse the inputs, learn each block, cache it (several passes).
void Trainer::first_pass() {
  test_stop_point("pass");
  if (input_.first()) {
    ordered_pipeline<Item>(
        pipeline_threads(), [&](Item& it) { return input_.next(it.block); },
        [&](Item& it) { work_first(it); }, [&](Item& it) { finish(it, Phase::first_pass); });
  }
  rep_.bytes = reader_.bytes_read();
  end_pass(&rep_);
  rep_.train_seconds_pass1 = std::chrono::duration<double>(Clock::now() - start_).count();
  check_first_pass();
  if (opts_.passes > 1 || opts_.holdout_every) log_(pass_line(1, pass_));
  rep_.passes.push_back(pass_);
  if (pass_.holdout_weight > 0) {
    best_ = pass_.holdout_loss / pass_.holdout_weight;
    keep_best();
  }
}

// Keeps the model of best_pass_ unless it is the last pass (then the model
// is already it).
void Trainer::keep_best() {
  if (!best_model_ || best_pass_ >= opts_.passes) return;
  best_model_->save(model_);
  best_saved_ = true;
}

// Refuses an input that left nothing to train on.
void Trainer::check_first_pass() const {
  if (rep_.examples == 0) {
    if (rep_.skipped.count) {
      throw Error("no valid example in the input (" + std::to_string(rep_.skipped.count) +
                  " malformed lines skipped; first: " + rep_.skipped.first + ")");
    }
    const auto& in = opts_.inputs;
    throw Error(escape_bytes(in.empty() || in[0] == "-" ? "(stdin)" : in[0], SIZE_MAX) +
                (in.size() > 1 ? " ..." : "") + ": no examples in the input (empty input?)");
  }
  if (rep_.holdout_examples == rep_.examples) {
    throw Error("every example is held out (--holdout-every " +
                std::to_string(opts_.holdout_every) +
                (opts_.holdout_by_default ? ", the default with several passes" : "") +
                "): nothing to train on");
  }
}

void Trainer::work_first(Item& it) {
  PerThread& pt = thread_state();
  it.ex.clear();
  it.errors = SkippedLines{};
  it.res.reset();
  it.order.clear();
  pt.parser->parse_block(it.block, it.ex, opts_.skip_errors ? &it.errors : nullptr, share_.lines);
  mark_holdout(it.ex, opts_.holdout_every);
  if (cache_) encode_examples(it.ex, it.packed, pt.cctx.get(), pt.raw);
  learner_.block(it.ex, nullptr, pt.ls, it.res,
                 opts_.progress_lines ? PerExample::record : PerExample::skip);
}

// Pass p (2..) over the cache: the blocks in order or, with shuffle, in
// a seeded random order, and the examples of each in a random order too.
void Trainer::cached_pass(int p) {
  test_stop_point("pass");
  pass_ = PassReport{};
  std::vector<uint32_t> chunk_order(cache_->chunks());
  std::iota(chunk_order.begin(), chunk_order.end(), 0);
  std::mt19937_64 rng(opts_.seed * 0x9E3779B97F4A7C15ULL + p);
  if (opts_.shuffle) std::shuffle(chunk_order.begin(), chunk_order.end(), rng);
  std::vector<uint64_t> seeds(chunk_order.size());
  for (auto& s : seeds) s = rng();
  size_t next = 0;
  auto produce = [&](Item& it) {
    if (next == chunk_order.size()) return false;
    cache_->read(chunk_order[next], it.packed);
    it.seq = next++;
    return true;
  };
  ordered_pipeline<Item>(
      pipeline_threads(), produce, [&](Item& it) { work_cached(it, seeds[it.seq]); },
      [&](Item& it) { finish(it, Phase::cached_pass); });
  end_pass(nullptr);
  log_(pass_line(p, pass_));
  rep_.passes.push_back(pass_);
}

void Trainer::work_cached(Item& it, uint64_t seed) {
  PerThread& pt = thread_state();
  it.res.reset();
  decode_examples(it.packed, it.ex, uint64_t(1) << model_opts_.bits, pt.dctx.get(), pt.raw);
  it.order.clear();
  if (opts_.shuffle) {
    it.order.resize(it.ex.size());
    std::iota(it.order.begin(), it.order.end(), 0);
    std::mt19937_64 r2(seed);
    std::shuffle(it.order.begin(), it.order.end(), r2);
  }
  learner_.block(it.ex, it.order.empty() ? nullptr : it.order.data(), pt.ls, it.res,
                 PerExample::skip);
}

// The serial end of a block, in input (or cache) order.
void Trainer::finish(Item& it, Phase phase) {
  progress_.block(it.ex, it.order.empty() ? nullptr : it.order.data(), it.res);
  pass_.train_loss += it.res.loss;
  pass_.train_weight += it.res.weight;
  pass_.holdout_loss += it.res.hloss;
  pass_.holdout_weight += it.res.hweight;
  pass_.examples += it.res.trained + it.res.held;
  rep_.trained_examples += it.res.trained;
  if (phase == Phase::first_pass) {
    rep_.examples += it.ex.size();
    rep_.holdout_examples += it.res.held;
    rep_.features += it.ex.features();
    rep_.skipped.add(it.errors);
    if (cache_) cache_->append(it.packed);
  }
  if (opts_.mixer) opts_.mixer->block_done(model_, pass_.examples);  // distributed
}

// The end of a pass: the last mini-batch, then the mix (distributed).
void Trainer::end_pass(TrainReport* first) {
  if (opts_.batch_size != 1) learner_.flush(threads_.local().ls);
  if (opts_.mixer) opts_.mixer->end_pass(model_, pass_, first);  // distributed
}

// Whether to stop after pass p: the held-out loss has not improved for
// early_stop passes (the reason is kept in the report).
bool Trainer::early_stop(int p) {
  if (!(pass_.holdout_weight > 0)) return false;
  double h = pass_.holdout_loss / pass_.holdout_weight;
  if (h < best_) {
    best_ = h, best_pass_ = p, since_best_ = 0;
    keep_best();
    return false;
  }
  if (++since_best_ < opts_.early_stop || opts_.early_stop <= 0) return false;
  if (p >= opts_.passes) return false;  // the last pass: training ends anyway, not early
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "stopped early after pass %d of %d: held-out loss did not improve for %d "
                "passes (best %.6f in pass %d)",
                p, opts_.passes, since_best_, best_, best_pass_);
  rep_.stop_reason = buf;
  return true;
}

}  // namespace

TrainReport train(Model& model, const TrainOptions& opts, const LogLine& log) {
  return Trainer(model, opts, log).run();
}

}  // namespace grist::sgd
