// Loss functions of grist-train-sgd: value and derivative with respect to
// the prediction p (the linear score w.x + bias).
//
//   logistic  log(1 + exp(-y p)),     y in {-1, +1}
//   squared   (p - y)^2
//   hinge     max(0, 1 - y p),         y in {-1, +1}
//   quantile  tau (y - p) if y >= p, else (1 - tau)(p - y)
#pragma once

#include <cmath>
#include <optional>
#include <string_view>

namespace grist::sgd {

enum class Loss { logistic, squared, hinge, quantile };

inline const char* loss_name(Loss l) {
  switch (l) {
    case Loss::logistic: return "logistic";
    case Loss::squared: return "squared";
    case Loss::hinge: return "hinge";
    case Loss::quantile: return "quantile";
  }
  return "?";
}

inline std::optional<Loss> parse_loss_name(std::string_view s) {
  if (s == "logistic") return Loss::logistic;
  if (s == "squared") return Loss::squared;
  if (s == "hinge") return Loss::hinge;
  if (s == "quantile") return Loss::quantile;
  return std::nullopt;
}

// Labels are binary (-1/+1) for these losses.
inline bool binary_loss(Loss l) { return l == Loss::logistic || l == Loss::hinge; }

inline double loss_value(Loss l, double p, double y, double tau) {
  switch (l) {
    case Loss::logistic: {
      double z = -y * p;  // log(1 + e^z), stable
      return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
    }
    case Loss::squared: return (p - y) * (p - y);
    case Loss::hinge: return std::max(0.0, 1 - y * p);
    case Loss::quantile: {
      double r = y - p;
      return r >= 0 ? tau * r : (tau - 1) * r;
    }
  }
  return 0;
}

// dL/dp.
inline double loss_derivative(Loss l, double p, double y, double tau) {
  switch (l) {
    case Loss::logistic: {
      double yp = y * p;  // -y / (1 + e^{yp})
      return yp > 0 ? -y * std::exp(-yp) / (1 + std::exp(-yp)) : -y / (1 + std::exp(yp));
    }
    case Loss::squared: return 2 * (p - y);
    case Loss::hinge: return y * p < 1 ? -y : 0.0;
    case Loss::quantile: {
      double r = y - p;
      return r > 0 ? -tau : (r < 0 ? 1 - tau : 0.0);
    }
  }
  return 0;
}

// The probability of the positive label under logistic loss.
inline double sigmoid(double p) {
  return p >= 0 ? 1 / (1 + std::exp(-p)) : std::exp(p) / (1 + std::exp(p));
}

}  // namespace grist::sgd
