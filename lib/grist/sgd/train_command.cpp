#include "grist/sgd/train_command.hpp"

#include <algorithm>
#include <cstdlib>

#include "grist/error.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/record/record.hpp"
#include "grist/sgd/labels.hpp"
#include "grist/sgd/names.hpp"
#ifdef GRIST_HAVE_MPI  // distributed training
#include "grist/sgd/allreduce.hpp"
#endif

namespace grist::sgd {

double default_learning_rate(Optimizer o) {
  switch (o) {
    case Optimizer::sgd: return 0.5;
    case Optimizer::adagrad: return 0.85;
    case Optimizer::ftrl: return 0.25;
  }
  return 0.85;
}

namespace {

bool reads_stdin_of(const TrainArgs& args) {
  const auto& in = args.inputs;
  return in.empty() || std::find(in.begin(), in.end(), "-") != in.end();
}

// The options that shape the model and the input (CLI11 validates the
// names; a library caller may not have).
void resolve_model(const TrainArgs& args, ModelOptions& m) {
  auto loss = parse_loss_name(args.loss);
  auto opt = parse_optimizer_name(args.optimizer);
  if (!loss) throw UsageError("--loss: unknown loss '" + args.loss + "'");
  if (!opt) throw UsageError("--optimizer: unknown optimizer '" + args.optimizer + "'");
  m.loss = *loss;
  m.optimizer = *opt;
  m.bias = !args.no_bias;
  m.normalized = !args.no_normalize;
  m.learning_rate = args.learning_rate > 0 ? args.learning_rate : default_learning_rate(m.optimizer);
  if (!args.format.empty()) {
    auto f = parse_format_name(args.format);
    if (!f) throw UsageError("--format: unknown format '" + args.format + "'");
    m.format = *f;
  }
  if (m.classes > 0 && !args.was_given("--loss")) m.loss = Loss::logistic;
  if (args.was_given("--quantile-tau") && m.loss != Loss::quantile) {
    throw UsageError("--quantile-tau needs --loss quantile");
  }
  if (args.was_given("--class-base") && m.classes == 0) throw UsageError("--class-base needs --oaa");
  if (args.was_given("--classes")) {
    ClassSet cs = parse_class_list(args.classes);
    if (!binary_loss(m.loss) && args.was_given("--loss")) {
      throw UsageError("--classes names the classes of --loss logistic or hinge, not --loss " +
                       args.loss);
    }
    if (args.was_given("--class-base")) {
      throw UsageError("--class-base numbers the classes, --classes names them: give one");
    }
    if (m.classes > 0 && size_t(m.classes) != cs.names.size()) {
      throw UsageError("--oaa " + std::to_string(m.classes) + " differs from the " +
                       std::to_string(cs.names.size()) + " classes of --classes");
    }
    if (m.classes == 0) m.classes = cs.classes;
    m.class_names = std::move(cs.names);
  }
  check_quadratic(m.quadratic);
  if (!m.quadratic.empty() && !args.format.empty() && m.format != Format::vw) {
    throw UsageError("--quadratic crosses VW namespaces: it needs --format vw, not --format " +
                     args.format);
  }
  if (args.was_given("--ngrams") && m.ngrams > 1 && !args.format.empty() &&
      m.format != Format::text && m.format != Format::fasttext) {
    throw UsageError("--ngrams makes word n-grams of text input: it needs --format text or "
                     "fasttext, not --format " + args.format);
  }
}

// The options of the run itself.
void resolve_train(const TrainArgs& args, TrainOptions& t) {
  if (args.was_given("--holdout-every") && t.holdout_every == 1) {
    throw UsageError("--holdout-every 1 holds out every line, leaving nothing to train on "
                     "(give 2 or more)");
  }
  if (!args.was_given("--ngrams") && args.initial_model.empty()) {
    t.text_ngrams = kDefaultTextNgrams;
  }
  if (!args.was_given("--holdout-every") && t.passes > 1) {
    t.holdout_every = kDefaultHoldoutEvery;
    t.holdout_by_default = true;
  }
  // Stopping early needs a held-out loss; asking for both is a mistake to
  // be told of, not a run that quietly trains every pass.
  if (args.was_given("--early-stop") && args.was_given("--holdout-every") &&
      t.holdout_every == 0) {
    throw UsageError("--early-stop needs held-out examples, and --holdout-every 0 holds out none");
  }
  if (args.batch == "all") {
    t.batch_size = 0;
  } else {
    auto v = parse_u64(args.batch);
    if (!v || *v == 0) throw UsageError("--batch-size: expected a positive number or 'all'");
    t.batch_size = *v;
  }
  t.inputs = args.inputs;
  t.sniff = args.format.empty() && args.initial_model.empty();
  t.skip_errors = args.on_error == OnError::skip;
  t.threads = args.threads;
  t.temp_dir = args.temp_dir;
  t.progress_lines = !args.quiet;
  t.label_hint = !args.initial_model.empty()
                     ? "; the model given with -i fixes its classes"
                 : args.was_given("--classes")
                     ? "; add it to --classes"
                 : args.format.empty() && reads_stdin_of(args) && !stdin_is_regular_file()
                     ? "; for classes by name from a pipe give --classes NAME,NAME,..., or "
                       "--format text or fasttext (standard input is then copied to -T to "
                       "find its classes)"
                     : "; for classes give --oaa K (numbers 1..K) or --classes NAME,NAME,... "
                       "(text and fasttext input without --oaa find theirs)";
  // --- distributed training ---
  if (args.was_given("--allreduce-every") && !args.allreduce) {
    throw UsageError("--allreduce-every needs --allreduce");
  }
  if (args.allreduce) {
    if (reads_stdin_of(args)) throw UsageError("--allreduce reads files, not stdin: give FILE arguments");
  }
  // --- end distributed training ---
}

}  // namespace

TrainSetup resolve(const TrainArgs& args) {
  TrainSetup s{args.model, args.train};
  resolve_model(args, s.model);
  resolve_train(args, s.train);
  return s;
}

std::vector<std::string> train_warnings(const TrainArgs& args, const TrainSetup& setup) {
  std::vector<std::string> w;
  if (args.final_model.empty() && args.readable_model.empty()) {
    w.push_back("no -f (or --readable-model): the model will not be saved");
  }
  if (setup.train.shuffle && setup.train.passes == 1) {
    w.push_back("--shuffle shuffles the cached examples of passes 2 and later: with one pass it "
                "does nothing (pass 1 reads the input in order)");
  }
  if (args.was_given("--early-stop") && setup.train.passes == 1) {
    w.push_back("--early-stop compares the passes' held-out losses: with one pass it does nothing");
  }
  return w;
}

std::unique_ptr<Model> initial_model(const TrainArgs& args, const TrainSetup& setup) {
  const ModelOptions& want = setup.model;
  if (args.initial_model.empty()) {
    if (want.floats() > kMaxModelFloats) {
      throw UsageError("-b " + std::to_string(want.bits) +
                       (want.classes ? " with --oaa " + std::to_string(want.classes) : "") +
                       " makes a model of " + format_bytes(want.floats() * 4) +
                       " (2^b weights per class, with the optimizer's state); the most is " +
                       format_bytes(kMaxModelFloats * 4) + ": lower -b or --oaa");
    }
    return std::make_unique<Model>(want, ModelState::with_optimizer);
  }
  for (const char* o : {"--loss", "--quantile-tau", "--oaa", "--class-base", "--bits", "--no-bias",
                        "--quadratic", "--ngrams", "--classes"}) {
    if (args.was_given(o)) throw UsageError(std::string(o) + " is fixed by the model given with -i");
  }
  auto model = Model::load(args.initial_model, ModelState::with_optimizer);
  ModelOptions& m = model->options();
  if (args.was_given("--optimizer") && m.optimizer != want.optimizer) {
    throw UsageError("--optimizer " + args.optimizer + " differs from the model's (" +
                     optimizer_name(m.optimizer) + ")");
  }
  m.normalized = want.normalized;
  if (args.learning_rate > 0) m.learning_rate = args.learning_rate;
  m.power_t = want.power_t, m.initial_t = want.initial_t, m.l1 = want.l1, m.l2 = want.l2;
  m.ftrl_beta = want.ftrl_beta;
  // The model reads the format it was trained on (see grist-predict);
  // VW input makes a model trained on svmlight a VW model.
  if (!args.format.empty() && want.format != m.format) {
    if (!format_reads_as(m.format, want.format)) {
      throw UsageError("--format " + args.format + ": the model given with -i was trained on " +
                       format_name(m.format) + " input, and reads only that" +
                       (m.format == Format::svmlight ? " (or vw)" : ""));
    }
    m.format = want.format;
  }
  return model;
}

void discover_classes(const TrainArgs& args, TrainSetup& setup) {
  ModelOptions& m = setup.model;
  if (!args.initial_model.empty() || m.classes > 0 || !m.class_names.empty() ||
      !binary_loss(m.loss)) {
    return;
  }
  std::optional<Format> format;
  if (!args.format.empty()) {
    if (m.format != Format::text && m.format != Format::fasttext) return;
    format = m.format;
  }
  bool reads_stdin = reads_stdin_of(args);
  // A pipe is read once. Copying it whole to -T only to find that it holds
  // svmlight or VW would cost every piped run its input's size in disk and
  // time before the first example; only a format given as text or fasttext
  // asks for the copy. Otherwise named labels stop at the first one, with
  // label_hint saying so (resolve_train).
  if (reads_stdin && !format && !stdin_is_regular_file()) return;
  const auto& in = args.inputs;
  uint64_t stdin_at = reads_stdin ? make_stdin_rereadable(args.temp_dir) : 0;
  auto scan = scan_labels(in, format);
  if (reads_stdin) rewind_stdin(stdin_at);
  if (!scan || !needs_names(scan->labels)) return;
  ClassSet cs = order_classes(scan->labels, scan->multi);
  m.classes = cs.classes;
  m.class_names = std::move(cs.names);
}

// --- distributed training ---
// Under --allreduce (MPI builds): this rank's share, the mixer, and its
// share of the CPUs unless -j says; else one process.
class Distributed {
 public:
  Distributed(const TrainArgs& args, TrainOptions& train) {
#ifdef GRIST_HAVE_MPI
    if (!args.allreduce) return;
    comm_ = MpiCommunicator::init(nullptr, nullptr);
    mixer_ = std::make_unique<AllreduceMixer>(*comm_, args.allreduce_every);
    train.shards = comm_->size();
    train.shard = comm_->rank();
    train.mixer = mixer_.get();
    rank0_ = comm_->rank() == 0;
    if (!args.was_given("--threads")) {
      const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
      int per_node = local ? std::atoi(local) : comm_->size();
      train.threads = std::max(1, args.threads / std::max(1, per_node));
    }
    if (!rank0_) train.progress_lines = false;
#else
    (void)args, (void)train;
#endif
  }
  bool rank0() const { return rank0_; }
  void abort_if_failed(int status) {
#ifdef GRIST_HAVE_MPI
    if (status != 0 && comm_ && comm_->size() > 1) comm_->abort(status);
#else
    (void)status;
#endif
  }

