// Scoring examples with a trained model (grist-predict).
//
//   auto model = grist::sgd::Model::load("model.gsgd", grist::sgd::ModelState::weights_only);
//   grist::sgd::PredictOptions po;  po.inputs = {"test.svm.zst"};
//   auto out = grist::Sink::open("-", {});
//   grist::sgd::Metrics m = grist::sgd::predict(*model, po, *out);
//
// One output line per input line, in input order whatever the thread
// count: the prediction first (P(label = +1) for logistic loss, the class
// for --oaa, the score otherwise), then the VW tag if the example has one;
// an empty line for an input line without an example (blank, a comment, or
// malformed under skip_errors), so that output line n is about input line n.
//
// The input is read in the format the model was trained on (ModelOptions::
// format), never sniffed: the same text in another format hashes to other
// weights.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"

namespace grist::sgd {

struct PredictOptions {
  std::vector<std::string> inputs;  // empty: stdin
  // The input's format: unset, the model's. Otherwise it must be one the
  // model reads (format_reads_as), or predict() throws grist::UsageError.
  std::optional<Format> format;
  bool metrics = false;
  bool skip_errors = false;
  int threads = 1;
  size_t block_size = 1 << 20;
};

struct Metrics {
  uint64_t examples = 0;
  uint64_t lines = 0;  // input lines, i.e. output lines
  uint64_t bytes = 0;  // input bytes (decompressed)
  uint64_t labelled = 0;
  SkippedLines skipped;  // malformed lines (skip_errors)
  // NaN when not applicable.
  double logloss, accuracy, auc, rmse, mae, quantile_loss;
  // "N examples: logloss X, accuracy Y, AUC Z" (only what applies).
  std::string text() const;
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
  std::vector<float> pred, score;  // per example: what text shows, the raw score
};

// Scores every line of `block` with `model`, replacing what `out` held:
// out.text is byte for byte what predict() writes for these lines (the one
// implementation behind grist-predict and grist-serve). `parser` must have
// been made from prediction_parse_options(model, ...); it is used by one
// thread at a time. A malformed line throws grist::Error(*block.source,
// LINE, hint(message)) (message alone without a hint) unless skip_errors,
// which counts it in out.errors and gives it an empty output line.
void score_block(const Model& model, Parser& parser, const Block& block, bool skip_errors,
                 ScoredBlock& out,
                 const std::function<std::string(const std::string&)>& hint = {});

// Metrics of predictions against labels (exposed for tests). `pred` is
// what predict() prints; `score` the raw score (for AUC).
Metrics compute_metrics(const ModelOptions& o, const std::vector<float>& label,
                        const std::vector<float>& pred, const std::vector<float>& score,
                        const std::vector<float>& weight);

// Area under the ROC curve of scores for binary labels (> 0 positive);
// ties count one half. NaN when one class is absent.
double auc(const std::vector<float>& label, const std::vector<float>& score);

}  // namespace grist::sgd
