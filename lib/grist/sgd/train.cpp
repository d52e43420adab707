#include "grist/sgd/train.hpp"

#include <unistd.h>
#include <zstd.h>

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "grist/error.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/pipeline.hpp"
#include "grist/io/test_hook.hpp"

namespace grist::sgd {

namespace {

inline float ld(const std::atomic<float>& a) { return a.load(std::memory_order_relaxed); }
inline void st(std::atomic<float>& a, float v) { a.store(v, std::memory_order_relaxed); }

inline float shrink(float w, float by) {
  if (w > by) return w - by;
  if (w < -by) return w + by;
  return 0;
}

// An optimiser sum, kept finite: past FLT_MAX it stays there, so that a
// saved model never holds inf in its state (NaN passes: it is an error).
inline float capped(float v) {
  constexpr float kMax = std::numeric_limits<float>::max();
  return v > kMax ? kMax : v;
}

struct Rates {
  float lr = 0, mult = 1, l1 = 0, l2 = 0, beta = 1;
};

// The smallest max |x| the normaliser keeps: a smaller |x| counts as this
// much (VW's X_MIN, sqrt(FLT_MIN)), so that 1/N^2 fits a float and a
// weight learnt at that scale, about rate/N, stays finite.
constexpr float kMinScale = 1.0842022e-19f;

// One coordinate's update with gradient gx (= dL/dw of the loss, without
// the regulariser).
//
// With the normaliser (sgd and adagrad), N is the largest |x| seen for the
// coordinate and the step is taken in normalised units: u = w*N is the
// weight of x/N, whose gradient is gn = gx/N; sgd steps u by rate*gn,
// adagrad by rate*gn/sqrt(G+1) with G the sum of gn^2 (the regulariser's
// gradient included). In w that is rate*gn/N, computed in that order:
// |gn| <= |dL/dp| since |x| <= N, so no product overflows before the step
// itself (N*N would underflow for N below 1e-19). L2 is applied
// implicitly, w <- (w - step)/(1 + rate*l2/N^2), so that no --l2 however
// large makes a weight overshoot zero and diverge (an infinite rate makes
// it 0); L1 shrinks towards zero by rate*l1/N^2.
template <Optimizer O, bool Norm>
inline void step(std::atomic<float>* s, float gx, const Rates& r) {
  float w = ld(s[0]);
  if constexpr (O == Optimizer::ftrl) {
    float z = ld(s[1]), n = ld(s[2]);
    float sigma = (std::sqrt(n + gx * gx) - std::sqrt(n)) / r.lr;
    z += gx - sigma * w;
    n = capped(n + gx * gx);
    st(s[1], z);
    st(s[2], n);
    float den = (r.beta + std::sqrt(n)) / r.lr + r.l2;
    // den is 0 only with --ftrl-beta 0, --l2 0 and gradients that square
    // to 0 in float: nothing learnt yet.
    w = std::fabs(z) <= r.l1 || !(den > 0) ? 0.f : -(z - std::copysign(r.l1, z)) / den;
  } else {
    float inv_n = 1;  // N >= kMinScale: 1/N <= 9.3e18
    if constexpr (Norm) {
      const float N = ld(s[O == Optimizer::adagrad ? 2 : 1]);
      if (N > 0) inv_n = 1 / N;  // else never scaled (-i of a model trained without)
    }
    float rate = r.lr * r.mult;  // on u
    if constexpr (O == Optimizer::adagrad) {
      float gl = (gx + r.l2 * w) * inv_n;
      float G = capped(ld(s[1]) + gl * gl);
      st(s[1], G);
      // The sum starts at 1 (in normalised units), not 0: a rare feature's
      // first small gradient then moves it a little, not a full step.
      rate /= std::sqrt(G + 1.f);
    }
    w -= rate * (gx * inv_n) * inv_n;
    if (r.l2 > 0) w /= 1 + rate * inv_n * inv_n * r.l2;
    if (r.l1 > 0) w = shrink(w, rate * inv_n * inv_n * r.l1);
  }
  st(s[0], w);
}

struct LocalState {
  double norm_sum = 0, weight_sum = 0;
  std::vector<double> scores;
};

struct BlockResult {
  double loss = 0, weight = 0, hloss = 0, hweight = 0;
  uint64_t trained = 0, held = 0;
  std::vector<float> ex_loss, ex_pred;  // per example (NaN loss: held out)
  void reset() { *this = BlockResult{std::move(ex_loss), std::move(ex_pred)}; }
  BlockResult() = default;
  BlockResult(std::vector<float> a, std::vector<float> b) : ex_loss(std::move(a)), ex_pred(std::move(b)) {}
};

class Learner {
 public:
  Learner(Model& m, uint64_t batch) : m_(m), o_(m.options()), batch_(batch) {
    norm_ = o_.normalized && o_.optimizer != Optimizer::ftrl;
    noff_ = o_.optimizer == Optimizer::sgd ? 1 : 2;
    if (norm_) {
      for (int k = 0; k < m_.k(); ++k) {
        auto* s = m_.state() + (uint64_t(m_.bias_index()) * m_.k() + k) * m_.stride();
        if (ld(s[noff_]) == 0) st(s[noff_], 1);
      }
    }
    if (batch_ != 1) acc_.assign(m_.slots(), 0.f);
  }

