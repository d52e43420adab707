#include "grist/sgd/predict.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/pipeline.hpp"

namespace grist::sgd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Item {
  Block block;
  Examples ex;
  ErrorLog errors;
  std::string text;
  std::vector<float> pred, score;
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

Metrics predict(const Model& model, const PredictOptions& opts, Sink& out) {
  const ModelOptions& mo = model.options();
  ParseOptions po = mo.parse_options();
  po.require_label = false;
  po.keep_tags = true;
  BlockReader reader(opts.inputs, opts.block_size);
  auto first = std::make_unique<Item>();
  bool have_first = reader.next(first->block);
  if (opts.format) {
    po.format = *opts.format;
  } else if (have_first) {
    if (auto f = sniff_format(first->block.view().substr(0, 1 << 16))) po.format = *f;
  }
  tbb::enumerable_thread_specific<std::unique_ptr<Parser>> parsers;
  std::vector<std::pair<float, float>> scored;  // (label, score) of labelled examples
  std::vector<float> labels, preds, scores, weights;
  Metrics m;
  m.logloss = m.accuracy = m.auc = m.rmse = m.mae = m.quantile_loss = kNaN;

  auto work = [&](Item& it) {
    auto& parser = parsers.local();
    if (!parser) parser = std::make_unique<Parser>(po);
    it.ex.clear();
    it.errors = ErrorLog{};
    parser->parse_block(it.block, it.ex, opts.skip_errors ? &it.errors : nullptr);
    it.text.clear();
    it.pred.resize(it.ex.size());
    it.score.resize(it.ex.size());
    char buf[64];
    const int K = model.k();
    for (size_t i = 0; i < it.ex.size(); ++i) {
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
        it.pred[i] = static_cast<float>(best);
        it.score[i] = static_cast<float>(bs);
        e = std::to_chars(buf, buf + sizeof buf, best + mo.class_base).ptr;
      } else {
        double s = model.score(idx, val, nf, 0);
        float p = static_cast<float>(mo.loss == Loss::logistic ? sigmoid(s) : s);
        it.pred[i] = p;
        it.score[i] = static_cast<float>(s);
        e = std::to_chars(buf, buf + sizeof buf, p).ptr;
      }
      it.text.append(buf, e);
      if (!it.ex.tag_end.empty()) {
        uint32_t t0 = i ? it.ex.tag_end[i - 1] : 0, t1 = it.ex.tag_end[i];
        if (t1 > t0) {
          it.text += ' ';
          it.text.append(it.ex.tags, t0, t1 - t0);
        }
      }
      it.text += '\n';
    }
  };
  auto finish = [&](Item& it) {
    out.write(it.text);
    m.examples += it.ex.size();
    if (it.errors.skipped) {
      if (m.skipped == 0) m.first_skipped = it.errors.first;
      m.skipped += it.errors.skipped;
    }
    if (!opts.metrics) return;
    for (size_t i = 0; i < it.ex.size(); ++i) {
      if (std::isnan(it.ex.label[i])) continue;
      labels.push_back(it.ex.label[i]);
      preds.push_back(it.pred[i]);
      scores.push_back(it.score[i]);
      weights.push_back(it.ex.weight[i]);
    }
  };

  if (have_first) {
    // The first block, read to sniff the format, goes through first.
    auto produce = [&](Item& it) {
      if (first) {
        std::swap(it, *first);
        first.reset();
        return true;
      }
      return reader.next(it.block);
    };
    ordered_pipeline<Item>(opts.threads, produce, work, finish);
  }
  if (opts.metrics) {
    Metrics c = compute_metrics(mo, labels, preds, scores, weights);
    c.examples = m.examples;
    c.skipped = m.skipped;
    c.first_skipped = m.first_skipped;
    m = c;
  }
  return m;
}

}  // namespace grist::sgd
