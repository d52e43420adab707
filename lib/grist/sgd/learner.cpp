#include "grist/sgd/learner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "grist/sgd/loss.hpp"
#include "grist/sgd/optimizer.hpp"

namespace grist::sgd {

namespace {

// The learner's work; Learner forwards a block at a time. The loop's
// helpers (scores, example_loss, rates) stay out of line, as GCC chose
// when the learner shared a file with the trainer: inlined here, in a
// smaller file, the loop took 7% more instructions (callgrind).
class Core {
 public:
  Core(Model& m, uint64_t batch) : m_(m), o_(m.options()), batch_(batch) {
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
      step_any(o_.optimizer, norm_, m_.state() + slot * m_.stride(), gx, r);
    }
    touched_.clear();
    in_batch_ = 0;
  }

 private:
  [[gnu::noinline]] Rates rates(const LocalState& ls, uint64_t t) const {
    Rates r;
    r.lr = static_cast<float>(o_.learning_rate);
    if (o_.optimizer == Optimizer::sgd && o_.power_t != 0) {
      r.lr = static_cast<float>(o_.learning_rate * std::pow(o_.initial_t + t + 1, -o_.power_t));
    }
    if (norm_ && ls.norm_sum > 0) {
      double avg = ls.weight_sum / ls.norm_sum;
      r.mult = static_cast<float>(o_.optimizer == Optimizer::adagrad ? std::sqrt(avg) : avg);
    }
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
  [[gnu::noinline]] double scores(const uint32_t* idx, const float* val, size_t nf, bool update_norm,
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
  [[gnu::noinline]] double example_loss(const LocalState& ls, const Examples& ex, size_t i,
                                        float y, float& pred) const {
    const int K = m_.k();
    if (o_.classes > 0) {
      int best = 0;
      for (int k = 1; k < K; ++k) if (ls.scores[k] > ls.scores[best]) best = k;
      pred = static_cast<float>(best);
      return ex.has_class(i, best) ? 0.0 : 1.0;
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
      double l = example_loss(ls, ex, i, y, pred);
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
        float yk = o_.classes > 0 ? (ex.has_class(i, k) ? 1.f : -1.f) : y;
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

}  // namespace

struct Learner::Impl : Core {
  using Core::Core;
};

Learner::Learner(Model& m, uint64_t batch) : impl_(std::make_unique<Impl>(m, batch)) {}
Learner::~Learner() = default;

void Learner::block(const Examples& ex, const uint32_t* order, LocalState& ls, BlockResult& res,
                    PerExample per_example) {
  impl_->block(ex, order, ls, res, per_example == PerExample::record);
}

void Learner::flush(LocalState& ls) { impl_->flush(ls); }

double train_examples(Model& model, const Examples& ex) {
  Learner learner(model, 1);
  LocalState ls;
  BlockResult res;
  learner.block(ex, nullptr, ls, res, PerExample::skip);
  return res.weight > 0 ? res.loss / res.weight : 0;
}

}  // namespace grist::sgd