  void block(const Examples& ex, const uint32_t* order, LocalState& ls, BlockResult& res,
             bool record) {
    if (batch_ != 1) {  // the optimizer steps in flush(), not in the loop
      return norm_ ? run<Optimizer::sgd, true, true>(ex, order, ls, res, record)
                   : run<Optimizer::sgd, false, true>(ex, order, ls, res, record);
    }
    switch (o_.optimizer) {
      case Optimizer::sgd:
        return norm_ ? run<Optimizer::sgd, true, false>(ex, order, ls, res, record)
                     : run<Optimizer::sgd, false, false>(ex, order, ls, res, record);
      case Optimizer::adagrad:
        return norm_ ? run<Optimizer::adagrad, true, false>(ex, order, ls, res, record)
                     : run<Optimizer::adagrad, false, false>(ex, order, ls, res, record);
      case Optimizer::ftrl: return run<Optimizer::ftrl, false, false>(ex, order, ls, res, record);
    }
  }

  // Applies the accumulated mini-batch gradient (also at the end of a pass).
  void flush(LocalState& ls) {
    if (batch_ == 1 || in_batch_ == 0) return;
    Rates r = rates(ls, t_.load());
    float inv = 1.0f / static_cast<float>(in_batch_);
    for (uint64_t slot : touched_) {
      float gx = acc_[slot] * inv;
      acc_[slot] = 0;
      auto* s = m_.state() + slot * m_.stride();
      switch (o_.optimizer) {
        case Optimizer::sgd:
          norm_ ? step<Optimizer::sgd, true>(s, gx, r) : step<Optimizer::sgd, false>(s, gx, r);
          break;
        case Optimizer::adagrad:
          norm_ ? step<Optimizer::adagrad, true>(s, gx, r)
                : step<Optimizer::adagrad, false>(s, gx, r);
          break;
        case Optimizer::ftrl: step<Optimizer::ftrl, false>(s, gx, r); break;
      }
    }
    touched_.clear();
    in_batch_ = 0;
  }

 private:
  Rates rates(const LocalState& ls, uint64_t t) const {
    Rates r;
    r.lr = static_cast<float>(o_.learning_rate);
    if (o_.optimizer == Optimizer::sgd && o_.power_t != 0) {
      r.lr = static_cast<float>(o_.learning_rate * std::pow(o_.initial_t + t + 1, -o_.power_t));
    }
    r.mult = norm_ && ls.norm_sum > 0 ? static_cast<float>(ls.weight_sum / ls.norm_sum) : 1.f;
    r.l1 = static_cast<float>(o_.l1);
    r.l2 = static_cast<float>(o_.l2);
    r.beta = static_cast<float>(o_.ftrl_beta);
    return r;
  }

  // Raises the max |x| of the coordinate at s to ax, rescaling its weight
  // (rescale_slot in model.hpp). Under Hogwild two threads may raise it at
  // once: the compare-exchange lets each rescale by exactly the step it
  // made, so that the factors compose.
  void raise_scale(std::atomic<float>* s, float ax) const {
    float old = ld(s[noff_]);
    while (ax > old) {
      if (s[noff_].compare_exchange_weak(old, ax, std::memory_order_relaxed)) {
        if (old > 0) rescale_slot(o_.optimizer, s, old, ax);
        return;
      }
    }
  }