 private:
  bool rank0_ = true;
#ifdef GRIST_HAVE_MPI
  std::unique_ptr<MpiCommunicator> comm_;
  std::unique_ptr<AllreduceMixer> mixer_;
#endif
};
// --- end distributed training ---

TrainCommand::TrainCommand(TrainArgs args) : args_(std::move(args)) {}
TrainCommand::~TrainCommand() = default;

bool TrainCommand::rank0() const { return !dist_ || dist_->rank0(); }

void TrainCommand::abort_if_failed(int status) {
  if (dist_) dist_->abort_if_failed(status);
}

void TrainCommand::check_files() const {
  RunFiles files;
  files.add_inputs("FILE", args_.inputs);
  if (!args_.initial_model.empty()) files.add_input("-i", args_.initial_model);
  if (!args_.final_model.empty()) files.add_output("-f", args_.final_model);
  if (!args_.readable_model.empty()) files.add_output("--readable-model", args_.readable_model);
  // The example cache of several passes is the only spill.
  if (setup_.train.passes > 1 || args_.was_given("--temp-dir")) files.temp_dir = args_.temp_dir;
  check_run_files(files);
}

TrainReport TrainCommand::run(const LogLine& log, const LogLine& warn) {
  setup_ = resolve(args_);
  check_files();
  discover_classes(args_, setup_);
  std::vector<std::string> warnings = train_warnings(args_, setup_);
  std::unique_ptr<Model> model = initial_model(args_, setup_);
  dist_ = std::make_unique<Distributed>(args_, setup_.train);
  LogLine rank0_log = [&](const std::string& line) {
    if (!args_.quiet && rank0()) log(line);
  };
  if (warn && rank0()) {
    for (const auto& w : warnings) warn(w);
  }
  // Outputs are created (as temporaries) before training, so that a bad
  // path fails before any work, and committed together at the end.
  std::unique_ptr<Sink> model_out, readable_out;
  if (rank0() && !args_.final_model.empty()) model_out = Sink::open(args_.final_model, SinkOptions{});
  if (rank0() && !args_.readable_model.empty()) {
    readable_out = Sink::open(args_.readable_model, SinkOptions{});
  }
  std::unique_ptr<FeatureNames> names;
  if (readable_out) {
    names = std::make_unique<FeatureNames>(model->options().bits);
    setup_.train.names = names.get();
  }
  TrainReport rep = train(*model, setup_.train, rank0_log);
  trained_ = model->options();
  if (!rank0()) return rep;  // distributed training: rank 0 writes and reports
  // A diverged model is refused before anything is written, naming the
  // feature (by its name when --readable-model records names).
  model->check_finite(names.get());
  if (model_out) model->save(*model_out);
  if (readable_out) model->write_readable(*readable_out, names.get());
  if (model_out) model_out->commit();
  if (readable_out) readable_out->commit();
  return rep;
}

}  // namespace grist::sgd
