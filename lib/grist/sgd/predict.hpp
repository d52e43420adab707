// Scoring examples with a trained model (grist-predict).
//
//   auto model = grist::sgd::Model::load("model.gsgd", grist::sgd::ModelState::weights_only);
//   grist::sgd::PredictOptions po;  po.inputs = {"test.svm.zst"};
//   auto out = grist::Sink::open("-", {});
//   grist::sgd::Metrics m = grist::sgd::predict(*model, po, *out);
//
// One output line per input line, in input order whatever the thread
// count: the prediction first (P(label = +1) for logistic loss, the class
// for --oaa, the score otherwise; OutputOptions chooses), then the VW tag if the example has one;
// an empty line for an input line without an example (blank, a comment, or
// malformed under skip_errors), so that output line n is about input line n.
//
// The input is read in the format the model was trained on (ModelOptions::
// format), never sniffed: the same text in another format hashes to other
// weights.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"

namespace grist::sgd {

// What each output line shows (grist-predict --output, --top-k,
// --threshold; docs in tools/predict/main.cpp).
enum class OutputKind {
  prob,   // P(positive) (binary logistic); P(the top class) (--oaa logistic)
  label,  // the class's name (ModelOptions::class_name)
  score,  // the raw score w.x: binary, regression, the top class's (--oaa)
};

// As the user asks for it: unset fields take the model's defaults.
struct OutputOptions {
  std::optional<OutputKind> kind;
  int top_k = 0;                    // > 0: the K best classes per line
  std::optional<double> threshold;  // binary models: the cut behind `label`
};

// The output settled for one model: what score_block() writes.
struct ScoreOptions {
  OutputKind kind = OutputKind::prob;
  // 0: one prediction per line. Else min(K, classes) "NAME PROB" pairs
  // (kind prob) or names (kind label), best first.
  int top_k = 0;
  // Binary models: the positive class when P(positive) >= threshold
  // (logistic) or score >= threshold (hinge). NaN for other models.
  double threshold = 0;
  bool probabilities = false;  // compute the per-class probabilities (--oaa)
};

// What grist-predict prints by default, as it always has: prob for a
// binary logistic model, label (the class) for --oaa, score otherwise.
OutputKind default_output(const ModelOptions& mo);

// Checks `o` against the model and fills in the defaults. Throws
// grist::UsageError, naming what works, for prob without a logistic model,
// label for a regression model, --top-k without classes (or with score),
// --threshold for a model that is not binary, or with --top-k, or a
// logistic threshold outside 0..1.
// How messages name the three settings: grist-predict's options, or
// grist-serve's query parameters ({"output", "top_k", "threshold", "="}).
struct OutputSpelling {
  std::string output = "--output-type", top_k = "--top-k", threshold = "--threshold";
  std::string separator = " ";  // between a name and its value
};
ScoreOptions score_options(const ModelOptions& mo, const OutputOptions& o,
                           const OutputSpelling& spelling = {});

struct PredictOptions {
  std::vector<std::string> inputs;  // empty: stdin
  // The input's format: unset, the model's. Otherwise it must be one the
  // model reads (format_reads_as), or predict() throws grist::UsageError.
  std::optional<Format> format;
  OutputOptions output;
  bool metrics = false;
  bool skip_errors = false;
  int threads = 1;
  size_t block_size = 1 << 20;
  ReadGauge* gauge = nullptr;  // non-null: the input's reading (BlockReader::set_gauge)
};

// Precision, recall and F1 of a class (or an average of them); NaN when
// the class occurs neither as a label nor as a prediction.
struct ClassScores {
  double precision, recall, f1, support;
};

struct Metrics {
  uint64_t examples = 0;
  uint64_t lines = 0;  // input lines, i.e. output lines
  uint64_t bytes = 0;  // input bytes (decompressed)
  uint64_t labelled = 0;
  SkippedLines skipped;  // malformed lines (skip_errors)
  // NaN when not applicable. logloss is the multiclass one with --oaa
  // (-log of the normalised probability of the true class).
  double logloss, accuracy, auc, rmse, mae, quantile_loss;
  // The run's settings, for the report.
  Loss loss = Loss::logistic;
  bool oaa = false;
  double threshold = std::numeric_limits<double>::quiet_NaN();  // binary models
  double weight = 0;  // the labelled examples' summed importance weights
  // Classifiers: the classes' names (2 for binary: negative, positive; K
  // for --oaa) and the weighted confusion matrix, row-major, rows the true
  // class, columns the predicted one. Empty for regression.
  std::vector<std::string> class_names;
  std::vector<double> confusion;
  // Derived from the confusion matrix (compute_metrics fills them): per
  // class, and the macro (unweighted mean over the classes that occur as a
  // label or a prediction), micro (pooled: equal to the accuracy) and
  // weighted (by support) averages. 0/0 counts as 0, as scikit-learn's
  // classification_report counts it.
  std::vector<ClassScores> per_class;
  ClassScores macro, micro, weighted;

