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
#include "grist/json/json_write.hpp"

namespace grist::sgd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Item {
  Block block;
  ScoredBlock s;
};

// "0.123456", or "-" for NaN.
std::string fixed6(double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

// The shortest text that reads back as `v` ("12" for a count).
std::string shortest(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void pad_right(std::string& s, const std::string& v, size_t width) {
  s += v;
  if (v.size() < width) s.append(width - v.size(), ' ');
}
void pad_left(std::string& s, const std::string& v, size_t width) {
  s += ' ';
  if (v.size() < width) s.append(width - v.size(), ' ');
  s += v;
}

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

OutputKind default_output(const ModelOptions& mo) {
  if (mo.classes > 0) return OutputKind::label;
  return mo.loss == Loss::logistic ? OutputKind::prob : OutputKind::score;
}

ScoreOptions score_options(const ModelOptions& mo, const OutputOptions& o,
                           const OutputSpelling& sp) {
  const bool oaa = mo.classes > 0;
  const bool binary = !oaa && binary_loss(mo.loss);
  const bool classifier = oaa || binary;
  const bool logistic = mo.loss == Loss::logistic;
  const std::string loss = loss_name(mo.loss);
  const std::string model = oaa ? "a " + loss + " --oaa model" : "a " + loss + " model";
  auto out = [&](const char* v) { return sp.output + sp.separator + v; };
  ScoreOptions so;
  so.kind = o.kind ? *o.kind : o.top_k > 0 ? OutputKind::prob : default_output(mo);
  if (o.top_k > 0 && !classifier) {
    throw UsageError(sp.top_k + " needs classes (logistic or hinge loss, or --oaa); " + model +
                     " predicts a number");
  }
  if (so.kind == OutputKind::prob && !logistic) {
    throw UsageError((o.top_k > 0 && !o.kind ? sp.top_k + " gives" : out("prob") + " is") +
                     " probabilities, which need a logistic model (this is " + model + "): " +
                     (classifier ? (o.top_k > 0 ? out("label") + " with " + sp.top_k +
                                                      " gives the names alone"
                                                : "use " + out("label") + " or " + out("score"))
                                 : "use " + out("score")));
  }
  if (so.kind == OutputKind::label && !classifier) {
    throw UsageError(out("label") + " needs a classifier (logistic or hinge loss, or --oaa); " +
                     model + " predicts a number: use " + out("score"));
  }
  if (o.top_k > 0) {
    if (so.kind == OutputKind::score) {
      throw UsageError(sp.top_k + " writes classes with probabilities (" + out("prob") +
                       ") or names alone (" + out("label") + "), not scores");
    }
    so.top_k = std::min(o.top_k, oaa ? mo.classes : 2);
  }
  so.threshold = binary ? (logistic ? 0.5 : 0.0) : std::numeric_limits<double>::quiet_NaN();
  if (o.threshold) {
    if (!binary) {
      throw UsageError(sp.threshold + " needs a binary model (logistic or hinge loss, without "
                       "--oaa); this is " + model);
    }
    if (o.top_k > 0) {
      throw UsageError(sp.threshold + " and " + sp.top_k + ": " + sp.top_k +
                       " ranks the classes by probability, whatever the threshold");
    }
    if (logistic && !(*o.threshold >= 0 && *o.threshold <= 1)) {
      throw UsageError(sp.threshold + sp.separator + shortest(*o.threshold) +
                       ": a logistic model's threshold is a probability, 0 to 1");
    }
    so.threshold = *o.threshold;
  }
  so.probabilities = oaa && logistic && so.kind == OutputKind::prob;
  return so;
}

void MetricInputs::add(const ScoredBlock& s, size_t i) {
  // Several labels (fastText): the prediction is right when it is any of
  // them, as fastText's precision at 1 counts it; it then stands for that
  // label. Otherwise the first label is the truth.
  const int predicted = s.cls[i];
  const bool any = !s.ex.more_end.empty() && predicted >= 0 && s.ex.has_class(i, predicted);
  label.push_back(any ? static_cast<float>(predicted) : s.ex.label[i]);
  weight.push_back(s.ex.weight[i]);
  score.push_back(s.score[i]);
  prob.push_back(s.prob[i]);
  cls.push_back(s.cls[i]);
}

Metrics compute_metrics(const ModelOptions& o, const MetricInputs& in, double threshold) {
  Metrics m;
  m.logloss = m.accuracy = m.auc = m.rmse = m.mae = m.quantile_loss = kNaN;
  m.loss = o.loss;
  m.oaa = o.classes > 0;
  m.threshold = threshold;
  m.labelled = in.label.size();
  const bool classifier = m.oaa || binary_loss(o.loss);
  const int C = m.oaa ? o.classes : classifier ? 2 : 0;
  for (int k = 0; k < C; ++k) m.class_names.push_back(o.class_name(k));
  m.confusion.assign(size_t(C) * C, 0.0);
  double n = 0, ll = 0, correct = 0, se = 0, ae = 0, ql = 0;
  for (size_t i = 0; i < in.label.size(); ++i) {
    double w = in.weight[i], y = in.label[i];
    n += w;
    if (classifier) {
      int t = m.oaa ? static_cast<int>(y) : y > 0;
      int p = in.cls[i];
      m.confusion[size_t(t) * C + p] += w;
      correct += w * (t == p);
      if (o.loss == Loss::logistic) {
        double q = std::clamp(double(in.prob[i]), 1e-15, 1 - 1e-15);
        ll -= w * (m.oaa || y > 0 ? std::log(q) : std::log(1 - q));
      }
    } else {
      double p = in.score[i];
      se += w * (p - y) * (p - y);
      ae += w * std::fabs(p - y);
      ql += w * loss_value(Loss::quantile, p, y, o.quantile_tau);
    }
  }
  m.weight = n;
  if (classifier) {
    std::vector<double> truth(C, 0.0), predicted(C, 0.0);
    double tp_sum = 0;
    for (int t = 0; t < C; ++t) {
      for (int p = 0; p < C; ++p) truth[t] += m.confusion[size_t(t) * C + p],
                                  predicted[p] += m.confusion[size_t(t) * C + p];
      tp_sum += m.confusion[size_t(t) * C + t];
    }
    ClassScores macro{0, 0, 0, n}, weighted{0, 0, 0, n};
    int present = 0;
    for (int k = 0; k < C; ++k) {
      ClassScores c{kNaN, kNaN, kNaN, truth[k]};
      if (truth[k] > 0 || predicted[k] > 0) {
        double tp = m.confusion[size_t(k) * C + k];
        c.precision = predicted[k] > 0 ? tp / predicted[k] : 0;
        c.recall = truth[k] > 0 ? tp / truth[k] : 0;
        c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0;
        ++present;
        macro.precision += c.precision, macro.recall += c.recall, macro.f1 += c.f1;
        weighted.precision += truth[k] * c.precision, weighted.recall += truth[k] * c.recall,
            weighted.f1 += truth[k] * c.f1;
      }
      m.per_class.push_back(c);
    }
    if (present > 0) {
      macro.precision /= present, macro.recall /= present, macro.f1 /= present;
    } else {
      macro.precision = macro.recall = macro.f1 = kNaN;
    }
    if (n > 0) {
      weighted.precision /= n, weighted.recall /= n, weighted.f1 /= n;
    } else {
      weighted.precision = weighted.recall = weighted.f1 = kNaN;
    }
    double micro = n > 0 ? tp_sum / n : kNaN;
    m.macro = macro;
    m.weighted = weighted;
    m.micro = ClassScores{micro, micro, micro, n};
  } else {
    m.macro = m.micro = m.weighted = ClassScores{kNaN, kNaN, kNaN, n};
  }
  if (in.label.empty() || !(n > 0)) return m;
  if (classifier) {
    m.accuracy = correct / n;
    if (o.loss == Loss::logistic) m.logloss = ll / n;
    if (!m.oaa) m.auc = auc(in.label, in.score);
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
  if (!oaa) add("logloss", logloss);
  add("accuracy", accuracy);
  add("AUC", auc);
  add("RMSE", rmse);
  add("MAE", mae);
  add("quantile loss", quantile_loss);
  return s;
}


std::string Metrics::table() const {
  if (!(weight > 0)) return "no labelled examples: no metrics\n";
  if (class_names.empty()) return "";
  std::string s;
  if (oaa && !std::isnan(logloss)) s += "multiclass log loss " + fixed6(logloss) + "\n";
  size_t w0 = std::string("weighted avg").size();
  for (const auto& n : class_names) w0 = std::max(w0, n.size());
  const size_t w = 9;
  pad_right(s, "class", w0);
  for (const char* h : {"precision", "recall", "f1", "support"}) pad_left(s, h, w);
  s += '\n';
  auto row = [&](const std::string& name, const ClassScores& c) {
    pad_right(s, name, w0);
    pad_left(s, fixed6(c.precision), w);
    pad_left(s, fixed6(c.recall), w);
    pad_left(s, fixed6(c.f1), w);
    pad_left(s, shortest(c.support), w);
    s += '\n';
  };
  for (size_t k = 0; k < class_names.size(); ++k) row(class_names[k], per_class[k]);
  row("macro avg", macro);
  row("weighted avg", weighted);
  row("micro avg", micro);
  s += "confusion matrix (rows: true class, columns: predicted class)\n";
  const size_t C = class_names.size();
  std::vector<size_t> cw(C);
  for (size_t p = 0; p < C; ++p) {
    cw[p] = class_names[p].size();
    for (size_t t = 0; t < C; ++t) cw[p] = std::max(cw[p], shortest(confusion[t * C + p]).size());
  }
  pad_right(s, "", w0);
  for (size_t p = 0; p < C; ++p) pad_left(s, class_names[p], cw[p]);
  s += '\n';
  for (size_t t = 0; t < C; ++t) {
    pad_right(s, class_names[t], w0);
    for (size_t p = 0; p < C; ++p) pad_left(s, shortest(confusion[t * C + p]), cw[p]);
    s += '\n';
  }
  return s;
}

std::string Metrics::json() const {
  auto num = [](double v) { return json_number(v); };
  auto scores = [&](const ClassScores& c) {
    if (std::isnan(c.precision)) return std::string("null");
    return "{\"precision\":" + num(c.precision) + ",\"recall\":" + num(c.recall) +
           ",\"f1\":" + num(c.f1) + ",\"support\":" + num(c.support) + "}";
  };
  std::string j = "{\"examples\":" + std::to_string(examples) +
                  ",\"labelled\":" + std::to_string(labelled) + ",\"weight\":" + num(weight) +
                  ",\"lines\":" + std::to_string(lines) +
                  ",\"skipped\":" + std::to_string(skipped.count) +
                  ",\"loss\":" + json_string(loss_name(loss)) +
                  ",\"oaa\":" + (oaa ? "true" : "false") + ",\"threshold\":" + num(threshold) +
                  ",\"logloss\":" + num(logloss) + ",\"accuracy\":" + num(accuracy) +
                  ",\"auc\":" + num(auc) + ",\"rmse\":" + num(rmse) + ",\"mae\":" + num(mae) +
                  ",\"quantile_loss\":" + num(quantile_loss) + ",\"classes\":[";
  for (size_t k = 0; k < class_names.size(); ++k) {
    const ClassScores& c = per_class[k];
    j += std::string(k ? "," : "") + "{\"name\":" + json_string(class_names[k]) +
         ",\"precision\":" + num(c.precision) + ",\"recall\":" + num(c.recall) +
         ",\"f1\":" + num(c.f1) + ",\"support\":" + num(c.support) + "}";
  }
  j += "],\"macro\":" + scores(macro) + ",\"weighted\":" + scores(weighted) +
       ",\"micro\":" + scores(micro) + ",\"confusion\":";
  if (class_names.empty()) {
    j += "null";
  } else {
    const size_t C = class_names.size();
    j += '[';
    for (size_t t = 0; t < C; ++t) {
      j += t ? ",[" : "[";
      for (size_t p = 0; p < C; ++p) j += (p ? "," : "") + num(confusion[t * C + p]);
      j += ']';
    }
    j += ']';
  }
  j += "}\n";
  return j;
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
                 const ScoreOptions& so, ScoredBlock& it,
                 const std::function<std::string(const std::string&)>& hint) {
  const ModelOptions& mo = model.options();
  it.ex.clear();
  it.errors = SkippedLines{};
  it.text.clear();
  it.score.clear();
  it.prob.clear();
  it.cls.clear();
  const int K = model.k();
  const bool oaa = mo.classes > 0;
  const bool logistic = mo.loss == Loss::logistic;
  const bool binary = !oaa && binary_loss(mo.loss);
  const bool probs = so.probabilities || (oaa && logistic && so.top_k > 0);
  std::vector<double> s(K), p(K);
  std::vector<int> order(K);
  // The class names, once per block (label output and --top-k).
  std::vector<std::string> names;
  if (so.kind == OutputKind::label || so.top_k > 0) {
    for (int k = 0; k < (oaa ? K : 2); ++k) names.push_back(mo.class_name(k));
  }
  auto number = [&](float v) {
    char buf[32];
    it.text.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  };
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
    if (oaa) {
      int best = 0;
      double bs = -std::numeric_limits<double>::infinity();
      for (int k = 0; k < K; ++k) {
        s[k] = model.score(idx, val, nf, k);
        if (s[k] > bs) bs = s[k], best = k;
      }
      // VW's --oaa --probabilities: each class's sigmoid, normalised to sum 1.
      if (probs) {
        double sum = 0;
        for (int k = 0; k < K; ++k) sum += p[k] = sigmoid(s[k]);
        for (int k = 0; k < K; ++k) p[k] /= sum;
      }
      const float y = it.ex.label[i];
      it.score.push_back(static_cast<float>(bs));
      it.prob.push_back(probs && !std::isnan(y) ? static_cast<float>(p[static_cast<int>(y)])
                                                : std::numeric_limits<float>::quiet_NaN());
      it.cls.push_back(best);
      if (so.top_k > 0) {
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + so.top_k, order.end(),
                          [&](int a, int c) { return s[a] > s[c] || (s[a] == s[c] && a < c); });
        for (int j = 0; j < so.top_k; ++j) {
          if (j) it.text += ' ';
          it.text += names[order[j]];
          if (so.kind == OutputKind::prob) {
            it.text += ' ';
            number(static_cast<float>(p[order[j]]));
          }
        }
      } else if (so.kind == OutputKind::label) {
        it.text += names[best];
      } else if (so.kind == OutputKind::prob) {
        number(static_cast<float>(p[best]));
      } else {
        number(static_cast<float>(bs));
      }
    } else {
      const double sc = model.score(idx, val, nf, 0);
      const float sf = static_cast<float>(sc);
      const float pf = logistic ? static_cast<float>(sigmoid(sc))
                                : std::numeric_limits<float>::quiet_NaN();
      it.score.push_back(sf);
      it.prob.push_back(pf);
      int c = -1;
      if (binary) c = (logistic ? pf >= so.threshold : sf >= so.threshold) ? 1 : 0;
      it.cls.push_back(c);
      if (so.top_k > 0) {
        // The more likely class first (the positive one on a tie).
        const bool pos_first = logistic ? pf >= 0.5f : sf >= 0;
        for (int j = 0; j < so.top_k; ++j) {
          const int k = (j == 0) == pos_first ? 1 : 0;
          if (j) it.text += ' ';
          it.text += names[k];
          if (so.kind == OutputKind::prob) {
            it.text += ' ';
            number(k ? pf : static_cast<float>(1 - sigmoid(sc)));
          }
        }
      } else if (so.kind == OutputKind::label) {
        it.text += names[c];
      } else if (so.kind == OutputKind::prob) {
        number(pf);
      } else {
        number(sf);
      }
    }
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

void score_block(const Model& model, Parser& parser, const Block& block, bool skip_errors,
                 ScoredBlock& out, const std::function<std::string(const std::string&)>& hint) {
  score_block(model, parser, block, skip_errors, score_options(model.options(), {}), out, hint);
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
  ScoreOptions so = score_options(mo, opts.output);
  // The multiclass log loss needs the probability of each example's label.
  if (opts.metrics && mo.classes > 0 && mo.loss == Loss::logistic) so.probabilities = true;
  tbb::enumerable_thread_specific<std::unique_ptr<Parser>> parsers;
  MetricInputs inputs;
  Metrics m;
  m.logloss = m.accuracy = m.auc = m.rmse = m.mae = m.quantile_loss = kNaN;

  auto work = [&](Item& it) {
    auto& parser = parsers.local();
    if (!parser) parser = std::make_unique<Parser>(po);
    score_block(model, *parser, it.block, opts.skip_errors, so, it.s, with_hint);
  };
  auto finish = [&](Item& it) {
    out.write(it.s.text);
    m.examples += it.s.ex.size();
    m.lines += it.block.lines;
    m.skipped.add(it.s.errors);
    if (!opts.metrics) return;
    for (size_t i = 0; i < it.s.ex.size(); ++i) {
      if (!std::isnan(it.s.ex.label[i])) inputs.add(it.s, i);
    }
  };

  reader.set_gauge(opts.gauge);
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
    Metrics c = compute_metrics(mo, inputs, so.threshold);
    c.examples = m.examples;
    c.lines = m.lines;
    c.bytes = m.bytes;
    c.skipped = m.skipped;
    m = c;
  }
  return m;
}

}  // namespace grist::sgd
