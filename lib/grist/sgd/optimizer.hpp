// The optimiser maths of grist-train-sgd: one coordinate's update for sgd,
// adagrad and ftrl, with or without the normaliser. Header-only and inline:
// the learner's per-example loop (grist/sgd/learner.cpp) calls step() for
// every feature of every example, and it must inline there.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "grist/sgd/model.hpp"

namespace grist::sgd {

// Relaxed loads and stores of the shared weights (Hogwild: model.hpp).
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

// The rates of one step: the learning rate (sgd's decayed by --power-t),
// the normaliser's multiplier, the regularisers and ftrl's beta.
struct Rates {
  float lr = 0, mult = 1, l1 = 0, l2 = 0, beta = 1;
};

// The smallest max |x| the normaliser keeps: a smaller |x| counts as this
// much (VW's X_MIN, sqrt(FLT_MIN)), so that 1/N^2 fits a float and a
// weight learnt at that scale, about rate/N, stays finite.
constexpr float kMinScale = 1.0842022e-19f;

// One coordinate's update with gradient gx (= dL/dw of the loss, without
// the regulariser); s is the coordinate's slot (model.hpp's layout).
//
// With the normaliser (sgd and adagrad), N is the largest |x| seen for the
// coordinate and the step is taken in normalised units: u = w*N is the
// weight of x/N, whose gradient is gn = gx/N; sgd steps u by rate*gn,
// adagrad by rate*gn/sqrt(G) with G the sum of gn^2 (the regulariser's
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
    const float gn = gx * inv_n;
    float dir = gn;              // the step on u, over rate
    if constexpr (O == Optimizer::adagrad) {
      float gl = (gx + r.l2 * w) * inv_n;
      float G = capped(ld(s[1]) + gl * gl);
      st(s[1], G);
      // The sum starts at 0, as in VW: the step does not depend on the
      // scale of the loss (scale-free in the gradient, as the normaliser
      // makes it in x).
      // Its denominator is at least |gn| (the regulariser's gradient may
      // cancel gn's in G), so that |dir| <= 1: no step exceeds the rate.
      float den = std::sqrt(std::max(G, gn * gn));
      if (!(den > 0)) den = 1;  // nothing to learn: gn is 0, and no --l2 yet
      dir = gn / den;
      rate /= den;
    }
    w -= (r.lr * r.mult) * dir * inv_n;
    if (r.l2 > 0) w /= 1 + rate * inv_n * inv_n * r.l2;
    if (r.l1 > 0) w = shrink(w, rate * inv_n * inv_n * r.l1);
  }
  st(s[0], w);
}

// step() for the optimiser and normaliser chosen at run time (a
// mini-batch's flush, once per touched coordinate; the per-example loop
// picks its instantiation once per block instead).
inline void step_any(Optimizer o, bool norm, std::atomic<float>* s, float gx, const Rates& r) {
  switch (o) {
    case Optimizer::sgd:
      norm ? step<Optimizer::sgd, true>(s, gx, r) : step<Optimizer::sgd, false>(s, gx, r);
      break;
    case Optimizer::adagrad:
      norm ? step<Optimizer::adagrad, true>(s, gx, r) : step<Optimizer::adagrad, false>(s, gx, r);
      break;
    case Optimizer::ftrl: step<Optimizer::ftrl, false>(s, gx, r); break;
  }
}

}  // namespace grist::sgd
