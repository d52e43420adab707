#include "grist/sgd/predict.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/peek_block.hpp"
#include "grist/io/pipeline.hpp"

namespace grist::sgd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Item {
  Block block;
  ScoredBlock s;
};
}  // namespace

double auc(const std::vector<float>& label, const std::vector<float>& score) {
  std::vector<uint32_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return score[a] < score[b]; });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && score[order[j + 1]] == score[order[i]]) ++j;
    double avg = (i + j) / 2.0 + 1;
    for (size_t k = i; k <= j; ++k) {
      if (label[order[k]] > 0) rank_sum += avg, ++pos;
      else ++neg;
    }
    i = j + 1;
  }
  if (pos == 0 || neg == 0) return kNaN;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

Metrics compute_metrics(const ModelOptions& o, const std::vector<float>& label,
                        const std::vector<float>& pred, const std::vector<float>& score,
                        const std::vector<float>& weight) {
  Metrics m;
  m.logloss = m.accuracy = m.auc = m.rmse = m.mae = m.quantile_loss = kNaN;
  m.labelled = label.size();
  if (label.empty()) return m;
  double n = 0, ll = 0, correct = 0, se = 0, ae = 0, ql = 0;
  for (size_t i = 0; i < label.size(); ++i) {
    double w = weight[i], y = label[i], p = pred[i];
    n += w;
    if (o.classes > 0) {
      correct += w * (p == y);
    } else if (o.loss == Loss::logistic) {
      double q = std::clamp(p, 1e-15, 1 - 1e-15);
      ll -= w * (y > 0 ? std::log(q) : std::log(1 - q));
      correct += w * ((p >= 0.5) == (y > 0));
    } else if (o.loss == Loss::hinge) {
      correct += w * ((p >= 0) == (y > 0));
    } else {
      se += w * (p - y) * (p - y);
      ae += w * std::fabs(p - y);
      ql += w * loss_value(Loss::quantile, p, y, o.quantile_tau);
    }
  }
  if (o.classes > 0) {
    m.accuracy = correct / n;
  } else if (binary_loss(o.loss)) {
    if (o.loss == Loss::logistic) m.logloss = ll / n;
    m.accuracy = correct / n;
    m.auc = auc(label, score);
  } else {
    m.rmse = std::sqrt(se / n);
    m.mae = ae / n;
    if (o.loss == Loss::quantile) m.quantile_loss = ql / n;
  }
  return m;
}

std::string Metrics::text() const {
  std::string s = std::to_string(examples) + " examples";
  if (labelled != examples) s += " (" + std::to_string(labelled) + " labelled)";
  char buf[64];
  auto add = [&](const char* name, double v) {
    if (std::isnan(v)) return;
    std::snprintf(buf, sizeof buf, "%s %s %.6f", s.back() == 's' || s.back() == ')' ? ":" : ",",
                  name, v);
    s += buf;
  };
  add("logloss", logloss);
  add("accuracy", accuracy);
  add("AUC", auc);
  add("RMSE", rmse);
  add("MAE", mae);
  add("quantile loss", quantile_loss);
  return s;
}

ParseOptions prediction_parse_options(const Model& model, std::optional<Format> format) {
  const ModelOptions& mo = model.options();
  ParseOptions po = mo.parse_options();
  po.require_label = false;
  po.keep_tags = true;
  if (format && *format != mo.format) {
    if (!format_reads_as(mo.format, *format)) {
      throw UsageError(std::string("--format ") + format_name(*format) +
                       ": the model was trained on " + format_name(mo.format) +
                       " input, and reads only that" +
                       (mo.format == Format::svmlight ? " (or vw)" : ""));
    }
    po.format = *format;
  }
  return po;
}