  // "N examples: logloss X, accuracy Y, AUC Z" (only what applies; no
  // logloss for --oaa, which the table shows).
  std::string text() const;
  // The lines after text() on stderr: per-class scores, averages and the
  // confusion matrix of a classifier; "no labelled examples" without
  // labels; empty for regression. Each line ends in '\n'.
  std::string table() const;
  // The JSON object of --metrics-json (keys in tools/predict/main.cpp's
  // man page), one line ending in '\n'; null for what does not apply.
  std::string json() const;
};

// Writes predictions to `out` (not committed) and, when asked, computes the
// metrics over labelled examples. Throws grist::Error on bad input (with a
// hint when the input looks like another format than the model's), and
// when skip_errors skipped every line that was not blank.
Metrics predict(const Model& model, const PredictOptions& opts, Sink& out);

// The parse options predictions read input with: the model's own, in
// `format` when given, which must be one the model reads (format_reads_as)
// or this throws grist::UsageError. Labels are optional, VW tags kept.
ParseOptions prediction_parse_options(const Model& model, std::optional<Format> format);

// The predictions of one block of lines, as predict() writes them.
struct ScoredBlock {
  Examples ex;
  SkippedLines errors;  // lines skipped (skip_errors)
  std::string text;  // one line per input line, each ending in '\n'
  // Per example: the raw score (the top class's with --oaa); the
  // probability (binary logistic: of the positive class; --oaa with
  // ScoreOptions::probabilities: of the example's label, NaN unlabelled;
  // else NaN); the predicted class (binary: 1 positive, 0 negative, by the
  // threshold; --oaa: 0-based; -1 for regression).
  std::vector<float> score, prob;
  std::vector<int32_t> cls;
};

// Scores every line of `block` with `model`, replacing what `out` held:
// out.text is byte for byte what predict() writes for these lines (the one
// implementation behind grist-predict and grist-serve). `parser` must have
// been made from prediction_parse_options(model, ...); it is used by one
// thread at a time. A malformed line throws grist::Error(*block.source,
// LINE, hint(message)) (message alone without a hint) unless skip_errors,
// which counts it in out.errors and gives it an empty output line.
void score_block(const Model& model, Parser& parser, const Block& block, bool skip_errors,
                 const ScoreOptions& so, ScoredBlock& out,
                 const std::function<std::string(const std::string&)>& hint = {});
// The same with the model's default output.
void score_block(const Model& model, Parser& parser, const Block& block, bool skip_errors,
                 ScoredBlock& out,
                 const std::function<std::string(const std::string&)>& hint = {});

// The per-example inputs of compute_metrics(): labelled examples only,
// labels as the parser gives them (binary -1/+1, --oaa 0-based), the rest
// as ScoredBlock holds them.
struct MetricInputs {
  std::vector<float> label, weight, score, prob;
  std::vector<int32_t> cls;
  void add(const ScoredBlock& s, size_t i);
};

// Metrics of predictions against labels (exposed for tests), the
// examples/lines/bytes fields left 0. `threshold` is the run's (NaN for
// models that are not binary).
Metrics compute_metrics(const ModelOptions& o, const MetricInputs& in, double threshold);

// Area under the ROC curve of scores for binary labels (> 0 positive);
// ties count one half. NaN when one class is absent.
double auc(const std::vector<float>& label, const std::vector<float>& score);

}  // namespace grist::sgd