  // Scores of every class; with Norm (and update_norm) first raises each
  // feature's max |x|, so that the example is scored by the weights
  // rescaled to its scale, and returns sum (x/N)^2 of the example.
  template <bool Norm>
  double scores(const uint32_t* idx, const float* val, size_t nf, bool update_norm,
                LocalState& ls) {
    const int K = m_.k(), S = m_.stride();
    std::atomic<float>* s = m_.state();
    const uint64_t bias0 = uint64_t(m_.bias_index()) * K;
    double norm = o_.bias ? 1 : 0;
    if (Norm && update_norm) {
      for (size_t j = 0; j < nf; ++j) {
        float ax = std::max(std::fabs(val[j]), kMinScale);
        float N = 0;
        for (int k = 0; k < K; ++k) {
          std::atomic<float>* c = s + (uint64_t(idx[j]) * K + k) * S;
          if (ax > ld(c[noff_])) raise_scale(c, ax);
          N = ld(c[noff_]);
        }
        // A value below kMinScale counts as kMinScale here too (as in VW),
        // else its tiny q would inflate the rate multiplier t / sum q^2.
        float q = ax / N;
        norm += q * q;
      }
    }
    for (int k = 0; k < K; ++k) {
      double p = o_.bias ? ld(s[(bias0 + k) * S]) : 0.f;
      for (size_t j = 0; j < nf; ++j) p += double(ld(s[(uint64_t(idx[j]) * K + k) * S])) * val[j];
      ls.scores[k] = p;
    }
    return norm;
  }

  // Progressive loss of the scores in ls.scores; sets pred for display.
  double example_loss(const LocalState& ls, float y, float& pred) const {
    const int K = m_.k();
    if (o_.classes > 0) {
      int best = 0;
      for (int k = 1; k < K; ++k) if (ls.scores[k] > ls.scores[best]) best = k;
      pred = static_cast<float>(best);
      return best == static_cast<int>(y) ? 0.0 : 1.0;
    }
    double p = ls.scores[0];
    pred = static_cast<float>(o_.loss == Loss::logistic ? sigmoid(p) : p);
    return loss_value(o_.loss, p, y, o_.quantile_tau);
  }

  // One loop for SGD and mini-batches. SGD (Batch false) steps each
  // coordinate as soon as its gradient is known, at the rate of the
  // example's position t; a mini-batch sums the gradients in acc_ and
  // flush() steps every touched coordinate once per batch_ examples. The
  // choice is a template parameter, so the SGD loop carries no test of it.
  template <Optimizer O, bool Norm, bool Batch>
  void run(const Examples& ex, const uint32_t* order, LocalState& ls, BlockResult& res,
           bool record) {
    const int K = m_.k(), S = m_.stride();
    std::atomic<float>* s = m_.state();
    const uint64_t bias0 = uint64_t(m_.bias_index()) * K;
    const size_t n = ex.size();
    ls.scores.resize(K);
    if (record) res.ex_loss.resize(n), res.ex_pred.resize(n);
    // SGD claims the block's positions up front (threads interleave blocks);
    // mini-batches count examples one by one and take the rate at flush().
    const uint64_t t0 = Batch ? 0 : t_.fetch_add(n, std::memory_order_relaxed);
    Rates rt;
    auto update = [&](uint64_t slot, float g) {
      if constexpr (Batch) {
        if (acc_[slot] == 0) touched_.push_back(slot);
        acc_[slot] += g;
        // A sum that cancels to 0 must still read as touched.
        if (acc_[slot] == 0) acc_[slot] = std::numeric_limits<float>::denorm_min();
      } else {
        step<O, Norm>(s + slot * S, g, rt);
      }
    };
    for (size_t r = 0; r < n; ++r) {
      const size_t i = order ? order[r] : r;
      const uint32_t b = ex.begin[i];
      const size_t nf = ex.begin[i + 1] - b;
      const uint32_t* idx = ex.index.data() + b;
      const float* val = ex.value.data() + b;
      const float y = ex.label[i], imp = ex.weight[i];
      const bool hold = ex.holdout[i];
      double norm = scores<Norm>(idx, val, nf, !hold, ls);
      float pred;
      double l = example_loss(ls, y, pred);
      if (record) res.ex_pred[r] = pred;
      if (hold) {
        res.hloss += l * imp;
        res.hweight += imp;
        ++res.held;
        if (record) res.ex_loss[r] = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      res.loss += l * imp;
      res.weight += imp;
      ++res.trained;
      if (record) res.ex_loss[r] = static_cast<float>(l);
      // An example of importance 0 changes nothing but, in a mini-batch,
      // still counts towards the batch size.
      if (!Batch && imp == 0) continue;
      if (Norm) {
        ls.norm_sum += imp * norm;
        ls.weight_sum += imp;
      }
      if constexpr (!Batch) rt = rates(ls, t0 + r);
      for (int k = 0; k < K; ++k) {
        float yk = o_.classes > 0 ? (static_cast<int>(y) == k ? 1.f : -1.f) : y;
        float d = static_cast<float>(loss_derivative(o_.loss, ls.scores[k], yk, o_.quantile_tau) * imp);
        if (d == 0) continue;
        if (o_.bias) update(bias0 + k, d);
        for (size_t j = 0; j < nf; ++j) update(uint64_t(idx[j]) * K + k, d * val[j]);
      }
      if constexpr (Batch) {
        t_.fetch_add(1, std::memory_order_relaxed);
        if (++in_batch_ == batch_) flush(ls);
      }
    }
  }

  Model& m_;
  const ModelOptions& o_;
  uint64_t batch_;
  bool norm_;
  int noff_;  // offset of max |x| in a slot
  std::atomic<uint64_t> t_{0};
  std::vector<float> acc_;
  std::vector<uint64_t> touched_;
  uint64_t in_batch_ = 0;
};

// ---- the cache of parsed examples: one zstd frame per block ----

class Cache {
 public:
  explicit Cache(const std::string& dir) : dir_(dir), fd_(open_anonymous_temp_file(dir)) {}
  size_t chunks() const { return chunks_.size(); }

