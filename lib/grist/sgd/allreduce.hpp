// Distributed training by iterative parameter mixing (as Vowpal Wabbit's
// cluster mode does): K processes each train on their share of the data
// (TrainOptions::shards/shard) and mix their models with an all-reduce at
// the end of every pass, and optionally every N examples.
//
//   auto comm = grist::sgd::MpiCommunicator::init(&argc, &argv);  // MPI builds only
//   grist::sgd::AllreduceMixer mixer(*comm, every);
//   train_opts.shards = comm->size();  train_opts.shard = comm->rank();
//   train_opts.mixer = &mixer;
//   train(model, train_opts, log);    // every rank; rank 0 saves the model
//
// Only the slots that some process changed since the last round are sent
// (a bitmap OR-reduce finds them), so a round costs 2^b/8 bytes plus the
// changed slots. How they are mixed, per slot (weight index x class), so
// that every process ends a round with the same model:
//   - adagrad: the weight is the average of the processes' weights, each
//     weighted by the squared gradients it added since the last round (a
//     feature only one process saw keeps that process's weight; VW weights
//     its average by the adaptive sums the same way); the gradient sum is
//     the last round's plus every process's increase. Untouched slots get
//     the plain average.
//   - sgd: the plain average of the weights.
//   - ftrl: z and n are the last round's plus every process's increase (the
//     sum a single process would have seen), and w is recomputed from them.
//   - the normalisation state (largest |x| of each feature) is the maximum,
//     taken first: each process's weight (and adagrad's gradient sum) is
//     rescaled to it before the mixing (rescale_slot in model.hpp).
// The learning-rate schedule's example counter stays per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "grist/sgd/model.hpp"
#include "grist/sgd/train.hpp"

namespace grist::sgd {

// The collective operations the mixer needs. Every process calls each
// operation in the same order with the same sizes; the arrays are replaced
// by the element-wise sum (or max) over the processes.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void sum(float* data, size_t n) = 0;
  virtual void sum(double* data, size_t n) = 0;
  virtual void max(float* data, size_t n) = 0;
  virtual void bit_or(uint64_t* data, size_t n) = 0;
};

class AllreduceMixer : public ModelMixer {
 public:
  // `every` > 0: also mix after each block that brings this process's
  // examples in the pass to another multiple of `every` (blocks are ~1 MiB of
  // input, so the period is rounded up to a block).
  AllreduceMixer(Communicator& comm, uint64_t every = 0) : comm_(comm), every_(every) {}

  void begin(Model& model) override;
  void block_done(Model& model, uint64_t examples) override;
  void end_pass(Model& model, PassReport& pass, TrainReport* first) override;
  void end(TrainReport& rep) override;

  uint64_t rounds() const { return rounds_; }  // mixing rounds so far

 private:
  // Where this process is when it joins a round: at pass_end it has
  // finished its pass, and keeps joining rounds until every process has.
  enum class RoundAt { mid_pass, pass_end };
  // One collective round. Returns true when every process was at pass_end.
  bool round(Model& model, RoundAt at);
  void mix(Model& model);
  void find_changed(const Model& model);
  void mix_scales(Model& model);
  void mix_weights(Model& model);

  Communicator& comm_;
  uint64_t every_;
  uint64_t next_mix_ = 0;
  uint64_t rounds_ = 0;
  uint64_t global_pass1_trained_ = 0;
  std::vector<float> prev_;  // the model state after the last round (the same everywhere)
  std::vector<float> buf_;
  std::vector<uint64_t> dirty_;  // bitmap of slots changed since the last round
  std::vector<uint64_t> slots_;  // their union over the processes
};

#ifdef GRIST_HAVE_MPI
// MPI_COMM_WORLD. init() calls MPI_Init (once per process); the destructor
// calls MPI_Finalize. abort() ends every process of the job (MPI_Abort):
// use it when this process fails, since the others would wait for it.
class MpiCommunicator : public Communicator {
 public:
  static std::unique_ptr<MpiCommunicator> init(int* argc, char*** argv);
  ~MpiCommunicator() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* data, size_t n) override;
  void sum(double* data, size_t n) override;
  void max(float* data, size_t n) override;
  void bit_or(uint64_t* data, size_t n) override;
  [[noreturn]] void abort(int status);

 private:
  MpiCommunicator() = default;
  int rank_ = 0, size_ = 1;
};
#endif

}  // namespace grist::sgd
