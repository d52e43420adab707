// grist-train-sgd: sparse linear models by stochastic gradient descent.
// The options and the man page; the policy is grist::sgd::TrainCommand.
#include <cstdio>
#include <string>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/record/record.hpp"
#include "grist/sgd/report.hpp"
#include "grist/sgd/train_command.hpp"
#include "grist/sgd/vw_options.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

void add_options(CLI::App& app, TrainArgs& args) {
  app.add_option("FILE", args.inputs, "Example files (default: stdin)")
      ->type_name("FILE");
  app.add_option("-f,--final-model", args.final_model, "Write the model to FILE")->type_name("FILE");
  app.add_option("-i,--initial-model", args.initial_model, "Continue training the model in FILE")->type_name("FILE");
  app.add_option("--readable-model", args.readable_model, "Also write the weights as text, with feature names")
      ->type_name("FILE");
  app.add_option("--format", args.format, "svmlight, vw, text, fasttext (default: sniffed)")
      ->type_name("FMT")->check(CLI::IsMember({"svmlight", "vw", "text", "fasttext"}));
  app.add_option("--loss", args.loss, "Loss: logistic (default), squared, hinge, quantile")
      ->type_name("LOSS")->check(CLI::IsMember({"logistic", "squared", "hinge", "quantile"}));
  cli::add_number(app, "--quantile-tau", args.model.quantile_tau, "Quantile of --loss quantile (default 0.5)",
                  {.min = 0, .max = 1, .min_open = true, .max_open = true})
      ->type_name("TAU");
  cli::add_number(app, "--oaa", args.model.classes, "One against all, K classes (labels 1..K)",
                  {.min = 2, .max = 100000})
      ->type_name("K");
  cli::add_number(app, "--class-base", args.model.class_base, "First --oaa class label: 0 or 1 (default 1)",
                  {.min = 0, .max = 1})
      ->type_name("N");
  app.add_option("--classes", args.classes, "The classes by name, in order (positive last)")
      ->type_name("A,B,...");
  cli::add_number(app, "-b,--bits", args.model.bits, "Hash into 2^N weights (default 20)",
                  {.min = 1, .max = 30})
      ->type_name("N");
  app.add_flag("--no-bias", args.no_bias, "Learn no bias term");
  // One pair per --quadratic (repeat it for more), so that a file name
  // after it is not taken for a second pair.
  app.add_option("--quadratic", args.model.quadratic,
                 "Cross VW namespaces (first letters): ab, a: or ::")
      ->type_name("AB")->allow_extra_args(false);
  cli::add_number(app, "--ngrams", args.model.ngrams, "Text and fasttext: word n-grams up to N (default 2)",
                  {.min = 1, .max = 8})
      ->type_name("N");
  app.add_option("--optimizer", args.optimizer, "sgd, adagrad (default) or ftrl")
      ->type_name("NAME")->check(CLI::IsMember({"sgd", "adagrad", "ftrl"}));
  app.add_flag("--no-normalize", args.no_normalize, "Do not scale updates by feature ranges");
  cli::add_number(app, "-l,--learning-rate", args.learning_rate, "Rate (default: adagrad 0.85, sgd 0.5, ftrl 0.25)",
                  {.min = 0, .min_open = true})
      ->type_name("RATE");
  cli::add_number(app, "--power-t", args.model.power_t, "sgd: rate * (initial_t + t)^-P (default 0.5)",
                  {.min = 0, .max = 10})
      ->type_name("P");
  cli::add_number(app, "--initial-t", args.model.initial_t, "sgd: initial t of the rate schedule (default 0)")
      ->type_name("T");
  cli::add_number(app, "--l1", args.model.l1, "L1 regularisation (default 0)")->type_name("X");
  cli::add_number(app, "--l2", args.model.l2, "L2 regularisation (default 0)")->type_name("X");
  cli::add_number(app, "--ftrl-beta", args.model.ftrl_beta, "ftrl: beta (default 1)")->type_name("X");
  auto* batch = app.add_option("--batch-size", args.batch, "Examples per update, or all (default 1)")
      ->type_name("N|all");
  batch->check(cli::value_validator(batch->get_name(), "count-or-all", "0", "",
                                    "a whole number, 1 or more, or 'all'",
                                    [](const std::string& v) {
                                      auto n = parse_u64(v);
                                      return v == "all" || (n && *n > 0);
                                    }));
  cli::add_number(app, "--passes", args.train.passes, "Passes over the data (default 1)",
                  {.min = 1, .max = 1000000})
      ->type_name("N");
  app.add_flag("--shuffle", args.train.shuffle, "Shuffle cached examples between passes");
  cli::add_number(app, "--seed", args.train.seed, "Seed of --shuffle (default 1)")->type_name("N");
  cli::add_number(app, "--holdout-every", args.train.holdout_every,
                  "Hold out lines N, 2N, ... (0: none; --passes>1: 10)")
      ->type_name("N");
  cli::add_number(app, "--early-stop", args.train.early_stop,
                  "Stop after K passes without held-out gain (3)")
      ->type_name("K");
  cli::add_on_error(app, args.on_error, "Bad example: fail (default) or skip");
  // --- distributed training: only in builds with MPI ---
#ifdef GRIST_HAVE_MPI
  app.add_flag("--allreduce", args.allreduce,
               "Under mpirun: train on a share, average the models");
  cli::add_number(app, "--allreduce-every", args.allreduce_every,
                  "--allreduce: also average every N examples", {.min = 1})
      ->type_name("N");
#endif
  // --- end distributed training ---
}