  static void encode(const Examples& ex, std::string& out, ZSTD_CCtx* cctx, std::string& raw) {
    raw.clear();
    auto put = [&](const void* p, size_t n) { raw.append(static_cast<const char*>(p), n); };
    uint32_t n = static_cast<uint32_t>(ex.size()), nf = static_cast<uint32_t>(ex.features());
    put(&n, 4);
    put(&nf, 4);
    put(ex.label.data(), n * 4);
    put(ex.weight.data(), n * 4);
    put(ex.holdout.data(), n);
    put(ex.begin.data(), (n + 1) * 4);
    put(ex.index.data(), size_t(nf) * 4);
    put(ex.value.data(), size_t(nf) * 4);
    out.resize(ZSTD_compressBound(raw.size()));
    size_t r = ZSTD_compressCCtx(cctx, out.data(), out.size(), raw.data(), raw.size(), 1);
    if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
    out.resize(r);
  }

  static void decode(const std::string& in, Examples& ex, ZSTD_DCtx* dctx, std::string& raw) {
    unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
      throw Error("example cache: corrupt block");
    }
    raw.resize(size);
    size_t r = ZSTD_decompressDCtx(dctx, raw.data(), raw.size(), in.data(), in.size());
    if (ZSTD_isError(r) || r != size) throw Error("example cache: corrupt block");
    const char* p = raw.data();
    auto get = [&](void* dst, size_t n) { std::memcpy(dst, p, n), p += n; };
    uint32_t n, nf;
    get(&n, 4);
    get(&nf, 4);
    ex.clear();
    ex.label.resize(n);
    ex.weight.resize(n);
    ex.holdout.resize(n);
    ex.begin.resize(n + 1);
    ex.index.resize(nf);
    ex.value.resize(nf);
    get(ex.label.data(), n * 4);
    get(ex.weight.data(), n * 4);
    get(ex.holdout.data(), n);
    get(ex.begin.data(), (n + 1) * 4);
    get(ex.index.data(), size_t(nf) * 4);
    get(ex.value.data(), size_t(nf) * 4);
  }

  void append(const std::string& bytes) {
    pwrite_all(fd_.get(), bytes.data(), bytes.size(), end_, dir_ + " (example cache)");
    chunks_.push_back({end_, bytes.size()});
    end_ += bytes.size();
  }

  void read(size_t chunk, std::string& out) const {
    auto [off, n] = chunks_[chunk];
    out.resize(n);
    pread_all(fd_.get(), out.data(), n, off, dir_ + " (example cache)");
  }

 private:

