// A linear model over 2^b hashed features, its optimiser state, and its
// self-describing file format.
//
// Weights live in one array of std::atomic<float>, read and written with
// memory_order_relaxed: several threads may update it at once (Hogwild)
// without a data race in the C++ sense, and on x86/ARM such accesses are
// plain loads and stores. With one thread, training is deterministic.
//
// Slot layout: feature index i (0 .. 2^b-1, the bias is i = 2^b) and class k
// (0 .. K-1; K = 1 unless --oaa) own slot s = i*K + k; slot s keeps `stride`
// floats: [w, max |x|] for sgd, [w, sum of squared gradients, max |x|] for adagrad,
// [w, z, n] for ftrl.
//
// Model file (all integers little-endian):
//   "GRISTSGD"  u32 version (1)  u32 H  H bytes of "key=value\n" header
//   u64 slots  u8 encoding (WeightEncoding: 0 dense f32[slots], 1 sparse
//              (u32 slot, f32 w)*, 2 sparse (u64 slot, f32 w)*, used when
//              slots > 2^32)
//   u64 raw bytes  u64 zstd bytes  zstd(weights)
//   u64 raw bytes  u64 zstd bytes  zstd(optimiser state f32[slots*(stride-1)]) (0 0: none)
//   u64 XXH3_64bits of everything before it
// The header holds every option that shapes predictions (bits, loss, oaa,
// class base, bias, input format, ngrams, quadratic pairs, hash) and those
// of the optimiser, so that -i continues training where it stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/sink.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/loss.hpp"
#include "grist/sgd/names.hpp"

namespace grist::sgd {

enum class Optimizer { sgd, adagrad, ftrl };
const char* optimizer_name(Optimizer o);
std::optional<Optimizer> parse_optimizer_name(std::string_view s);

// Version 1: no class names. Version 2: the header may hold "labels="
// (ModelOptions::class_names); a model without names is still written as
// version 1, byte for byte as before, and an older grist refuses a model
// with names rather than print class numbers for them.
constexpr uint32_t kModelVersion = 2;
// How the model file holds the weights: every weight, or the nonzero ones
// with their slot numbers (when that is smaller).
enum class WeightEncoding : uint8_t { dense = 0, sparse32 = 1, sparse64 = 2 };
// The most floats (weights and optimiser state) a model may hold: 64 GiB.
constexpr uint64_t kMaxModelFloats = uint64_t(1) << 34;
constexpr const char* kHashName = "xxh3-64/numeric-names/v1";

// What a Model holds besides its weights.
enum class ModelState {
  weights_only,    // enough to predict
  with_optimizer,  // and the optimiser's state: enough to train on
};

struct ModelOptions {
  // Shape predictions.
  int bits = 20;
  Loss loss = Loss::logistic;
  double quantile_tau = 0.5;
  int classes = 0;  // --oaa K; 0: one score
  int class_base = 1;
  // The classes' names as the training data spells them, in class order:
  // with classes == K > 0, K names (class k is class_names[k]); for a
  // binary loss (logistic, hinge) without --oaa, two, [negative, positive]
  // ("-1" "1", "0" "1", or two names). Empty: the numbers of a model
  // without names (-1/+1 binary labels; classes class_base..). A name is
  // not empty and holds no tab, newline or carriage return.
  std::vector<std::string> class_names;
  bool bias = true;
  Format format = Format::svmlight;
  int ngrams = 1;
  std::vector<std::string> quadratic;
  // Shape training.
  Optimizer optimizer = Optimizer::adagrad;
  bool normalized = true;
  double learning_rate = 0.85;  // default_learning_rate(adagrad)
  double power_t = 0.5;
  double initial_t = 0;
  double l1 = 0, l2 = 0;
  double ftrl_beta = 1;
  // History.
  uint64_t examples_trained = 0;
  uint64_t passes_trained = 0;

  int k() const { return classes > 0 ? classes : 1; }
  // The name of class k (0-based; binary: 0 negative, 1 positive) as the
  // user wrote it: class_names[k], or without names the number
  // (k + class_base with --oaa; "-1" or "1" for binary).
  std::string class_name(int k) const;
  int stride() const { return optimizer == Optimizer::sgd ? 2 : 3; }
  uint64_t slots() const { return ((uint64_t(1) << bits) + 1) * k(); }
  // Floats of a model with its optimiser state; at most kMaxModelFloats.
  uint64_t floats() const { return slots() * stride(); }
  ParseOptions parse_options() const;
};

class Model {
 public:
  // A zero model. Throws grist::Error for -b outside 1..30 or more than
  // kMaxModelFloats.
  explicit Model(const ModelOptions& o, ModelState state = ModelState::with_optimizer);