// The man page's DESCRIPTION, but for the distributed part and the
// common paragraphs (set_man adds them).
std::string description() {
  return "grist-train-sgd streams labelled examples through a linear model over 2^b hashed "
      "features and writes the model (-f). Inputs are svmlight/libsvm (LABEL [qid:N] "
      "INDEX:VALUE ...), Vowpal Wabbit text (LABEL [IMPORTANCE] ['TAG]|NS FEATURE[:VALUE] ...), "
      "LABEL<TAB>TEXT or fastText's __label__NAME [__label__NAME]... TEXT (--format fasttext, "
      "sniffed from a first line starting __label__); text is tokenized like grist-tokenize, "
      "with word n-grams (--ngrams; by default words and pairs of adjacent words, as text "
      "classification needs). Labels are -1/+1 or 0/1 for logistic and hinge loss, "
      "numbers for squared and quantile loss, class ids with --oaa, or classes by name.\n\n"
      "Classes by name: with logistic or hinge loss, text and fasttext input whose labels are "
      "not all -1, 0 or 1 is read twice: first its labels only, to find the classes, then to "
      "train. Standard input that is a pipe is read once: with --format text or fasttext it is "
      "first copied to an anonymous file in -T (gone on every exit path); without --format (it "
      "might be svmlight or VW, which need no copy) give --classes, or training stops at the "
      "first label by name with a message saying so. The classes' order: numeric when every label is an integer, else byte order. Two "
      "classes train a binary model whose second class is the positive one; more train one "
      "against all with a class per name, as --oaa K would. --classes A,B,... names the "
      "classes and their order instead, for any format and without the first read: the last "
      "of two is positive. The model keeps the names (its file then has version 2; 0/1 and "
      "-1/+1 models stay as before, byte for byte), and grist-predict and -i read the labels "
      "by them: a label that is not one of them is an error (exit 1) naming the classes. A "
      "fastText line may carry several labels: it trains one against all (even for two "
      "classes) with each of its labels positive, as fastText's -loss ova, and its "
      "progressive 0/1 loss counts the top class right when it is any of them. One class "
      "only, or a label that is a number but not an integer (for numbers to predict, give "
      "--loss squared), is a usage error.\n\n"
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
      "scored before it is learnt) is printed at examples 1, 2, 4, 8, ....\n\n"
      "Held out: with --holdout-every N, examples on lines N, 2N, ... of each input are never "
      "trained on and their loss is shown after each pass (computed during the pass). With "
      "--passes above 1 and no --holdout-every, lines 10, 20, ... are held out (10%, as Vowpal "
      "Wabbit does); --holdout-every 0 trains on every line. One pass holds out nothing unless "
      "asked. With held-out examples and several passes, the model written (-f, "
      "--readable-model) is that of the pass with the lowest held-out loss, weights and "
      "optimiser state: when a later pass does worse, training ends with the best pass's model, "
      "the same, byte for byte with -j1, as a run of that many passes; the report says which "
      "pass it is (model: from pass P of N). The best pass is kept in an anonymous file in -T "
      "(the size of the model, written once per improving pass; gone on every exit path), not "
      "in memory. --early-stop K ends training after K passes without a lower held-out loss, "
      "and the report says so (default 3; --early-stop 0 never stops early, and still "
      "writes the best pass's model); --early-stop with --holdout-every 0 is a usage error. "
      "Several passes read a zstd cache of parsed examples in -T; --shuffle shuffles them from "
      "pass 2 on.\n\n"
      "Warnings (on standard error, not with --quiet, which prints errors only): no -f nor "
      "--readable-model (nothing will be saved), and --shuffle or --early-stop with one pass "
      "(they do nothing).\n\n"
      "The default rate (-l 0.85 with AdaGrad) needs no tuning: the step is scale-free in both "
      "the values (each feature's in units of its largest |value|) and the gradient "
      "(AdaGrad's sum of squares starts at 0), and the rate is multiplied by sqrt(t / sum of "
      "(x/N)^2) over the examples so far (VW's adaptive normalised update), so that dense "
      "examples of hundreds of features and short texts of ten words take steps of the same "
      "size. On bench/sweep.sh's tasks (numeric, tf-idf, pixel and word features) the default "
      "is within 0.5 accuracy points of the best -l of 0.25 ... 64. With sgd (-l 0.5) and ftrl "
      "(-l 0.25) the best rate still depends on the data (sgd's steps are not bounded: a high "
      "rate diverges with squared loss).\n\n"
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
}

