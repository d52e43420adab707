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
      ->check(CLI::IsMember({"svmlight", "vw", "text"}));
  app.add_option("--output-type", o.output_kind,
                 "What each line shows: prob, label or score (default: prob for a logistic "
                 "model, label for --oaa, score otherwise)")
      ->type_name("TYPE")
      ->check(CLI::IsMember({"prob", "label", "score"}));
  cli::add_number(app, "--top-k", o.top_k,
                  "The K most likely classes per line, best first: NAME PROB pairs (names alone "
                  "with --output-type label)",
                  {.min = 1})
      ->type_name("K");
  o.threshold = cli::add_number(app, "--threshold", o.threshold_value,
                  "Binary models: the positive label when P(positive) >= T (logistic; default "
                  "0.5) or score >= T (hinge; default 0)",
                  {.min = -std::numeric_limits<double>::max()})
      ->type_name("T");
  app.add_flag("--metrics", o.metrics,
               "Metrics of labelled examples on stderr: a summary line, then per-class scores "
               "and the confusion matrix");
  app.add_option("--metrics-json", o.metrics_json,
                 "Also write the metrics to FILE as one JSON object ('-': stdout, only with -o "
                 "FILE)")
      ->type_name("FILE");
  cli::add_on_error(app, o.on_error, "Bad example: fail (default) or skip");
}

void describe(cli::ManText& man) {
  man.synopsis = "-i MODEL [OPTION]... [FILE]...";
  man.description =
      "grist-predict reads examples and writes one line per input line, in input order: the "
      "prediction first (the probability that the label is +1 for a logistic model, the class "
      "for --oaa, the score otherwise), then the example's tag for VW input that has one. A "
      "line without an example (blank, an svmlight comment, or a malformed line skipped by "
      "--on-error skip) gives an empty line, so that line N of the output is always about line "
      "N of the input (paste(1) lines them up). Labels are optional (VW) and are used only by "
      "--metrics, whose one line goes to stderr (so that it never mixes with the "
      "predictions): logloss, accuracy and AUC for logistic models, accuracy and AUC for "
      "hinge, accuracy for --oaa, RMSE and MAE (and quantile loss) for squared and quantile "
      "models.\n\n"
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
      "Predictions to preds.txt, metrics on stderr.";
  man.see_also = "grist-train-sgd(1)";

}

int predict_files(const cli::Tool& tool, const Options& o) {
  const auto& c = tool.common();
  const bool to_stdout = c.output.empty() || c.output == "-";
  if (o.metrics_json == "-" && to_stdout) {
    throw UsageError("--metrics-json -: standard output holds the predictions; give -o FILE "
                     "for them, or a file to --metrics-json");
  }
  RunFiles files;
  files.add_input("-i", o.model_path);
  files.add_inputs("FILE", o.inputs);
  files.add_output("-o", c.output);
  if (!o.metrics_json.empty() && o.metrics_json != "-") {
    files.add_output("--metrics-json", o.metrics_json);
  }
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
  Metrics m = predict(*model, predict_opts, *out);
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