  const ModelOptions& options() const { return o_; }
  ModelOptions& options() { return o_; }
  int k() const { return k_; }
  int stride() const { return stride_; }
  uint64_t slots() const { return slots_; }
  uint32_t bias_index() const { return uint32_t(1) << o_.bits; }

  std::atomic<float>* state() { return state_.get(); }
  const std::atomic<float>* state() const { return state_.get(); }
  float weight(uint64_t slot) const {
    return state_[slot * stride_].load(std::memory_order_relaxed);
  }
  // w.x (+ bias) for class k of the features [idx, idx+n).
  double score(const uint32_t* idx, const float* val, size_t n, int k) const {
    double s = o_.bias ? weight(uint64_t(bias_index()) * k_ + k) : 0.0;
    for (size_t i = 0; i < n; ++i) s += double(weight(uint64_t(idx[i]) * k_ + k)) * val[i];
    return s;
  }

  // Throws grist::Error naming the first weight or optimiser state value
  // that is not finite (NaN or infinite: training diverged): the feature's
  // name from `names` when it has one, its index always, its class with
  // --oaa, or "the bias".
  void check_finite(const FeatureNames* names = nullptr) const;

  // Writes the model file atomically (Sink). Throws grist::Error, also for a
  // model that is not finite (check_finite): such a model is never written.
  // Streams: costs no copy of the model.
  void save(const std::string& path) const;
  // Writes the model file's bytes to `out` (not committed).
  void save(Sink& out) const;
  // Loads a model file; refuses a foreign, truncated, corrupt or newer one,
  // or one holding a value that is not finite, with grist::Error naming the
  // file. Reads a file twice (checks it whole,
  // checksum included, before allocating the model, then fills the model)
  // and costs no copy of it; stdin ("-") is read into memory once.
  static std::unique_ptr<Model> load(const std::string& path,
                                     ModelState state = ModelState::with_optimizer);
  // Parses model bytes (tests).
  static std::unique_ptr<Model> from_bytes(const std::string& bytes, const std::string& name,
                                           ModelState state = ModelState::with_optimizer);
  // The file's bytes, without the finiteness check (tests write the
  // corrupt files an older grist could have written).
  std::string to_bytes() const;

  // The text dump: "# key=value" header lines, then "INDEX\tWEIGHT" (with
  // --oaa "INDEX\tCLASS\tWEIGHT") for each nonzero weight (CLASS: the name of a
  // model with class names, else the number); the bias is the
  // index "bias". With `names` (of the model's -b), every line also ends in
  // "\tNAME": the first feature name recorded for the index ("bias" for the
  // bias, empty when none was recorded), and a "# columns=" line says so.
  // Refuses a model that is not finite, as save() does.
  void write_readable(Sink& out, const FeatureNames* names = nullptr) const;

 private:
  void write_bytes(Sink& out) const;

  ModelOptions o_;
  int k_, stride_;
  uint64_t slots_;
  std::unique_ptr<std::atomic<float>[]> state_;
};

// The header text of the options ("key=value\n" lines).
std::string options_header(const ModelOptions& o);
// Its mirror: the options of a header's "key=value" lines, every value
// checked; throws grist::Error naming `name` (the file) for a missing,
// unknown or out-of-range value.
ModelOptions options_from_header(std::string_view header, const std::string& name);

// The normaliser (sgd and adagrad unless --no-normalize) keeps, per slot,
// the largest |x| seen, N, and steps in units of x/N. When N grows from
// `old` (> 0) to `now`, the weight learnt at the old scale becomes the
// weight it would be had `now` been the scale from the start (VW's
// normalised update); without it the first small value of a feature leaves
// a weight of about 1/old that later, larger values multiply. sgd's step
// on w is proportional to x/N^2, so each past step, hence w, scales by
// (old/now)^2. adagrad's is x/(N sqrt(G)) with G, the sum of squared
// gradients, in units of 1/N^2: w scales by old/now and G by (old/now)^2
// (VW keeps G unnormalised, which comes to the same). ftrl has no
// normaliser. The caller stores `now` as the slot's N.
void rescale_slot(Optimizer o, std::atomic<float>* slot, float old, float now);

// Whether a model trained on `model` input reads `input`: the same format,
// or VW input for an svmlight model: svmlight's "INDEX:VALUE" is VW's
// "| INDEX:VALUE" (a numeric name in the unnamed namespace hashes to its
// value), so every svmlight example has a VW form that scores the same.
// Not the other way round (a VW model's namespaces have no svmlight form),
// and not text: its tokens go through grist's tokenizer and its n-grams
// have no VW form, so a VW line would not score as the text it stands for.
bool format_reads_as(Format model, Format input);

}  // namespace grist::sgd
