// Training: stream examples through the model, one or several passes.
//
//   grist::sgd::Model model(model_options);
//   grist::sgd::TrainOptions train_opts;
//   train_opts.inputs = {"train.svm.zst"};  train_opts.passes = 3;
//   TrainReport rep = grist::sgd::train(model, train_opts, [](const std::string& line) {
//     std::fprintf(stderr, "%s\n", line.c_str());
//   });
//
// Pass 1 reads the inputs in blocks; with several passes it also writes
// each parsed block, zstd-compressed, to an anonymous file in temp_dir
// (gone on every exit path; grist/sgd/example_cache.hpp), and later
// passes read that cache, in block order or, with shuffle, in a seeded
// random order of blocks and of the examples within each block. With
// threads > 1 the blocks are parsed and trained on concurrently against
// the one shared weight vector (Hogwild); with threads == 1 (or
// mini-batches) the result is deterministic. The phases are in train.cpp,
// the learner in learner.hpp, the lines it logs in report.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "grist/record/skipped.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/learner.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/names.hpp"

namespace grist::sgd {

struct PassReport;
struct TrainReport;

// --- distributed training (grist/sgd/allreduce.hpp) ---
// Lets several processes that each train on a share of the data mix their
// models at points every process reaches in the same order. train() calls
// begin() once, block_done() after each block it has trained and
// end_pass() once per pass; the calls may be collective (MPI), so every
// process must run the same number of passes (the held-out loss that
// decides early stopping is summed by end_pass, hence the same everywhere).
class ModelMixer {
 public:
  virtual ~ModelMixer() = default;
  virtual void begin(Model& model) = 0;
  // `examples`: examples trained in this pass so far, by this process.
  virtual void block_done(Model& model, uint64_t examples) = 0;
  // Mixes the models and sums `pass` over the processes; after pass 1
  // (`first` non-null) also sums its example, feature and skip counts.
  virtual void end_pass(Model& model, PassReport& pass, TrainReport* first) = 0;
  // Sums trained_examples over the processes (once, at the end).
  virtual void end(TrainReport& rep) = 0;
};
// --- end distributed training ---

struct TrainOptions {
  std::vector<std::string> inputs;  // empty: stdin
  bool sniff = true;                // take the format from the first line
  int passes = 1;
  uint64_t batch_size = 1;  // 1: SGD; 0: all (full-batch gradient descent)
  bool shuffle = false;
  uint64_t seed = 1;
  uint64_t holdout_every = 0;  // examples on lines N, 2N, ... of each input
  bool holdout_by_default = false;
  // > 0: the word n-grams of a new model whose input turns out to be text
  // or fasttext (given or sniffed), --ngrams not having been given.
  int text_ngrams = 0;  // holdout_every is the default, not asked for (reports)
  int early_stop = 3;          // passes without held-out improvement; 0: never stop early
  bool skip_errors = false;
  int threads = 1;
  std::string temp_dir = "/tmp";
  bool progress_lines = true;  // the doubling lines of progressive loss
  size_t block_size = 1 << 20;
  // Not owned; non-null: the parsers record feature names there (for
  // Model::write_readable). Its bits must be the model's.
  FeatureNames* names = nullptr;
  // Appended to the parser's message for a label it refuses (ParseOptions).
  std::string label_hint;
  // --- distributed training ---
  // This process trains on share `shard` (0-based) of `shards`: the inputs
  // i with i % shards == shard when the number of inputs is a multiple of
  // shards, else the lines n (1-based, in each input) with
  // (n - 1) % shards == shard. Line numbers stay those of the input.
  int shards = 1;
  int shard = 0;
  ModelMixer* mixer = nullptr;  // not owned; null: train alone
  // --- end distributed training ---
};

struct PassReport {
  double train_loss = 0;  // average progressive loss (0/1 error for --oaa)
  double train_weight = 0;
  double holdout_loss = 0;
  double holdout_weight = 0;
  uint64_t examples = 0;
};

struct TrainReport {
  uint64_t examples = 0;          // examples read in pass 1 (held out included)
  uint64_t holdout_examples = 0;  // of them held out
  uint64_t features = 0;          // feature occurrences in pass 1
  uint64_t bytes = 0;             // input bytes (decompressed) read in pass 1
  SkippedLines skipped;           // malformed lines skipped (--on-error skip)
  std::vector<PassReport> passes;
  std::string stop_reason;
  // The pass whose weights the model holds (1-based): the last, or, with
  // held-out examples, the pass of the lowest held-out loss (the model is
  // restored to it when a later pass did worse).
  int model_pass = 0;
  double seconds = 0;
  double train_seconds_pass1 = 0;
  uint64_t trained_examples = 0;  // example updates over all passes
};

// Trains `model` (fresh or loaded with -i). `log` receives the progress and
// pass lines. Throws grist::Error on bad input (FILE:LINE) or on empty input.
// With several passes and held-out examples, the model returned is the one
// of the pass with the lowest held-out loss (TrainReport::model_pass), its
// optimiser state and its examples_trained and passes_trained included:
// byte for byte (with one thread) the model of a run of that many passes.
// The best pass so far is kept in an anonymous file in temp_dir (one
// sequential write of the model per improving pass that is not the last).
TrainReport train(Model& model, const TrainOptions& opts,
                  const std::function<void(const std::string&)>& log);

}  // namespace grist::sgd
