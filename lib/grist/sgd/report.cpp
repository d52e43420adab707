#include "grist/sgd/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace grist::sgd {

namespace {

const char* plural_es(size_t n) { return n == 1 ? "" : "es"; }

}  // namespace

void ProgressTable::block(const Examples& ex, const uint32_t* order, const BlockResult& r) {
  if (!lines_ || r.ex_loss.empty()) return;
  for (size_t k = 0; k < ex.size(); ++k) {
    float l = r.ex_loss[k];
    if (std::isnan(l)) continue;
    size_t i = order ? order[k] : k;
    float w = ex.weight[i];
    sum_ += l * w, sw_ += w, since_ += l * w, since_w_ += w;
    if (++count_ == next_) {
      line(ex.label[i], r.ex_pred[k], ex.begin[i + 1] - ex.begin[i]);
      next_ *= 2;
    }
  }
}

void ProgressTable::line(float label, float pred, size_t features) {
  if (!header_) {
    log_("average    since        example   current    current  features");
    log_("loss       last         counter     label    predict");
    header_ = true;
  }
  char buf[160];
  bool oaa = o_.classes > 0;
  if (!o_.class_names.empty()) {  // classes by name (cut to the column)
    auto name = [&](int k) { return o_.class_name(k).substr(0, 10); };
    std::string l = name(oaa ? static_cast<int>(label) : label > 0);
    char p[32];
    if (!oaa) std::snprintf(p, sizeof p, "%.4g", pred);
    std::snprintf(buf, sizeof buf, "%-10.6f %-10.6f %9llu %9s %10s %9zu", sum_ / std::max(sw_, 1e-300),
                  since_ / std::max(since_w_, 1e-300), static_cast<unsigned long long>(count_),
                  l.c_str(), oaa ? name(static_cast<int>(pred)).c_str() : p,
                  features + (o_.bias ? 1 : 0));
    log_(buf);
    since_ = since_w_ = 0;
    return;
  }
  std::snprintf(buf, sizeof buf, "%-10.6f %-10.6f %9llu %9.4g %10.4g %9zu", sum_ / std::max(sw_, 1e-300),
                since_ / std::max(since_w_, 1e-300), static_cast<unsigned long long>(count_),
                oaa ? label + o_.class_base : label, oaa ? pred + o_.class_base : pred,
                features + (o_.bias ? 1 : 0));
  log_(buf);
  since_ = since_w_ = 0;
}

std::string pass_line(int p, const PassReport& pass) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "pass %d: %llu examples, %s %.6f", p,
                        static_cast<unsigned long long>(pass.examples),
                        p == 1 ? "progressive loss" : "training loss",
                        pass.train_loss / std::max(pass.train_weight, 1e-300));
  if (pass.holdout_weight > 0) {
    std::snprintf(buf + n, sizeof buf - n, ", held-out loss %.6f",
                  pass.holdout_loss / pass.holdout_weight);
  }
  return buf;
}

std::vector<std::string> report_lines(const TrainReport& rep, const TrainOptions& opts,
                                      const ModelOptions& model) {
  std::vector<std::string> lines;
  const PassReport& last = rep.passes.back();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "grist-train-sgd: %llu examples (%llu features) in %zu pass%s, %.2f s, "
                "%.0f examples/s in pass 1; progressive loss %.6f%s",
                static_cast<unsigned long long>(rep.examples),
                static_cast<unsigned long long>(rep.features), rep.passes.size(),
                plural_es(rep.passes.size()), rep.seconds,
                rep.examples / std::max(rep.train_seconds_pass1, 1e-9),
                rep.passes[0].train_loss / std::max(rep.passes[0].train_weight, 1e-300),
                model.classes > 0 ? " (0/1 error)" : "");
  lines.emplace_back(buf);
  if (opts.holdout_every) {
    std::snprintf(buf, sizeof buf,
                  "grist-train-sgd: held out: lines %llu, %llu, ... of each input (%.3g%%%s; %llu "
                  "examples), never trained on; last held-out loss %.6f",
                  static_cast<unsigned long long>(opts.holdout_every),
                  static_cast<unsigned long long>(2 * opts.holdout_every),
                  100.0 / double(opts.holdout_every),
                  opts.holdout_by_default ? ", the default with several passes" : "",
                  static_cast<unsigned long long>(rep.holdout_examples),
                  last.holdout_loss / std::max(last.holdout_weight, 1e-300));
    lines.emplace_back(buf);
  } else {
    lines.emplace_back(opts.passes > 1
                           ? "grist-train-sgd: held out: nothing (--holdout-every 0)"
                           : "grist-train-sgd: held out: nothing (--holdout-every N to hold out)");
  }
  if (rep.passes.size() > 1 && rep.model_pass > 0) {
    const PassReport& m = rep.passes[rep.model_pass - 1];
    if (m.holdout_weight > 0) {
      std::snprintf(buf, sizeof buf,
                    "grist-train-sgd: model: from pass %d of %zu (%s held-out loss %.6f)",
                    rep.model_pass, rep.passes.size(),
                    rep.model_pass == int(rep.passes.size()) ? "the last, with the best"
                                                             : "the best",
                    m.holdout_loss / m.holdout_weight);
    } else {
      std::snprintf(buf, sizeof buf, "grist-train-sgd: model: from pass %d of %zu (the last)",
                    rep.model_pass, rep.passes.size());
    }
    lines.emplace_back(buf);
  }
  lines.push_back("grist-train-sgd: stopped: " + rep.stop_reason);
  return lines;
}

std::string updates_summary(const TrainReport& rep) {
  return std::to_string(rep.trained_examples) + " example updates in " +
         std::to_string(rep.passes.size()) + " pass" + plural_es(rep.passes.size());
}

}  // namespace grist::sgd
