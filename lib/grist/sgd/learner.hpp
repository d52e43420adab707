// The learner: trains a model on a block of parsed examples, scoring each
// example before it learns from it (progressive validation), by SGD or by
// mini-batches. Used by the trainer (grist/sgd/train.hpp), one Learner per
// training run, its block() called by several threads at once (Hogwild)
// with a LocalState each.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"

namespace grist::sgd {

// One thread's share of the learner's state: the normaliser's sums (the
// rate multiplier is sum weight / sum of (x/N)^2) and scratch scores.
struct LocalState {
  double norm_sum = 0, weight_sum = 0;
  std::vector<double> scores;
};

// What learning a block gave: sums of loss and importance, trained and
// held-out, and, when asked (progress lines), each example's loss and
// prediction in the order trained.
struct BlockResult {
  double loss = 0, weight = 0, hloss = 0, hweight = 0;
  uint64_t trained = 0, held = 0;
  std::vector<float> ex_loss, ex_pred;  // per example (NaN loss: held out)
  // Zeroes the sums, keeping the vectors' storage.
  void reset() { *this = BlockResult{std::move(ex_loss), std::move(ex_pred)}; }
  BlockResult() = default;
  BlockResult(std::vector<float> a, std::vector<float> b) : ex_loss(std::move(a)), ex_pred(std::move(b)) {}
};

// Whether block() keeps each example's loss and prediction in BlockResult.
enum class PerExample { skip, record };

class Learner {
 public:
  // `batch`: 1 for SGD, N for mini-batches of N, 0 for the whole input.
  Learner(Model& m, uint64_t batch);
  ~Learner();
  Learner(const Learner&) = delete;
  Learner& operator=(const Learner&) = delete;

  // Learns `ex` in order, or in the order of the indices `order` (non-null:
  // ex.size() of them). Held-out examples are scored, never learnt.
  void block(const Examples& ex, const uint32_t* order, LocalState& ls, BlockResult& res,
             PerExample per_example);

  // Applies the accumulated mini-batch gradient (also at the end of a pass).
  void flush(LocalState& ls);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Trains on examples already in memory, one pass, in order, one thread
// (unit tests). Returns the average progressive loss.
double train_examples(Model& model, const Examples& ex);

}  // namespace grist::sgd