  std::string dir_;
  UniqueFd fd_;
  uint64_t end_ = 0;
  std::vector<std::pair<uint64_t, size_t>> chunks_;
};

// ---- reporting ----

class Reporter {
 public:
  Reporter(const ModelOptions& o, bool lines, const std::function<void(const std::string&)>& log)
      : o_(o), lines_(lines), log_(log) {}

  void block(const Examples& ex, const uint32_t* order, const BlockResult& r) {
    if (lines_ && !r.ex_loss.empty()) {
      for (size_t k = 0; k < ex.size(); ++k) {
        float l = r.ex_loss[k];
        if (std::isnan(l)) continue;
        size_t i = order ? order[k] : k;
        float w = ex.weight[i];
        sum_ += l * w, sw_ += w, since_ += l * w, since_w_ += w;
        if (++count_ == next_) {
          line(ex.label[i], r.ex_pred[k], ex.begin[i + 1] - ex.begin[i]);
          next_ *= 2;
        }
      }
    }
  }

  void line(float label, float pred, size_t features) {
    if (!header_) {
      log_("average    since        example   current    current  features");
      log_("loss       last         counter     label    predict");
      header_ = true;
    }
    char buf[160];
    bool oaa = o_.classes > 0;
    std::snprintf(buf, sizeof buf, "%-10.6f %-10.6f %9llu %9.4g %10.4g %9zu", sum_ / std::max(sw_, 1e-300),
                  since_ / std::max(since_w_, 1e-300), static_cast<unsigned long long>(count_),
                  oaa ? label + o_.class_base : label, oaa ? pred + o_.class_base : pred,
                  features + (o_.bias ? 1 : 0));
    log_(buf);
    since_ = since_w_ = 0;
  }

  uint64_t count() const { return count_; }

