#include "grist/sgd/model.hpp"


#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "grist/error.hpp"
#include "grist/sgd/hash.hpp"
#include "grist/sgd/model_file.hpp"

#ifndef GRIST_VERSION
#define GRIST_VERSION "0.0.0"
#endif

namespace grist::sgd {

const char* optimizer_name(Optimizer o) {
  switch (o) {
    case Optimizer::sgd: return "sgd";
    case Optimizer::adagrad: return "adagrad";
    case Optimizer::ftrl: return "ftrl";
  }
  return "?";
}

std::optional<Optimizer> parse_optimizer_name(std::string_view s) {
  if (s == "sgd") return Optimizer::sgd;
  if (s == "adagrad") return Optimizer::adagrad;
  if (s == "ftrl") return Optimizer::ftrl;
  return std::nullopt;
}

ParseOptions ModelOptions::parse_options() const {
  ParseOptions p;
  p.format = format;
  p.bits = bits;
  p.ngrams = ngrams;
  p.quadratic = quadratic;
  p.classes = classes;
  p.class_base = class_base;
  p.labels = classes > 0 ? LabelKind::multiclass
                         : (binary_loss(loss) ? LabelKind::binary : LabelKind::real);
  if (!class_names.empty()) {
    p.labels = LabelKind::named;
    p.class_names = class_names;
  }
  return p;
}

Model::Model(const ModelOptions& o, ModelState state)
    : o_(o),
      k_(o.k()),
      stride_(state == ModelState::with_optimizer ? o.stride() : 1),
      slots_(o.slots()) {
  if (o_.bits < 1 || o_.bits > 30) throw Error("-b must be between 1 and 30");
  if (slots_ * stride_ > kMaxModelFloats) throw Error("model too large: lower -b or --oaa");
  state_.reset(new std::atomic<float>[slots_ * stride_]());
}

namespace {

std::string fmt_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

void rescale_slot(Optimizer o, std::atomic<float>* slot, float old, float now) {
  const double r = double(old) / now;
  auto scale = [](std::atomic<float>& a, double by) {
    a.store(static_cast<float>(a.load(std::memory_order_relaxed) * by), std::memory_order_relaxed);
  };
  if (o == Optimizer::adagrad) {
    scale(slot[0], r);
    scale(slot[1], r * r);
  } else if (o == Optimizer::sgd) {
    scale(slot[0], r * r);
  }
}

std::string ModelOptions::class_name(int k) const {
  if (k >= 0 && size_t(k) < class_names.size()) return class_names[k];
  if (classes > 0) return std::to_string(k + class_base);
  return k > 0 ? "1" : "-1";
}

bool format_reads_as(Format model, Format input) {
  auto words = [](Format f) { return f == Format::text || f == Format::fasttext; };
  return input == model || (model == Format::svmlight && input == Format::vw) ||
         (words(model) && words(input));
}

std::string options_header(const ModelOptions& o) {
  std::string h;
  auto kv = [&](const char* k, const std::string& v) { h += k, h += '=', h += v, h += '\n'; };
  kv("grist_version", GRIST_VERSION);
  kv("hash", kHashName);
  kv("bits", std::to_string(o.bits));
  kv("loss", loss_name(o.loss));
  kv("quantile_tau", fmt_double(o.quantile_tau));
  kv("oaa", std::to_string(o.classes));
  kv("class_base", std::to_string(o.class_base));
  if (!o.class_names.empty()) {
    std::string names;
    for (const auto& n : o.class_names) names += (names.empty() ? "" : "\t") + n;
    kv("labels", names);
  }
  kv("bias", o.bias ? "1" : "0");
  kv("format", format_name(o.format));
  kv("ngrams", std::to_string(o.ngrams));
  std::string q;
  for (const auto& p : o.quadratic) q += (q.empty() ? "" : ",") + p;
  kv("quadratic", q);
  kv("link", o.classes > 0 ? "argmax" : (o.loss == Loss::logistic ? "logistic" : "identity"));
  kv("optimizer", optimizer_name(o.optimizer));
  kv("normalized", o.normalized ? "1" : "0");
  kv("learning_rate", fmt_double(o.learning_rate));
  kv("power_t", fmt_double(o.power_t));
  kv("initial_t", fmt_double(o.initial_t));
  kv("l1", fmt_double(o.l1));
  kv("l2", fmt_double(o.l2));
  kv("ftrl_beta", fmt_double(o.ftrl_beta));
  kv("examples_trained", std::to_string(o.examples_trained));
  kv("passes_trained", std::to_string(o.passes_trained));
  return h;
}

ModelOptions options_from_header(std::string_view header, const std::string& name) {
  std::map<std::string, std::string, std::less<>> kv;
  for (size_t i = 0; i < header.size();) {
    size_t nl = header.find('\n', i);
    if (nl == std::string_view::npos) nl = header.size();
    std::string_view line = header.substr(i, nl - i);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) kv[std::string(line.substr(0, eq))] = line.substr(eq + 1);
    i = nl + 1;
  }
  auto get = [&](const char* k) -> const std::string& {
    auto it = kv.find(k);
    if (it == kv.end()) throw Error(name, std::string("model header lacks '") + k + "'");
    return it->second;
  };
  auto num = [&](const char* k) {
    const std::string& v = get(k);
    double d;
    auto res = std::from_chars(v.data(), v.data() + v.size(), d);
    if (res.ec != std::errc()) throw Error(name, std::string("bad model header value for ") + k);
    return d;
  };
  // Integers of the header, range-checked before any conversion (a damaged
  // header must not reach an out-of-range cast).
  auto inum = [&](const char* k, double lo, double hi) {
    double d = num(k);
    if (!(d >= lo && d <= hi) || d != std::floor(d)) {
      throw Error(name, std::string("bad model header value for ") + k);
    }
    return d;
  };
  if (get("hash") != kHashName) throw Error(name, "model uses an unknown feature hash " + quote_input(get("hash")));
  ModelOptions o;
  o.bits = static_cast<int>(inum("bits", 1, 30));
  auto loss = parse_loss_name(get("loss"));
  if (!loss) throw Error(name, "model has an unknown loss " + quote_input(get("loss")));
  o.loss = *loss;
  o.quantile_tau = num("quantile_tau");
  o.classes = static_cast<int>(inum("oaa", 0, 100000));
  o.class_base = static_cast<int>(inum("class_base", -1e9, 1e9));
  if (auto it = kv.find("labels"); it != kv.end()) {
    const std::string& v = it->second;
    for (size_t i = 0; i <= v.size();) {
      size_t t = v.find('\t', i);
      if (t == std::string::npos) t = v.size();
      std::string n = v.substr(i, t - i);
      if (n.empty() || n.find('\r') != std::string::npos) {
        throw Error(name, "bad model header value for labels");
      }
      o.class_names.push_back(std::move(n));
      i = t + 1;
    }
    size_t want = o.classes > 0 ? size_t(o.classes) : 2;
    if (o.class_names.size() != want) {
      throw Error(name, "model header: " + std::to_string(o.class_names.size()) +
                            " labels for " + std::to_string(want) + " classes");
    }
  }
  o.bias = num("bias") != 0;
  auto fmt = parse_format_name(get("format"));
  if (!fmt) throw Error(name, "model has an unknown input format");
  o.format = *fmt;
  o.ngrams = static_cast<int>(inum("ngrams", 0, 1000));
  const std::string& q = get("quadratic");
  for (size_t i = 0; i < q.size();) {
    size_t c = q.find(',', i);
    if (c == std::string::npos) c = q.size();
    o.quadratic.push_back(q.substr(i, c - i));
    i = c + 1;
  }
  try {
    check_quadratic(o.quadratic);
  } catch (const UsageError&) {
    throw Error(name, "bad model header value for quadratic");
  }
  auto opt = parse_optimizer_name(get("optimizer"));
  if (!opt) throw Error(name, "model has an unknown optimizer");
  o.optimizer = *opt;
  o.normalized = num("normalized") != 0;
  o.learning_rate = num("learning_rate");
  o.power_t = num("power_t");
  o.initial_t = num("initial_t");
  o.l1 = num("l1");
  o.l2 = num("l2");
  o.ftrl_beta = num("ftrl_beta");
  o.examples_trained = static_cast<uint64_t>(inum("examples_trained", 0, 1.8e19));
  o.passes_trained = static_cast<uint64_t>(inum("passes_trained", 0, 1.8e19));
  return o;
}

std::string describe_slot(uint64_t slot, int k, int bits, int class_base,
                          const FeatureNames* names) {
  uint64_t f = slot / k;
  std::string s;
  if (f == (uint64_t(1) << bits)) {
    s = "the bias";
    if (k > 1) s += " (class " + std::to_string(slot % k + class_base) + ")";
    return s;
  }
  std::string_view name = names ? names->name(static_cast<uint32_t>(f)) : std::string_view();
  s = "feature ";
  if (!name.empty()) s += quote_input(name) + " ";
  s += "(index " + std::to_string(f);
  if (k > 1) s += ", class " + std::to_string(slot % k + class_base);
  return s + ")";
}

std::string describe_value(float v) {
  return std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf");
}

void Model::check_finite(const FeatureNames* names) const {
  if (names && names->size() != (uint64_t(1) << o_.bits)) names = nullptr;
  for (uint64_t i = 0; i < slots_; ++i) {
    for (int j = 0; j < stride_; ++j) {
      float v = state_[i * stride_ + j].load(std::memory_order_relaxed);
      if (std::isfinite(v)) continue;
      throw Error(std::string(j == 0 ? "the weight of " : "the optimizer state of ") +
                  describe_slot(i, k_, o_.bits, o_.class_base, names) + " is " +
                  describe_value(v) +
                  ": training diverged, and no model is written (a smaller --learning-rate, "
                  "--loss logistic, or inputs of a smaller range may help)");
    }
  }
}

void Model::write_readable(Sink& out, const FeatureNames* names) const {
  check_finite(names);
  std::string h = options_header(o_);
  if (names && names->size() != (uint64_t(1) << o_.bits)) {
    throw Error("feature names: table size differs from the model's -b");
  }
  h += k_ > 1 ? "columns=index\tclass\tweight" : "columns=index\tweight";
  h += names ? "\tname\n" : "\n";
  for (size_t i = 0; i < h.size();) {
    size_t nl = h.find('\n', i);
    out.write("# ");
    out.write(std::string_view(h).substr(i, nl - i + 1));
    i = nl + 1;
  }
  char buf[64];
  uint64_t features = uint64_t(1) << o_.bits;
  for (uint64_t f = 0; f <= features; ++f) {
    for (int k = 0; k < k_; ++k) {
      float w = weight(f * k_ + k);
      if (w == 0) continue;
      if (f == features) {
        out.write("bias");
      } else {
        auto r = std::to_chars(buf, buf + sizeof buf, f);
        out.write(buf, r.ptr - buf);
      }
      if (k_ > 1) {
        out.put('\t');
        if (!o_.class_names.empty()) {  // the class by name
          out.write(o_.class_names[k]);
        } else {
          auto r = std::to_chars(buf, buf + sizeof buf, k + o_.class_base);
          out.write(buf, r.ptr - buf);
        }
      }
      out.put('\t');
      auto r = std::to_chars(buf, buf + sizeof buf, w);
      out.write(buf, r.ptr - buf);
      if (names) {
        out.put('\t');
        out.write(f == features ? std::string_view("bias") : names->name(static_cast<uint32_t>(f)));
      }
      out.put('\n');
    }
  }
}

}  // namespace grist::sgd
