// grist-train-sgd: sparse linear models by stochastic gradient descent.
#include <algorithm>
#include <cstdio>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/record/record.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/train.hpp"
#ifdef GRIST_HAVE_MPI  // distributed training
#include <cstdlib>

#include "grist/sgd/allreduce.hpp"
#endif

using namespace grist;
using namespace grist::sgd;

int main(int argc, char** argv) {
  cli::CommonSet set;
  set.output = false;
  set.memory = false;
  set.compression = false;
  set.memory_hint =
      "the model takes 12 bytes per weight (8 with --optimizer sgd), 2^b weights per --oaa "
      "class: lower -b or --oaa; one long line needs 2 to 5 times its length";
  cli::Tool tool("grist-train-sgd",
                 "Train a sparse linear model by SGD",
                 set);
  auto& app = tool.app();
  std::vector<std::string> inputs;
  std::string final_model, initial_model, readable, format, loss = "logistic", optimizer = "adagrad",
                                                        batch = "1";
  grist::OnError on_error = grist::OnError::fail;
  ModelOptions mo;
  TrainOptions to;
  double lr = 0;
  bool no_bias = false, no_norm = false;
  app.add_option("FILE", inputs, "Example files (default: stdin)")
      ->type_name("FILE");
  app.add_option("-f,--final-model", final_model, "Write the model to FILE")->type_name("FILE");
  app.add_option("-i,--initial-model", initial_model, "Continue training the model in FILE")->type_name("FILE");
  app.add_option("--readable-model", readable, "Also write the weights as text, with feature names")
      ->type_name("FILE");
  app.add_option("--format", format, "svmlight, vw or text (default: sniffed, or -i's)")
      ->type_name("FMT")->check(CLI::IsMember({"svmlight", "vw", "text"}));
  auto* o_loss = app.add_option("--loss", loss, "Loss: logistic (default), squared, hinge, quantile")
      ->type_name("LOSS")->check(CLI::IsMember({"logistic", "squared", "hinge", "quantile"}));
  auto* o_tau = cli::add_number(app, "--quantile-tau", mo.quantile_tau, "Quantile of --loss quantile (default 0.5)",
                                {.min = 0, .max = 1, .min_open = true, .max_open = true})
      ->type_name("TAU");
  auto* o_oaa = cli::add_number(app, "--oaa", mo.classes, "One against all, K classes (labels 1..K)",
                                {.min = 2, .max = 100000})
      ->type_name("K");
  auto* o_base = cli::add_number(app, "--class-base", mo.class_base, "First --oaa class label: 0 or 1 (default 1)",
                                 {.min = 0, .max = 1})
      ->type_name("N");
  auto* o_bits = cli::add_number(app, "-b,--bits", mo.bits, "Hash into 2^N weights (default 20)",
                                 {.min = 1, .max = 30})
      ->type_name("N");
  auto* o_nobias = app.add_flag("--no-bias", no_bias, "Learn no bias term");
  // One pair per --quadratic (repeat it for more), so that a file name
  // after it is not taken for a second pair.
  auto* o_quad = app.add_option("--quadratic", mo.quadratic,
                                "Cross VW namespaces (first letters): ab, a: or ::")
      ->type_name("AB")->allow_extra_args(false);
  auto* o_ngrams = cli::add_number(app, "--ngrams", mo.ngrams, "Text: word n-grams up to N (default 1)",
                                   {.min = 1, .max = 8})
      ->type_name("N");
  auto* o_opt = app.add_option("--optimizer", optimizer, "sgd, adagrad (default) or ftrl")
      ->type_name("NAME")->check(CLI::IsMember({"sgd", "adagrad", "ftrl"}));
  app.add_flag("--no-normalize", no_norm, "Do not scale updates by feature ranges");
  cli::add_number(app, "-l,--learning-rate", lr, "Rate (default: adagrad 4, sgd 0.5, ftrl 0.1)",
                  {.min = 0, .min_open = true})
      ->type_name("RATE");
  cli::add_number(app, "--power-t", mo.power_t, "sgd: rate * (initial_t + t)^-P (default 0.5)",
                  {.min = 0, .max = 10})
      ->type_name("P");
  cli::add_number(app, "--initial-t", mo.initial_t, "sgd: initial t of the rate schedule (default 0)")
      ->type_name("T");
  cli::add_number(app, "--l1", mo.l1, "L1 regularisation (default 0)")->type_name("X");
  cli::add_number(app, "--l2", mo.l2, "L2 regularisation (default 0)")->type_name("X");
  cli::add_number(app, "--ftrl-beta", mo.ftrl_beta, "ftrl: beta (default 1)")->type_name("X");
  auto* o_batch = app.add_option("--batch-size", batch, "Examples per update, or all (default 1)")
      ->type_name("N|all");
  o_batch->check(cli::value_validator(o_batch->get_name(), "count-or-all", "0", "",
                                      "a whole number, 1 or more, or 'all'",
                                      [](const std::string& v) {
                                        auto n = parse_u64(v);
                                        return v == "all" || (n && *n > 0);
                                      }));
  cli::add_number(app, "--passes", to.passes, "Passes over the data (default 1)",
                  {.min = 1, .max = 1000000})
      ->type_name("N");
  app.add_flag("--shuffle", to.shuffle, "Shuffle cached examples between passes");
  cli::add_number(app, "--seed", to.seed, "Seed of --shuffle (default 1)")->type_name("N");
  auto* o_holdout = cli::add_number(app, "--holdout-every", to.holdout_every,
                  "Hold out lines N, 2N, ... of each input")
      ->type_name("N");
  cli::add_number(app, "--early-stop", to.early_stop,
                  "Stop after K passes without held-out gain (3)")
      ->type_name("K");
  grist::cli::add_on_error(app, on_error, "Bad example: fail (default) or skip");
  // --- distributed training: only in builds with MPI ---
#ifdef GRIST_HAVE_MPI
  bool allreduce = false;
  uint64_t allreduce_every = 0;
  app.add_flag("--allreduce", allreduce,
               "Under mpirun: train on a share, average the models");
  auto* o_every = cli::add_number(app, "--allreduce-every", allreduce_every,
                                  "--allreduce: also average every N examples", {.min = 1})
                      ->type_name("N");
  std::unique_ptr<MpiCommunicator> comm;
  std::unique_ptr<AllreduceMixer> mixer;
#endif
  // --- end distributed training ---
  auto& man = tool.man();
  man.synopsis = "[OPTION]... [FILE]...";
  man.description =
      "grist-train-sgd streams labelled examples through a linear model over 2^b hashed "
      "features and writes the model (-f). Inputs are svmlight/libsvm (LABEL [qid:N] "
      "INDEX:VALUE ...), Vowpal Wabbit text (LABEL [IMPORTANCE] ['TAG]|NS FEATURE[:VALUE] ...) or "
      "LABEL<TAB>TEXT, tokenized like grist-tokenize, with word n-grams (--ngrams). Labels are "
      "-1/+1 or 0/1 for logistic and hinge loss, numbers for squared and quantile loss, class "
      "ids with --oaa.\n\n"
      "Hashing: a namespace NS has seed XXH3_64(NS, 0), the unnamed one 0. A feature name of "
      "decimal digits hashes to its value plus the seed, any other name to XXH3_64(NAME, seed); "
      "the weight index is the low b bits. So svmlight index i is weight i mod 2^b, the same "
      "as VW '| i', and text tokens hash as VW features of the unnamed namespace. An n-gram "
      "hashes as its words joined by one space; a quadratic feature as (a * 0x100000001b3) "
      "XOR b. The bias is a separate weight.\n\n"
      "Updates are per-coordinate AdaGrad normalised by each feature's largest |value| (like "
      "VW's default) unless --optimizer sgd or ftrl. When a feature's |value| grows past its "
      "largest so far, its weight is first rescaled to the new range, by old/new with AdaGrad "
      "and (old/new)^2 with sgd (VW's normalised update), so that a feature whose first values "
      "are small does not keep a huge weight; |values| below 1.08e-19 count as that much. ftrl "
      "and --no-normalize take the values as they come. A model in which training made a "
      "weight infinite or NaN (diverged: too high a --learning-rate, squared loss on large "
      "values) is never written: exit 1 naming the feature (its name with --readable-model, "
      "else its index). Progressive validation loss (each example "
      "scored before it is learnt) is printed at examples 1, 2, 4, 8, ...; with --holdout-every "
      "N, examples on lines N, 2N, ... of each input are never trained on and their loss is "
      "shown after each pass (computed during the pass); --early-stop ends training when it "
      "stops improving, and the summary says so. Several passes read a zstd cache of parsed "
      "examples in -T.\n\n"
      "Reproducibility: with -j1, and with any --batch-size other than 1 (mini-batches train "
      "on one thread), the same inputs and options give the same model file, byte for byte, "
      "over any number of passes. With -j2 or more, threads update one shared weight vector "
      "without locks (Hogwild): the model depends on thread timing and differs from run to "
      "run, though it is as good. --readable-model's names are reproducible under the same "
      "conditions.\n\n"
      "--quadratic ab (VW's -q) adds the product of every feature of the namespaces starting "
      "with a and every feature of those starting with b (with aa, each pair of distinct "
      "features once); ':' stands for every namespace of the example, the unnamed one "
      "included: a: crosses a with each, :: every pair of namespaces, each with itself too, as "
      "in VW. Each unordered pair is crossed once, however often it is given.\n\n"
      "With -i, the input is read in the format the model was trained on; --format may name "
      "it, or vw for a model trained on svmlight (which then becomes a VW model); any other "
      "is a usage error.\n\n"
      "--readable-model writes one line per nonzero weight: INDEX, WEIGHT (with --oaa INDEX, "
      "CLASS, WEIGHT) and the NAME of the feature, tab-separated, after '# key=value' lines of "
      "options. The name is the first one seen in this run at that index: the svmlight index, "
      "the word or n-gram of text, NS^FEATURE in VW (FEATURE in the unnamed namespace), "
      "A*B for a quadratic feature; empty for an index trained only before (-i). Recording "
      "names costs 4 bytes per weight index (2^b) plus each distinct name once (at most 1 GiB "
      "of names; names are cut at 255 bytes), and a lookup per feature while parsing; "
      "with -j1 they are reproducible.\n\n"
      "The model file starts with GRISTSGD, a format version and the options that shape "
      "predictions; a file of another version, truncated or corrupt, is refused.\n\n" +
      grist::cli::compression_paragraph(grist::cli::kManInputsAndInitial, grist::cli::Window::any,
                                        false) +
      " "
      "A model (-f) or --readable-model named .zst, .gz, .bz2 or .xz is written with that "
      "codec at its default level; grist-predict and -i read it back.";
#ifdef GRIST_HAVE_MPI
  man.description +=
      "\n\nWith --allreduce, run under mpirun -np K: each rank trains on its share of the "
      "inputs (input i goes to rank i mod K when the number of inputs is a multiple of K, "
      "else line n of every input to rank (n-1) mod K) and the ranks mix their models with "
      "MPI_Allreduce after every pass (and every N examples with --allreduce-every): "
      "iterative parameter mixing, as in Vowpal Wabbit's cluster mode. Each feature's range "
      "is the largest of the ranks', every rank's weight first rescaled to it. AdaGrad "
      "weights are "
      "averaged weighted by each rank's new squared gradients, sgd weights plainly, ftrl "
      "sums its z and n increments. Losses and counts are summed over the ranks; rank 0 "
      "prints them and writes the model. Without -j each rank uses its share of the CPUs. "
      "A rank that fails aborts the job. --readable-model names features as rank 0 saw them.";
#endif
  man.description += std::string("\n\n") + cli::kManFilesAndSignals;
  man.notes =
      "grist-train-sgd reading standard input trains on what it holds when it ends: a "
      "producer that fails half-way leaves a model of half the data.\n\n" +
      grist::cli::pipefail_notes();
  man.examples =
      "$ grist-train-sgd train.svm.zst --passes 3 --holdout-every 10 -f model.gsgd\n"
      "Three passes; every tenth line held out.\n"
#ifdef GRIST_HAVE_MPI
      "$ mpirun -np 4 grist-train-sgd --allreduce --passes 5 train.svm.zst -f model.gsgd\n"
      "Four ranks, a quarter of the lines each, models averaged after each pass.\n"
#endif
      "$ grist-train-sgd --format text --ngrams 2 mails.tsv -f spam.gsgd\n"
      "Unigrams and bigrams of label<TAB>text lines.";
  man.see_also = "grist-predict(1), grist-tokenize(1), vw(1)";

  int status = tool.run(argc, argv, [&]() -> int {
    const auto& c = tool.common();
    bool rank0 = true;  // writes the model and the report (distributed training)
    auto given = [](CLI::Option* o) { return o->count() > 0; };
    std::unique_ptr<Model> model;
    mo.loss = *parse_loss_name(loss);
    mo.optimizer = *parse_optimizer_name(optimizer);
    mo.bias = !no_bias;
    mo.normalized = !no_norm;
    mo.learning_rate = lr > 0 ? lr : (mo.optimizer == Optimizer::ftrl ? 0.1 : (mo.optimizer == Optimizer::sgd ? 0.5 : 4));
    if (!format.empty()) mo.format = *parse_format_name(format);
    if (mo.classes > 0 && !given(o_loss)) mo.loss = Loss::logistic;
    if (given(o_tau) && mo.loss != Loss::quantile) throw UsageError("--quantile-tau needs --loss quantile");
    if (given(o_base) && mo.classes == 0) throw UsageError("--class-base needs --oaa");
    check_quadratic(mo.quadratic);
    if (!mo.quadratic.empty() && !format.empty() && mo.format != Format::vw) {
      throw UsageError("--quadratic crosses VW namespaces: it needs --format vw, not --format " +
                       format);
    }
    if (given(o_ngrams) && mo.ngrams > 1 && !format.empty() && mo.format != Format::text) {
      throw UsageError("--ngrams makes word n-grams of text input: it needs --format text, not "
                       "--format " + format);
    }
    if (given(o_holdout) && to.holdout_every == 1) {
      throw UsageError("--holdout-every 1 holds out every line, leaving nothing to train on "
                       "(give 2 or more)");
    }
    {
      RunFiles files;
      files.add_inputs("FILE", inputs);
      if (!initial_model.empty()) files.add_input("-i", initial_model);
      if (!final_model.empty()) files.add_output("-f", final_model);
      if (!readable.empty()) files.add_output("--readable-model", readable);
      // The example cache of several passes is the only spill.
      if (to.passes > 1 || app.get_option("--temp-dir")->count() > 0) files.temp_dir = c.temp_dir;
      check_run_files(files);
    }
    if (!initial_model.empty()) {
      for (CLI::Option* o : {o_loss, o_tau, o_oaa, o_base, o_bits, o_nobias, o_quad, o_ngrams}) {
        if (given(o)) throw UsageError(o->get_name() + " is fixed by the model given with -i");
      }
      model = Model::load(initial_model, true);
      ModelOptions& m = model->options();
      if (given(o_opt) && m.optimizer != mo.optimizer) {
        throw UsageError("--optimizer " + optimizer + " differs from the model's (" +
                         optimizer_name(m.optimizer) + ")");
      }
      m.normalized = mo.normalized;
      if (lr > 0) m.learning_rate = lr;
      m.power_t = mo.power_t, m.initial_t = mo.initial_t, m.l1 = mo.l1, m.l2 = mo.l2;
      m.ftrl_beta = mo.ftrl_beta;
      // The model reads the format it was trained on (see grist-predict);
      // VW input makes a model trained on svmlight a VW model.
      if (!format.empty() && mo.format != m.format) {
        if (!format_reads_as(m.format, mo.format)) {
          throw UsageError("--format " + format + ": the model given with -i was trained on " +
                           format_name(m.format) + " input, and reads only that" +
                           (m.format == Format::svmlight ? " (or vw)" : ""));
        }
        m.format = mo.format;
      }
    } else {
      if (mo.floats() > kMaxModelFloats) {
        throw UsageError("-b " + std::to_string(mo.bits) +
                         (mo.classes ? " with --oaa " + std::to_string(mo.classes) : "") +
                         " makes a model of " + format_bytes(mo.floats() * 4) +
                         " (2^b weights per class, with the optimizer's state); the most is " +
                         format_bytes(kMaxModelFloats * 4) + ": lower -b or --oaa");
      }
      model = std::make_unique<Model>(mo, true);
    }
    if (batch == "all") {
      to.batch_size = 0;
    } else {
      auto v = parse_u64(batch);
      if (!v || *v == 0) throw UsageError("--batch-size: expected a positive number or 'all'");
      to.batch_size = *v;
    }
    to.inputs = inputs;
    to.sniff = format.empty() && initial_model.empty();
    to.skip_errors = on_error == grist::OnError::skip;
    to.threads = c.threads;
    to.temp_dir = c.temp_dir;
    to.progress_lines = !c.quiet;
    // --- distributed training ---
#ifdef GRIST_HAVE_MPI
    if (given(o_every) && !allreduce) throw UsageError("--allreduce-every needs --allreduce");
    if (allreduce) {
      for (const auto& f : inputs) {
        if (f == "-") throw UsageError("--allreduce reads files, not stdin: give FILE arguments");
      }
      if (inputs.empty()) throw UsageError("--allreduce reads files, not stdin: give FILE arguments");
      comm = MpiCommunicator::init(nullptr, nullptr);
      mixer = std::make_unique<AllreduceMixer>(*comm, allreduce_every);
      to.shards = comm->size();
      to.shard = comm->rank();
      to.mixer = mixer.get();
      rank0 = comm->rank() == 0;
      if (app.get_option("--threads")->count() == 0) {
        const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        int per_node = local ? std::atoi(local) : comm->size();
        to.threads = std::max(1, c.threads / std::max(1, per_node));
      }
      if (!rank0) to.progress_lines = false;
    }
#endif
    // --- end distributed training ---
    auto log = [&](const std::string& line) {
      if (!c.quiet && rank0) std::fprintf(stderr, "%s\n", line.c_str());
    };
    // Outputs are created (as temporaries) before training, so that a bad
    // path fails before any work, and committed together at the end.
    std::unique_ptr<Sink> model_out, readable_out;
    if (rank0 && !final_model.empty()) model_out = Sink::open(final_model, SinkOptions{});
    if (rank0 && !readable.empty()) readable_out = Sink::open(readable, SinkOptions{});
    std::unique_ptr<FeatureNames> names;
    if (readable_out) {
      names = std::make_unique<FeatureNames>(model->options().bits);
      to.names = names.get();
    }
    TrainReport rep = train(*model, to, log);
    if (!rank0) return 0;  // distributed training: rank 0 writes and reports
    // A diverged model is refused before anything is written, naming the
    // feature (by its name when --readable-model records names).
    model->check_finite(names.get());
    if (model_out) model->save(*model_out);
    if (readable_out) model->write_readable(*readable_out, names.get());
    if (model_out) model_out->commit();
    if (readable_out) readable_out->commit();
    if (rep.skipped.count) tool.warn(rep.skipped.warning("malformed example"));
    if (!c.quiet) {
      const PassReport& last = rep.passes.back();
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "grist-train-sgd: %llu examples (%llu features) in %zu pass%s, %.2f s, "
                    "%.0f examples/s in pass 1; progressive loss %.6f%s",
                    static_cast<unsigned long long>(rep.examples),
                    static_cast<unsigned long long>(rep.features), rep.passes.size(),
                    rep.passes.size() == 1 ? "" : "es", rep.seconds,
                    rep.examples / std::max(rep.train_seconds_pass1, 1e-9),
                    rep.passes[0].train_loss / std::max(rep.passes[0].train_weight, 1e-300),
                    model->options().classes > 0 ? " (0/1 error)" : "");
      std::fprintf(stderr, "%s\n", buf);
      if (to.holdout_every) {
        std::snprintf(buf, sizeof buf,
                      "grist-train-sgd: held out: lines %llu, %llu, ... of each input (%llu "
                      "examples), never trained on; last held-out loss %.6f",
                      static_cast<unsigned long long>(to.holdout_every),
                      static_cast<unsigned long long>(2 * to.holdout_every),
                      static_cast<unsigned long long>(rep.holdout_examples),
                      last.holdout_loss / std::max(last.holdout_weight, 1e-300));
      } else {
        std::snprintf(buf, sizeof buf, "grist-train-sgd: held out: nothing (--holdout-every N to hold out)");
      }
      std::fprintf(stderr, "%s\n", buf);
      std::fprintf(stderr, "grist-train-sgd: stopped: %s\n", rep.stop_reason.c_str());
    }
    tool.summary(rep.examples, rep.bytes,
                 std::to_string(rep.trained_examples) + " example updates in " +
                     std::to_string(rep.passes.size()) + " pass" +
                     (rep.passes.size() == 1 ? "" : "es"));
    return 0;
  });
#ifdef GRIST_HAVE_MPI  // distributed training: a failed rank ends the whole job
  if (status != 0 && comm && comm->size() > 1) comm->abort(status);
#endif
  return status;
}
