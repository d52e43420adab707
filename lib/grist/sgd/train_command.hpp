// grist-train-sgd's policy, between its command line and train(): the
// optimiser's default learning rate, which options conflict, what -i fixes
// and what it lets change, the checks on files before any work, the
// distributed set-up, and the writing of the model. The program declares
// its options into a TrainArgs and calls TrainCommand::run.
//
//   TrainArgs args;  ...  args.given = {"--loss", ...};   // from the CLI
//   TrainCommand cmd(args);
//   TrainReport rep = cmd.run(log);     // throws UsageError or Error
//   if (cmd.rank0()) for (auto& l : report_lines(rep, cmd.options(), cmd.model_options())) ...
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "grist/record/skipped.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/report.hpp"
#include "grist/sgd/train.hpp"

namespace grist::sgd {

// The command line as given, before defaults and checks.
struct TrainArgs {
  std::vector<std::string> inputs;  // empty: stdin
  std::string final_model, initial_model, readable_model;
  std::string format;  // empty: sniffed, or -i's
  std::string loss = "logistic", optimizer = "adagrad", batch = "1";
  std::string classes;  // --classes NAME,NAME,...: as given
  OnError on_error = OnError::fail;
  // The numeric model options as given: quantile_tau, classes, class_base,
  // bits, quadratic, ngrams, power_t, initial_t, l1, l2, ftrl_beta.
  ModelOptions model;
  // As given: passes, shuffle, seed, holdout_every, early_stop.
  TrainOptions train;
  double learning_rate = 0;  // 0: the optimiser's default
  bool no_bias = false, no_normalize = false;
  bool allreduce = false;  // distributed training (MPI builds)
  uint64_t allreduce_every = 0;
  // The common options, resolved.
  int threads = 1;
  std::string temp_dir = "/tmp";
  bool quiet = false;
  // The options on the command line, by their long names ("--loss"):
  // those of kConsultedOptions that were given.
  std::set<std::string> given;

  bool was_given(const std::string& name) const { return given.count(name) > 0; }
};

// The options whose presence (not only value) matters: given or not.
inline constexpr const char* kConsultedOptions[] = {
    "--loss",    "--quantile-tau", "--oaa",           "--class-base",
    "--bits",    "--no-bias",      "--quadratic",     "--ngrams",
    "--optimizer", "--holdout-every", "--allreduce-every", "--threads",
    "--temp-dir", "--early-stop", "--classes"};

// adagrad 0.85, sgd 0.5, ftrl 0.25. adagrad's and ftrl's do best across
// bench/sweep.sh's tasks (numeric, tf-idf, pixels, words; README); sgd's
// best is higher there (8 to 64) but diverges with squared loss.
double default_learning_rate(Optimizer o);

// The held-out share when --passes > 1 and --holdout-every is not given:
// lines 10, 20, ... (as Vowpal Wabbit holds out by default).
inline constexpr uint64_t kDefaultHoldoutEvery = 10;

// The word n-grams of text and fasttext input when --ngrams is not given:
// bigrams, which bench/textclass.sh's task needs to reach its accuracy
// (0.931 against 0.923 with words alone, at the default rate).
inline constexpr int kDefaultTextNgrams = 2;

// What the arguments come to: the options of a new model (or, with -i,
// those the run may change), and the training options but for the
// distributed ones: with several passes, every kDefaultHoldoutEvery-th
// line held out unless --holdout-every says. Throws UsageError for options
// that conflict (--early-stop with --holdout-every 0 among them).

struct TrainSetup {
  ModelOptions model;
  TrainOptions train;
};
TrainSetup resolve(const TrainArgs& args);

// The warnings the arguments deserve, each a sentence without the
// program's name: nothing will be saved (neither -f nor
// --readable-model), --shuffle or --early-stop with one pass.
std::vector<std::string> train_warnings(const TrainArgs& args, const TrainSetup& setup);

// The model to train: a new one, or -i's with the options it lets a run
// change (normaliser, rates, regularisers, and vw input for an svmlight
// model) taken from `setup`. Throws UsageError for an option -i fixes, a
// differing --optimizer or format, or a new model beyond kMaxModelFloats.
std::unique_ptr<Model> initial_model(const TrainArgs& args, const TrainSetup& setup);

// Without -i, --oaa or --classes, with logistic or hinge loss and text or
// fasttext input (given or sniffed): reads the inputs' labels first
// (scan_labels; stdin is spooled to -T to be read twice) and, unless they
// are all -1, 0 or 1, makes `setup.model` a model of the classes found
// (order_classes). Throws UsageError (one class, a non-integer number).
void discover_classes(const TrainArgs& args, TrainSetup& setup);

class Distributed;  // MPI processes (--allreduce), defined in train_command.cpp

class TrainCommand {
 public:
  explicit TrainCommand(TrainArgs args);
  ~TrainCommand();

  // Resolves the arguments, checks the files, makes or loads the model,
  // joins the distributed job (--allreduce), trains, and (rank 0) writes
  // the model and the readable model, all or nothing. `log` gets the
  // progress lines (on rank 0, unless quiet); `warn`, if set, the
  // train_warnings (on rank 0) once the arguments are checked, before
  // training. Throws UsageError or Error.
  TrainReport run(const LogLine& log, const LogLine& warn = {});

  bool rank0() const;  // writes and reports (distributed training)
  const TrainOptions& options() const { return setup_.train; }
  // The options of the model trained (after run()).
  const ModelOptions& model_options() const { return trained_; }
  // With status non-zero in a job of several processes, ends them all
  // (the others would wait for this one); else returns.
  void abort_if_failed(int status);

 private:
  void check_files() const;

  TrainArgs args_;
  TrainSetup setup_;
  ModelOptions trained_;
  std::unique_ptr<Distributed> dist_;
};

}  // namespace grist::sgd