// The man page's text (the options' part comes from add_options).
void set_man(cli::Tool& tool) {
  auto& man = tool.man();
  man.synopsis = "[OPTION]... [FILE]...";
  man.description = description();
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
      "$ grist-train-sgd train.svm.zst --passes 20 --early-stop 3 -f model.gsgd\n"
      "Up to twenty passes, every tenth line held out; stops after three passes without a "
      "lower held-out loss and writes the best pass's model.\n"
#ifdef GRIST_HAVE_MPI
      "$ mpirun -np 4 grist-train-sgd --allreduce --passes 5 train.svm.zst -f model.gsgd\n"
      "Four ranks, a quarter of the lines each, models averaged after each pass.\n"
#endif
      "$ grist-train-sgd --format text --ngrams 2 mails.tsv -f spam.gsgd\n"
      "Unigrams and bigrams of label<TAB>text lines.\n"
      "$ grist-train-sgd --passes 5 topics.ft.zst -f topics.gsgd\n"
      "fastText input: one against all over the __label__ names found.";
  man.see_also = "grist-predict(1), grist-tokenize(1), vw(1)";
  man.foreign = vw_train_options();
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommonSet set;
  set.output = false;
  set.memory = false;
  set.compression = false;
  set.memory_hint =
      "the model takes 12 bytes per weight (8 with --optimizer sgd), 2^b weights per --oaa "
      "class: lower -b or --oaa; one long line needs 2 to 5 times its length";
  cli::Tool tool("grist-train-sgd", "Train a sparse linear model by SGD", set);
  TrainArgs args;
  add_options(tool.app(), args);
  set_man(tool);
  std::unique_ptr<TrainCommand> command;
  int status = tool.run(argc, argv, [&]() -> int {
    const auto& c = tool.common();
    args.threads = c.threads;
    args.temp_dir = c.temp_dir;
    args.quiet = c.quiet;
    for (const char* name : kConsultedOptions) {
      const CLI::Option* o = tool.app().get_option_no_throw(name);
      if (o && o->count() > 0) args.given.insert(name);
    }
    command = std::make_unique<TrainCommand>(args);
    TrainReport rep = command->run(
        [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); },
        [&](const std::string& w) { tool.warn(w); });
    if (!command->rank0()) return 0;  // distributed training: rank 0 reports
    if (rep.skipped.count) tool.warn(rep.skipped.warning("malformed example"));
    if (!c.quiet) {
      for (const auto& line : report_lines(rep, command->options(), command->model_options())) {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
    }
    tool.summary(rep.examples, rep.bytes, updates_summary(rep));
    return 0;
  });
  if (command) command->abort_if_failed(status);  // distributed: a failed rank ends the job
  return status;
}
