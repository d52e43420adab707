// grist-predict: score examples with a model from grist-train-sgd.
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/cli/man_files.hpp"
#include "grist/error.hpp"
#include "grist/io/preflight.hpp"
#include "grist/io/sink.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/predict.hpp"

using namespace grist;
using namespace grist::sgd;

namespace {

// The command line, as parsed.
struct Options {
  std::vector<std::string> inputs;
  std::string model_path;
  std::string format;
  grist::OnError on_error = grist::OnError::fail;
  bool metrics = false;
  std::string metrics_json;
  std::string output_kind;
  int top_k = 0;
  double threshold_value = 0;
  CLI::Option* threshold = nullptr;  // given or not
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("-i,--model", o.model_path, "The model file (from grist-train-sgd -f)")
      ->type_name("FILE")
      ->required();
  app.add_option("FILE", o.inputs, "Example files (default: stdin)")
      ->type_name("FILE");
  app.add_option("--format", o.format, "The input's format (default: the model's)")
      ->type_name("FMT")
      ->check(CLI::IsMember({"svmlight", "vw", "text", "fasttext"}));
  app.add_option("--output-type", o.output_kind,
                 "What each line shows (default: as the model suits)")
      ->type_name("TYPE")
      ->check(CLI::IsMember({"prob", "label", "score"}));
  cli::add_number(app, "--top-k", o.top_k,
                  "The K likeliest classes, with their probabilities",
                  {.min = 1})
      ->type_name("K");
  o.threshold = cli::add_number(app, "--threshold", o.threshold_value,
                  "Binary models: positive when P (or score) >= T",
                  {.min = -std::numeric_limits<double>::max()})
      ->type_name("T");
  app.add_flag("--metrics", o.metrics,
               "Metrics of labelled examples on stderr");
  app.add_option("--metrics-json", o.metrics_json,
                 "Metrics as JSON to FILE ('-': stdout, with -o)")
      ->type_name("FILE");
  cli::add_on_error(app, o.on_error, "Bad example: fail (default) or skip");
}

void describe(cli::ManText& man) {
  man.synopsis = "-i MODEL [OPTION]... [FILE]...";
  man.description =
      "grist-predict reads examples and writes one line per input line, in input order: the "
      "prediction first, then the example's tag for VW input that has one. A line without an "
      "example (blank, an svmlight comment, or a malformed line skipped by --on-error skip) "
      "gives an empty line, so that line N of the output is always about line N of the input "
      "(paste(1) lines them up). Labels are optional (VW) and are used only by the metrics.\n\n"
      "What a line shows (--output-type; -o, --output names the output file, as in every "
      "grist program): prob, the probability of the positive class "
      "(sigmoid of the score) for a binary logistic model, or of the predicted class for a "
      "logistic --oaa model; label, the class in the training data's own terms: its name when "
      "the model holds class names, else -1 or 1 for a binary model and the class number "
      "(from --class-base) for --oaa; score, the raw score w.x (the margin), for --oaa the "
      "predicted class's. The default is what grist-predict has always written: prob for a "
      "binary logistic model, label for --oaa, score for hinge, squared and quantile models. "
      "prob needs a logistic model and label a classifier: any other pairing is a usage error "
      "naming what works. Numbers are written in the fewest digits that read back as the same "
      "32-bit float (0.8807971, 1e-05, -2).\n\n"
      "--threshold T (binary models only): the label is the positive class when P(positive) "
      ">= T for a logistic model (T from 0 to 1, default 0.5), when score >= T for a hinge "
      "model (default 0). It moves label output and every metric computed from labels "
      "(accuracy, per-class scores, confusion matrix), never prob, score, logloss or AUC; with "
      "--output-type prob or score it is allowed and only the metrics change.\n\n"
      "--top-k K (classifiers) writes the K most likely classes, best first, as fastText's "
      "predict-prob does: NAME PROB NAME PROB ..., one space between fields, then the tag. "
      "K above the number of classes gives them all (a binary model has two: top-k 2 writes "
      "both, its probabilities summing to 1). With --oaa the probabilities are each class's "
      "sigmoid normalised to sum 1 (Vowpal Wabbit's --oaa --probabilities), and classes are "
      "ranked by score, equal scores in class order; a binary model ranks the positive class "
      "first when P(positive) >= 0.5. --output-type label --top-k K writes the names alone "
      "(fastText's predict K), which a hinge model can do too; probabilities need a logistic "
      "model, scores are not offered, and --top-k with --threshold, or with a squared or "
      "quantile model, is a usage error.\n\n"
      "--metrics writes to stderr (never mixed with the predictions) one summary line, "
      "'grist-predict: N examples: ...', with logloss, accuracy and AUC for a binary logistic "
      "model, accuracy and AUC for hinge, accuracy for --oaa, RMSE and MAE (and quantile "
      "loss) for squared and quantile models; then, for a classifier, a table: the multiclass "
      "log loss for a logistic --oaa model (of the normalised probability of the true "
      "class), per class precision, recall, F1 and support, their macro average (the "
      "unweighted mean over the classes that occur as a label or a prediction), weighted "
      "average (by support) and micro average (pooled counts: the accuracy), and the "
      "confusion matrix, rows the true class and columns the predicted one. A class that "
      "occurs neither as a label nor as a prediction has '-' scores; otherwise 0/0 counts "
      "as 0, as in scikit-learn's classification_report. Examples count by their importance "
      "weight (VW), so supports and matrix cells are sums of weights, counts when every "
      "weight is 1. A fastText example with several labels is predicted right when the class "
      "predicted is any of them (fastText's precision at 1), and then counts as that class; "
      "else as its first label. Unlabelled examples are left out of every metric; with no labelled "
      "example the summary says '(0 labelled)', the next line 'no labelled examples: no "
      "metrics', and the exit status is 0.\n\n"
      "--metrics-json FILE writes the same metrics as one JSON object on one line, for "
      "scripts, atomically (all or nothing, like -o; compressed as its name says), and "
      "prints nothing itself: add --metrics for stderr. '-' is standard output, which is "
      "allowed only when -o sends the predictions to a file. Its keys, always all present, "
      "in this order: examples (examples scored), labelled, weight (the labelled examples' "
      "summed weights), lines (input lines), skipped (malformed lines skipped), loss "
      "(logistic, hinge, squared or quantile), oaa (true or false), threshold (the binary "
      "models' threshold, else null), logloss, accuracy, auc, rmse, mae, quantile_loss, "
      "classes (a list of {name, precision, recall, f1, support} in class order; empty for "
      "squared and quantile models), macro, weighted, micro (each {precision, recall, f1, "
      "support}, or null), confusion (a list of rows, one per true class in class order, "
      "each a list of one number per predicted class; null for squared and quantile "
      "models). A figure that does not apply to the model, or has no labelled example to "
      "be computed from, is null; class names are JSON strings, escaped.\n\n"
      "The input is read in the format the model was trained on (svmlight, vw or text), "
      "whatever it looks like: the same example in another format hashes to other weights. "
      "--format may name that format, or vw for a model trained on svmlight (svmlight's "
      "INDEX:VALUE is VW's '| INDEX:VALUE'); any other --format is a usage error. Input that "
      "does not parse in the model's format is an error naming its line, which says what "
      "format the input looks like; with --on-error skip, input of which no line parses is "
      "an error too.\n\n"
      "A model file that is truncated, corrupt, of another format version, not a model, or "
      "holding a weight that is not finite (NaN, infinite) is refused with a message saying "
      "which.\n\n" +
      cli::compression_paragraph(cli::kManInputsAndModel, cli::Window::any);
  man.description += std::string("\n\n") + cli::kManFilesAndSignals;
  man.notes =
      "grist-predict reading standard input scores what it holds when it ends: a producer "
      "that fails half-way leaves the predictions of part of the data.\n\n" +
      grist::cli::pipefail_notes();
  man.examples =
      "$ grist-predict -i model.gsgd test.svm.zst --metrics -o preds.txt\n"
      "Predictions to preds.txt, metrics on stderr.\n"
      "$ grist-predict -i spam.gsgd mail.vw --output-type label --threshold 0.9\n"
      "Label a message as the positive class only when its probability is at least 0.9.\n"
      "$ grist-predict -i topics.gsgd docs.txt --top-k 3\n"
      "The three most likely topics of each document with their probabilities, e.g. "
      "'sport 0.71 politics 0.2 science 0.05'.\n"
      "$ grist-predict -i m.gsgd test.svm -o preds.txt --metrics-json metrics.json\n"
      "The metrics for a script: jq .macro.f1 metrics.json gives the macro-averaged F1.";
  man.see_also = "grist-train-sgd(1)";

}

int predict_files(const cli::Tool& tool, const Options& o) {
  const auto& c = tool.common();
  const bool to_stdout = c.output.empty() || c.output == "-";
  if (o.metrics_json == "-" && to_stdout) {
    throw UsageError("--metrics-json -: standard output holds the predictions; give -o FILE "
                     "for them, or a file to --metrics-json");
  }
  // `--output label` is -o's long name with a file "label": almost surely
  // meant as --output-type. A file of that name is still -o ./label.
  for (const char* type : {"prob", "label", "score"}) {
    if (c.output == type) {
      throw UsageError(std::string("-o ") + type + " (--output " + type +
                       ") names the output file; for what each line shows give --output-type " +
                       type + " (a file of that name: -o ./" + type + ")");
    }
  }
  RunFiles files;
  files.add_input("-i", o.model_path);
  files.add_inputs("FILE", o.inputs);
  files.add_output("-o", c.output);
  if (!o.metrics_json.empty()) files.add_output("--metrics-json", o.metrics_json);
  check_run_files(files);
  auto model = Model::load(o.model_path, ModelState::weights_only);
  PredictOptions predict_opts;
  if (!o.format.empty()) predict_opts.format = *parse_format_name(o.format);
  predict_opts.inputs = o.inputs;
  predict_opts.skip_errors = o.on_error == grist::OnError::skip;
  predict_opts.threads = c.threads;
  predict_opts.metrics = o.metrics || !o.metrics_json.empty();
  if (o.output_kind == "prob") predict_opts.output.kind = OutputKind::prob;
  if (o.output_kind == "label") predict_opts.output.kind = OutputKind::label;
  if (o.output_kind == "score") predict_opts.output.kind = OutputKind::score;
  predict_opts.output.top_k = o.top_k;
  if (o.threshold->count()) predict_opts.output.threshold = o.threshold_value;
  score_options(model->options(), predict_opts.output);  // a usage error before any output
  auto out = Sink::open(c.output, c.sink_options());
  std::unique_ptr<Sink> json;
  if (!o.metrics_json.empty()) json = Sink::open(o.metrics_json, {});
  ReadGauge gauge;
  predict_opts.gauge = &gauge;
  Metrics m;
  {
    cli::Progress progress(
        tool, "reading", [&] { return gauge.done.load(std::memory_order_relaxed); },
        [&] { return gauge.total.load(std::memory_order_relaxed); });
    m = predict(*model, predict_opts, *out);
  }
  if (json) json->write(m.json());
  out->commit();
  if (json) json->commit();
  if (m.skipped.count) tool.warn(m.skipped.warning("malformed example"));
  if (o.metrics) {
    std::fflush(stdout);
    std::fprintf(stderr, "grist-predict: %s\n%s", m.text().c_str(), m.table().c_str());
  }
  tool.summary(m.lines, m.bytes,
               std::to_string(m.examples) + " examples" +
                   (m.skipped.count ? ", " + std::to_string(m.skipped.count) + " skipped" : ""));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommonSet set;
  set.memory = false;
  set.temp_dir = false;
  set.memory_hint =
      "the model takes 4 bytes per weight, 2^b weights per --oaa class, as trained; one long "
      "line needs 2 to 5 times its length";
  cli::Tool tool("grist-predict",
                 "Predict with a grist-train-sgd model", set);
  Options o;
  add_options(tool.app(), o);
  describe(tool.man());
  return tool.run(argc, argv, [&] { return predict_files(tool, o); });
}