// One output line per input line, whatever the line holds: the prediction
// of its example, or nothing for a blank line, a comment or (--on-error
// skip) a malformed example, so that line n of the output is about line n
// of the input.
void score_block(const Model& model, Parser& parser, const Block& block, bool skip_errors,
                 ScoredBlock& it, const std::function<std::string(const std::string&)>& hint) {
  const ModelOptions& mo = model.options();
  it.ex.clear();
  it.errors = SkippedLines{};
  it.text.clear();
  it.pred.clear();
  it.score.clear();
  char buf[64];
  const int K = model.k();
  uint64_t line_no = block.first_line;
  for_each_line(block, [&](std::string_view line) {
    const size_t i = it.ex.size();
    try {
      parser.parse_line(line, it.ex, line_no);
    } catch (const std::invalid_argument& e) {
      if (!skip_errors) throw Error(*block.source, line_no, hint ? hint(e.what()) : e.what());
      it.errors.add_lazily([&] {
        return escape_bytes(*block.source, SIZE_MAX) + ":" + std::to_string(line_no) + ": " +
               e.what();
      });
    }
    ++line_no;
    if (it.ex.size() == i) {  // no example on this line
      it.text += '\n';
      return;
    }
    const uint32_t b = it.ex.begin[i];
    const size_t nf = it.ex.begin[i + 1] - b;
    const uint32_t* idx = it.ex.index.data() + b;
    const float* val = it.ex.value.data() + b;
    char* e;
    if (mo.classes > 0) {
      int best = 0;
      double bs = -std::numeric_limits<double>::infinity();
      for (int k = 0; k < K; ++k) {
        double s = model.score(idx, val, nf, k);
        if (s > bs) bs = s, best = k;
      }
      it.pred.push_back(static_cast<float>(best));
      it.score.push_back(static_cast<float>(bs));
      e = std::to_chars(buf, buf + sizeof buf, best + mo.class_base).ptr;
    } else {
      double s = model.score(idx, val, nf, 0);
      float p = static_cast<float>(mo.loss == Loss::logistic ? sigmoid(s) : s);
      it.pred.push_back(p);
      it.score.push_back(static_cast<float>(s));
      e = std::to_chars(buf, buf + sizeof buf, p).ptr;
    }
    it.text.append(buf, e);
    if (it.ex.tag_end.size() > i) {  // VW
      uint32_t t0 = i ? it.ex.tag_end[i - 1] : 0, t1 = it.ex.tag_end[i];
      if (t1 > t0) {
        it.text += ' ';
        it.text.append(it.ex.tags, t0, t1 - t0);
      }
    }
    it.text += '\n';
  });
}

Metrics predict(const Model& model, const PredictOptions& opts, Sink& out) {
  const ModelOptions& mo = model.options();
  const ParseOptions po = prediction_parse_options(model, opts.format);
  BlockReader reader(opts.inputs, opts.block_size);
  PeekBlockReader input(reader);
  // What the input looks like: only to explain a failure to parse it.
  std::optional<Format> looks;
  if (const Block* first = input.first()) looks = sniff_format(first->view().substr(0, 1 << 16));
  auto with_hint = [&](const std::string& message) {
    if (!looks || *looks == po.format) return message;
    std::string hint = std::string(" (the input looks like ") + format_name(*looks);
    if (opts.format) {
      return message + hint + ", and --format " + format_name(po.format) + " was given)";
    }
    return message + hint + "; the model was trained on " + format_name(mo.format) +
           " input and reads only that" + (mo.format == Format::svmlight ? " or vw)" : ")");
  };
  tbb::enumerable_thread_specific<std::unique_ptr<Parser>> parsers;
  std::vector<float> labels, preds, scores, weights;
  Metrics m;
  m.logloss = m.accuracy = m.auc = m.rmse = m.mae = m.quantile_loss = kNaN;

  auto work = [&](Item& it) {
    auto& parser = parsers.local();
    if (!parser) parser = std::make_unique<Parser>(po);
    score_block(model, *parser, it.block, opts.skip_errors, it.s, with_hint);
  };
  auto finish = [&](Item& it) {
    out.write(it.s.text);
    m.examples += it.s.ex.size();
    m.lines += it.block.lines;
    m.skipped.add(it.s.errors);
    if (!opts.metrics) return;
    for (size_t i = 0; i < it.s.ex.size(); ++i) {
      if (std::isnan(it.s.ex.label[i])) continue;
      labels.push_back(it.s.ex.label[i]);
      preds.push_back(it.s.pred[i]);
      scores.push_back(it.s.score[i]);
      weights.push_back(it.s.ex.weight[i]);
    }
  };

  if (input.first()) {
    ordered_pipeline<Item>(opts.threads, [&](Item& it) { return input.next(it.block); }, work,
                           finish);
  }
  m.bytes = reader.bytes_read();
  if (m.examples == 0 && m.skipped.count > 0) {
    throw Error(with_hint("no valid example in the input (" + std::to_string(m.skipped.count) +
                          " malformed lines skipped; first: " + m.skipped.first + ")"));
  }
  if (opts.metrics) {
    Metrics c = compute_metrics(mo, labels, preds, scores, weights);
    c.examples = m.examples;
    c.lines = m.lines;
    c.bytes = m.bytes;
    c.skipped = m.skipped;
    m = c;
  }
  return m;
}

}  // namespace grist::sgd