 private:
  const ModelOptions& o_;
  bool lines_;
  const std::function<void(const std::string&)>& log_;
  bool header_ = false;
  uint64_t count_ = 0, next_ = 1;
  double sum_ = 0, sw_ = 0, since_ = 0, since_w_ = 0;
};

struct Item {
  Block block;
  Examples ex;
  BlockResult res;
  ErrorLog errors;
  std::string packed;      // compressed block, for the cache
  std::vector<uint32_t> order;
  size_t seq = 0;  // passes 2..: the position of the block in this pass
};

// --- distributed training ---
// parse_block restricted to this process's share of the lines.
void parse_line_share(Parser& parser, const Block& b, Examples& out, ErrorLog* skip,
                      int shards, int shard) {
  uint64_t line_no = b.first_line;
  for_each_line(b, [&](std::string_view line) {
    if ((line_no - 1) % uint64_t(shards) == uint64_t(shard)) {
      try {
        parser.parse_line(line, out, line_no);
      } catch (const std::invalid_argument& e) {
        if (!skip) throw Error(*b.source, line_no, e.what());
        if (skip->skipped++ == 0) {
          skip->first = escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line_no) + ": " + e.what();
        }
      }
    }
    ++line_no;
  });
}
// --- end distributed training ---

void mark_holdout(Examples& ex, uint64_t every) {
  if (!every) return;
  for (size_t i = 0; i < ex.size(); ++i) ex.holdout[i] = ex.line[i] % every == 0;
}

struct PerThread {
  std::unique_ptr<Parser> parser;
  LocalState ls;
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  std::string raw;
  ~PerThread() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

}  // namespace

double train_examples(Model& model, const Examples& ex) {
  Learner learner(model, 1);
  LocalState ls;
  BlockResult res;
  learner.block(ex, nullptr, ls, res, false);
  return res.weight > 0 ? res.loss / res.weight : 0;
}

TrainReport train(Model& model, const TrainOptions& opts,
                  const std::function<void(const std::string&)>& log) {
  using clock = std::chrono::steady_clock;
  auto t_start = clock::now();
  TrainReport rep;
  ModelOptions& mo = model.options();

  // --- distributed training: this process's share ---
  std::vector<std::string> inputs = opts.inputs;
  bool line_share = false;
  if (opts.shards > 1) {
    if (!inputs.empty() && inputs.size() % opts.shards == 0) {
      std::vector<std::string> mine;
      for (size_t i = opts.shard; i < inputs.size(); i += opts.shards) mine.push_back(inputs[i]);
      inputs = std::move(mine);
    } else {
      line_share = true;
    }
  }
  // --- end distributed training ---
  BlockReader reader(inputs, opts.block_size);
  auto first = std::make_unique<Item>();
  bool have_first = reader.next(first->block);
  if (have_first && opts.sniff) {
    auto f = sniff_format(first->block.view().substr(0, 1 << 16));
    if (!f) {
      throw Error(*first->block.source,
                  "cannot tell the input format from the first example; give --format "
                  "svmlight, vw or text");
    }
    mo.format = *f;
  }
  check_quadratic(mo.quadratic);
  if (!mo.quadratic.empty() && mo.format != Format::vw) {
    throw Error("-q needs namespaces: it applies to Vowpal Wabbit input only");
  }
  if (mo.ngrams > 1 && mo.format != Format::text) {
    throw Error(std::string("--ngrams applies to text input (LABEL<TAB>TEXT) only, not ") +
                format_name(mo.format));
  }
  ParseOptions po = mo.parse_options();
  if (opts.names && opts.names->size() != (uint64_t(1) << mo.bits)) {
    throw Error("feature names: table size differs from the model's -b");
  }
  po.names = opts.names;
  const bool parallel = opts.threads > 1 && opts.batch_size == 1;
  const bool use_cache = opts.passes > 1;
  std::unique_ptr<Cache> cache;
  if (use_cache) cache = std::make_unique<Cache>(opts.temp_dir);

  Learner learner(model, opts.batch_size);
  if (opts.mixer) opts.mixer->begin(model);
  Reporter reporter(mo, opts.progress_lines, log);
  tbb::enumerable_thread_specific<PerThread> tls;
  auto thread_state = [&]() -> PerThread& {
    PerThread& pt = tls.local();
    if (!pt.parser) {
      pt.parser = std::make_unique<Parser>(po);
      pt.cctx = ZSTD_createCCtx();
      pt.dctx = ZSTD_createDCtx();
    }
    return pt;
  };
  const bool record = opts.progress_lines;

  PassReport pass;
  auto finish_item = [&](Item& it, bool first_pass) {
    reporter.block(it.ex, it.order.empty() ? nullptr : it.order.data(), it.res);
    pass.train_loss += it.res.loss;
    pass.train_weight += it.res.weight;
    pass.holdout_loss += it.res.hloss;
    pass.holdout_weight += it.res.hweight;
    pass.examples += it.res.trained + it.res.held;
    rep.trained_examples += it.res.trained;
    if (first_pass) {
      rep.examples += it.ex.size();
      rep.holdout_examples += it.res.held;
      rep.features += it.ex.features();
      if (it.errors.skipped) {
        if (rep.skipped == 0) rep.first_skipped = it.errors.first;
        rep.skipped += it.errors.skipped;
      }
      if (cache) cache->append(it.packed);
    }
    if (opts.mixer) opts.mixer->block_done(model, pass.examples);  // distributed
  };
  auto work_first = [&](Item& it) {
    PerThread& pt = thread_state();
    it.ex.clear();
    it.errors = ErrorLog{};
    it.res.reset();
    it.order.clear();
    if (line_share) {
      parse_line_share(*pt.parser, it.block, it.ex, opts.skip_errors ? &it.errors : nullptr,
                       opts.shards, opts.shard);
    } else {
      pt.parser->parse_block(it.block, it.ex, opts.skip_errors ? &it.errors : nullptr);
    }
    mark_holdout(it.ex, opts.holdout_every);
    if (cache) Cache::encode(it.ex, it.packed, pt.cctx, pt.raw);
    learner.block(it.ex, nullptr, pt.ls, it.res, record);
  };

  // ---- pass 1: parse the inputs ----
  test_stop_point("pass");
  if (have_first) {
    // The first block, read to sniff the format, goes through first.
    auto produce = [&](Item& it) {
      if (first) {
        std::swap(it, *first);
        first.reset();
        return true;
      }
      return reader.next(it.block);
    };
    ordered_pipeline<Item>(parallel ? opts.threads : 1, produce, work_first,
                           [&](Item& it) { finish_item(it, true); });
  }
  if (opts.batch_size != 1) learner.flush(tls.local().ls);
  rep.bytes = reader.bytes_read();
  if (opts.mixer) opts.mixer->end_pass(model, pass, &rep);  // distributed
  rep.train_seconds_pass1 = std::chrono::duration<double>(clock::now() - t_start).count();
  if (rep.examples == 0) {
    if (rep.skipped) {
      throw Error("no valid example in the input (" + std::to_string(rep.skipped) +
                  " malformed lines skipped; first: " + rep.first_skipped + ")");
    }
    throw Error(escape_bytes(opts.inputs.empty() || opts.inputs[0] == "-" ? "(stdin)"
                                                                            : opts.inputs[0],
                             SIZE_MAX) +
                (opts.inputs.size() > 1 ? " ..." : "") + ": no examples in the input (empty input?)");
  }
  if (rep.holdout_examples == rep.examples) {
    throw Error("every example is held out (--holdout-every " +
                std::to_string(opts.holdout_every) + "): nothing to train on");
  }

  auto pass_line = [&](int p) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, "pass %d: %llu examples, %s %.6f", p,
                          static_cast<unsigned long long>(pass.examples),
                          p == 1 ? "progressive loss" : "training loss",
                          pass.train_loss / std::max(pass.train_weight, 1e-300));
    if (pass.holdout_weight > 0) {
      std::snprintf(buf + n, sizeof buf - n, ", held-out loss %.6f",
                    pass.holdout_loss / pass.holdout_weight);
    }
    log(buf);
  };
  if (opts.passes > 1 || opts.holdout_every) pass_line(1);
  rep.passes.push_back(pass);

  double best = pass.holdout_weight > 0 ? pass.holdout_loss / pass.holdout_weight
                                        : std::numeric_limits<double>::infinity();
  int best_pass = 1, since_best = 0;
  rep.stop_reason = opts.passes == 1 ? "one pass, as asked" : "";

  // ---- passes 2.. from the cache ----
  for (int p = 2; p <= opts.passes; ++p) {
    test_stop_point("pass");
    pass = PassReport{};
    std::vector<uint32_t> chunk_order(cache->chunks());
    std::iota(chunk_order.begin(), chunk_order.end(), 0);
    std::mt19937_64 rng(opts.seed * 0x9E3779B97F4A7C15ULL + p);
    if (opts.shuffle) std::shuffle(chunk_order.begin(), chunk_order.end(), rng);
    auto work = [&](Item& it, uint32_t chunk, uint64_t chunk_seed) {
      PerThread& pt = thread_state();
      it.res.reset();
      Cache::decode(it.packed, it.ex, pt.dctx, pt.raw);
      it.order.clear();
      if (opts.shuffle) {
        it.order.resize(it.ex.size());
        std::iota(it.order.begin(), it.order.end(), 0);
        std::mt19937_64 r2(chunk_seed);
        std::shuffle(it.order.begin(), it.order.end(), r2);
      }
      learner.block(it.ex, it.order.empty() ? nullptr : it.order.data(), pt.ls, it.res, false);
      (void)chunk;
    };
    std::vector<uint64_t> seeds(chunk_order.size());
    for (auto& s : seeds) s = rng();
    size_t next = 0;
    auto produce = [&](Item& it) {
      if (next == chunk_order.size()) return false;
      cache->read(chunk_order[next], it.packed);
      it.seq = next++;
      return true;
    };
    ordered_pipeline<Item>(
        parallel ? opts.threads : 1, produce,
        [&](Item& it) { work(it, chunk_order[it.seq], seeds[it.seq]); },
        [&](Item& it) { finish_item(it, false); });
    if (opts.batch_size != 1) learner.flush(tls.local().ls);
    if (opts.mixer) opts.mixer->end_pass(model, pass, nullptr);  // distributed
    pass_line(p);
    rep.passes.push_back(pass);
    if (pass.holdout_weight > 0) {
      double h = pass.holdout_loss / pass.holdout_weight;
      if (h < best) {
        best = h, best_pass = p, since_best = 0;
      } else if (++since_best >= opts.early_stop && opts.early_stop > 0) {
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "stopped early after pass %d of %d: held-out loss did not improve for %d "
                      "passes (best %.6f in pass %d)",
                      p, opts.passes, since_best, best, best_pass);
        rep.stop_reason = buf;
        break;
      }
    }
  }
  if (rep.stop_reason.empty()) rep.stop_reason = "all " + std::to_string(opts.passes) + " passes done";
  if (opts.mixer) opts.mixer->end(rep);
  mo.examples_trained += rep.trained_examples;
  mo.passes_trained += rep.passes.size();
  rep.seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return rep;
}

}  // namespace grist::sgd
