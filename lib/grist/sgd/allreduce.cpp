#include "grist/sgd/allreduce.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "grist/error.hpp"
#include "grist/sgd/optimizer.hpp"

#ifdef GRIST_HAVE_MPI
#include <mpi.h>
#endif

namespace grist::sgd {

void AllreduceMixer::begin(Model& model) {
  const uint64_t n = model.slots() * model.stride();
  const std::atomic<float>* s = model.state();
  next_mix_ = every_;
  prev_.resize(n);
  for (uint64_t i = 0; i < n; ++i) prev_[i] = ld(s[i]);
}

void AllreduceMixer::block_done(Model& model, uint64_t examples) {
  if (every_ == 0 || examples < next_mix_) return;
  round(model, RoundAt::mid_pass);
  next_mix_ = (examples / every_ + 1) * every_;
}

void AllreduceMixer::end_pass(Model& model, PassReport& pass, TrainReport* first) {
  while (!round(model, RoundAt::pass_end)) {
  }
  double v[5] = {pass.train_loss, pass.train_weight, pass.holdout_loss, pass.holdout_weight,
                 double(pass.examples)};
  comm_.sum(v, 5);
  pass.train_loss = v[0], pass.train_weight = v[1];
  pass.holdout_loss = v[2], pass.holdout_weight = v[3];
  pass.examples = uint64_t(v[4]);
  if (first) {
    // Exact as doubles below 2^53 examples.
    double c[5] = {double(first->examples), double(first->holdout_examples),
                   double(first->features), double(first->skipped.count),
                   double(first->trained_examples)};
    comm_.sum(c, 5);
    first->examples = uint64_t(c[0]), first->holdout_examples = uint64_t(c[1]);
    first->features = uint64_t(c[2]), first->skipped.count = uint64_t(c[3]);
    first->trained_examples = global_pass1_trained_ = uint64_t(c[4]);
  }
  next_mix_ = every_;
}

void AllreduceMixer::end(TrainReport& rep) {
  // trained_examples is global after pass 1 and grows by local counts after.
  double later = double(rep.trained_examples - global_pass1_trained_);
  comm_.sum(&later, 1);
  rep.trained_examples = global_pass1_trained_ + uint64_t(later);
}

bool AllreduceMixer::round(Model& model, RoundAt at) {
  double running = at == RoundAt::pass_end ? 0 : 1;
  comm_.sum(&running, 1);
  mix(model);
  ++rounds_;
  return running == 0;
}

// slots_: the slots some process changed since the last round. Each
// process marks its changed slots in a bitmap, the bitmaps are OR-ed, and
// the values of the union are then reduced packed, in slot order.
void AllreduceMixer::find_changed(const Model& model) {
  const uint64_t n = model.slots();
  const int S = model.stride();
  const std::atomic<float>* s = model.state();
  dirty_.assign((n + 63) / 64, 0);
  for (uint64_t i = 0; i < n; ++i) {
    for (int c = 0; c < S; ++c) {
      if (ld(s[i * S + c]) != prev_[i * S + c]) {
        dirty_[i / 64] |= uint64_t(1) << (i % 64);
        break;
      }
    }
  }
  comm_.bit_or(dirty_.data(), dirty_.size());
  slots_.clear();
  for (uint64_t wi = 0; wi < dirty_.size(); ++wi) {
    for (uint64_t bits = dirty_[wi]; bits; bits &= bits - 1) {
      slots_.push_back(wi * 64 + uint64_t(__builtin_ctzll(bits)));
    }
  }
}

void AllreduceMixer::mix(Model& model) {
  find_changed(model);
  if (slots_.empty()) return;
  const ModelOptions& o = model.options();
  if (o.normalized && o.optimizer != Optimizer::ftrl) mix_scales(model);
  mix_weights(model);
  const int S = model.stride();
  const std::atomic<float>* s = model.state();
  for (uint64_t i : slots_) {
    for (int c = 0; c < S; ++c) prev_[i * S + c] = ld(s[i * S + c]);
  }
}

// The normalisation state (largest |x|) first: it is the maximum over the
// processes, and each process's weight and gradient sum, learnt at its
// own scale, are rescaled to that one before they are mixed (as a
// process rescales them itself when it meets a larger value). The last
// round's gradient sum is rescaled from the last round's scale alike.
void AllreduceMixer::mix_scales(Model& model) {
  const Optimizer opt = model.options().optimizer;
  const int S = model.stride();
  std::atomic<float>* s = model.state();
  const size_t m = slots_.size();
  const int off = opt == Optimizer::sgd ? 1 : 2;
  buf_.resize(m);
  for (size_t k = 0; k < m; ++k) buf_[k] = ld(s[slots_[k] * S + off]);
  comm_.max(buf_.data(), m);
  for (size_t k = 0; k < m; ++k) {
    const uint64_t i = slots_[k];
    const float now = buf_[k], mine = ld(s[i * S + off]), last = prev_[i * S + off];
    if (mine > 0 && now > mine) rescale_slot(opt, s + i * S, mine, now);
    if (opt == Optimizer::adagrad && last > 0 && now > last) {
      const double r = double(last) / now;
      prev_[i * S + 1] = static_cast<float>(prev_[i * S + 1] * r * r);
    }
    st(s[i * S + off], now);
  }
}

// The weights and optimiser state of the changed slots, by optimiser.
void AllreduceMixer::mix_weights(Model& model) {
  const ModelOptions& o = model.options();
  const int S = model.stride();
  const float K = static_cast<float>(comm_.size());
  std::atomic<float>* s = model.state();
  const size_t m = slots_.size();
  auto cur = [&](uint64_t slot, int c) { return ld(s[slot * S + c]); };
  auto old = [&](uint64_t slot, int c) -> float& { return prev_[slot * S + c]; };
  switch (o.optimizer) {
    case Optimizer::adagrad: {
      buf_.resize(3 * m);
      for (size_t k = 0; k < m; ++k) {
        uint64_t i = slots_[k];
        float w = cur(i, 0), dG = std::max(0.f, cur(i, 1) - old(i, 1));
        buf_[k] = dG * w, buf_[m + k] = dG, buf_[2 * m + k] = w;
      }
      comm_.sum(buf_.data(), buf_.size());
      for (size_t k = 0; k < m; ++k) {
        uint64_t i = slots_[k];
        float sd = buf_[m + k];
        st(s[i * S], sd > 0 ? buf_[k] / sd : buf_[2 * m + k] / K);
        st(s[i * S + 1], old(i, 1) + sd);
      }
      break;
    }
    case Optimizer::sgd: {
      buf_.resize(m);
      for (size_t k = 0; k < m; ++k) buf_[k] = cur(slots_[k], 0);
      comm_.sum(buf_.data(), m);
      for (size_t k = 0; k < m; ++k) st(s[slots_[k] * S], buf_[k] / K);
      break;
    }
    case Optimizer::ftrl: {
      buf_.resize(2 * m);
      for (size_t k = 0; k < m; ++k) {
        uint64_t i = slots_[k];
        buf_[k] = cur(i, 1) - old(i, 1);
        buf_[m + k] = cur(i, 2) - old(i, 2);
      }
      comm_.sum(buf_.data(), buf_.size());
      const float lr = float(o.learning_rate), l1 = float(o.l1), l2 = float(o.l2),
                  beta = float(o.ftrl_beta);
      for (size_t k = 0; k < m; ++k) {
        uint64_t i = slots_[k];
        float z = old(i, 1) + buf_[k], nn = old(i, 2) + buf_[m + k];
        // The same closed form as the ftrl step in optimizer.hpp.
        float w = std::fabs(z) <= l1
                      ? 0.f
                      : -(z - std::copysign(l1, z)) / ((beta + std::sqrt(nn)) / lr + l2);
        st(s[i * S], w), st(s[i * S + 1], z), st(s[i * S + 2], nn);
      }
      break;
    }
  }
}

#ifdef GRIST_HAVE_MPI

namespace {
// MPI counts are ints: reduce large arrays in pieces.
constexpr size_t kPiece = size_t(1) << 28;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw Error(std::string("MPI: ") + what + ": " + std::string(msg, len));
  }
}

template <class T>
void allreduce(T* data, size_t n, MPI_Datatype type, MPI_Op op) {
  for (size_t done = 0; done < n; done += kPiece) {
    int count = static_cast<int>(std::min(kPiece, n - done));
    check(MPI_Allreduce(MPI_IN_PLACE, data + done, count, type, op, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
}
}  // namespace

std::unique_ptr<MpiCommunicator> MpiCommunicator::init(int* argc, char*** argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) check(MPI_Init(argc, argv), "MPI_Init");
  // Errors come back as return codes (then grist::Error), not as an abort
  // inside the library with MPI's own message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiCommunicator> c(new MpiCommunicator());
  MPI_Comm_rank(MPI_COMM_WORLD, &c->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &c->size_);
  return c;
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiCommunicator::sum(float* data, size_t n) { allreduce(data, n, MPI_FLOAT, MPI_SUM); }
void MpiCommunicator::sum(double* data, size_t n) { allreduce(data, n, MPI_DOUBLE, MPI_SUM); }
void MpiCommunicator::max(float* data, size_t n) { allreduce(data, n, MPI_FLOAT, MPI_MAX); }
void MpiCommunicator::bit_or(uint64_t* data, size_t n) {
  allreduce(data, n, MPI_UINT64_T, MPI_BOR);
}

void MpiCommunicator::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

#endif

}  // namespace grist::sgd
