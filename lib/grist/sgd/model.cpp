#include "grist/sgd/model.hpp"

#include <zstd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "grist/error.hpp"
#include "grist/io/source.hpp"
#include "grist/sgd/hash.hpp"

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
  return p;
}

Model::Model(const ModelOptions& o, bool with_state)
    : o_(o), k_(o.k()), stride_(with_state ? o.stride() : 1), slots_(o.slots()) {
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

template <class T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
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

bool format_reads_as(Format model, Format input) {
  return input == model || (model == Format::svmlight && input == Format::vw);
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

namespace {

// Appends a section (u64 raw size, u64 compressed size, one zstd frame
// that records its content size) to `out`, compressing `raw` bytes that
// `fill(dst, offset, n)` produces in pieces: saving a model needs no copy
// of its state besides the file's bytes.
template <class Fill>
void append_section(std::string& out, uint64_t raw, Fill&& fill) {
  put<uint64_t>(out, raw);
  const size_t size_at = out.size();
  put<uint64_t>(out, 0);
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setPledgedSrcSize(cctx.get(), raw);
  constexpr size_t kPiece = size_t(1) << 20;
  std::string piece;
  const size_t start = out.size();
  uint64_t done = 0;
  for (;;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kPiece, raw - done));
    piece.resize(n);
    if (n) fill(piece.data(), done, n);
    done += n;
    const ZSTD_EndDirective mode = done == raw ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer in{piece.data(), n, 0};
    for (;;) {
      const size_t room = ZSTD_CStreamOutSize();
      const size_t at = out.size();
      out.resize(at + room);
      ZSTD_outBuffer o{out.data() + at, room, 0};
      const size_t left = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
      if (ZSTD_isError(left)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(left));
      out.resize(at + o.pos);
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
    if (mode == ZSTD_e_end) break;
  }
  const uint64_t comp = out.size() - start;
  std::memcpy(out.data() + size_at, &comp, 8);
}

}  // namespace

std::string Model::to_bytes() const {
  std::string s = "GRISTSGD";
  put<uint32_t>(s, kModelVersion);
  std::string h = options_header(o_);
  put<uint32_t>(s, static_cast<uint32_t>(h.size()));
  s += h;
  put<uint64_t>(s, slots_);
  uint64_t nnz = 0;
  for (uint64_t i = 0; i < slots_; ++i) nnz += weight(i) != 0;
  // --oaa K multiplies the slots: past 2^32 a sparse slot needs 8 bytes.
  const bool wide = slots_ > UINT32_MAX;
  const uint64_t entry = wide ? 12 : 8;
  if (nnz * entry < slots_ * 4) {
    s += char(wide ? 2 : 1);
    // Pieces are not whole entries: each entry goes through `carry`.
    uint64_t next = 0;  // the next slot to look at
    std::string carry;  // entry bytes produced but not yet handed out
    size_t carry_at = 0;
    append_section(s, nnz * entry, [&](char* dst, uint64_t, size_t n) {
      size_t got = 0;
      while (got < n) {
        if (carry_at == carry.size()) {
          carry.clear();
          carry_at = 0;
          while (next < slots_ && weight(next) == 0) ++next;
          if (wide) {
            put<uint64_t>(carry, next);
          } else {
            put<uint32_t>(carry, static_cast<uint32_t>(next));
          }
          put<float>(carry, weight(next));
          ++next;
        }
        size_t k = std::min(n - got, carry.size() - carry_at);
        std::memcpy(dst + got, carry.data() + carry_at, k);
        got += k, carry_at += k;
      }
    });
  } else {
    s += char(0);
    append_section(s, slots_ * 4, [&](char* dst, uint64_t off, size_t n) {
      for (size_t i = 0; i < n; i += 4) {
        float w = weight((off + i) / 4);
        std::memcpy(dst + i, &w, 4);
      }
    });
  }
  if (stride_ > 1) {
    const int per = stride_ - 1;
    append_section(s, slots_ * per * 4, [&](char* dst, uint64_t off, size_t n) {
      for (size_t b = 0; b < n; b += 4) {
        uint64_t v = (off + b) / 4;  // value index: slot v / per, entry 1 + v % per
        float x = state_[(v / per) * stride_ + 1 + v % per].load(std::memory_order_relaxed);
        std::memcpy(dst + b, &x, 4);
      }
    });
  } else {
    put<uint64_t>(s, 0);
    put<uint64_t>(s, 0);
  }
  put<uint64_t>(s, XXH3_64bits(s.data(), s.size()));
  return s;
}

namespace {

// A name from the input, printable in a one-line message.
std::string printable(std::string_view s) {
  std::string r;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}

// "feature 'NAME' (index I, class K)", "the bias (class K)".
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
  if (!name.empty()) s += "'" + printable(name) + "' ";
  s += "(index " + std::to_string(f);
  if (k > 1) s += ", class " + std::to_string(slot % k + class_base);
  return s + ")";
}

std::string describe_value(float v) {
  return std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf");
}

}  // namespace

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

void Model::save(const std::string& path) const {
  auto out = Sink::open(path, SinkOptions{});
  save(*out);
  out->commit();
}

void Model::save(Sink& out) const {
  check_finite();
  out.write(to_bytes());
}

namespace {

struct Reader {
  const std::string& b;
  const std::string& name;
  size_t p = 0;
  void need(size_t n) {
    if (b.size() - p < n) throw Error(name, "truncated model file");
  }
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b.data() + p, sizeof v);
    p += sizeof v;
    return v;
  }
  std::string_view bytes(size_t n) {
    need(n);
    std::string_view v(b.data() + p, n);
    p += n;
    return v;
  }
  // A section's sizes come from the file: they are checked against `limit`
  // (what the header allows), the compressed size and the zstd frame
  // header before anything is allocated, so that a damaged file cannot ask
  // for gigabytes.
  // `decode` false checks the sizes and skips the bytes (the checksum still
  // covers them): prediction needs no optimiser state.
  std::string section(uint64_t limit, bool decode = true) {
    uint64_t raw = get<uint64_t>(), comp = get<uint64_t>();
    if (comp > b.size()) throw Error(name, "truncated model file");
    std::string_view c = bytes(comp);
    constexpr uint64_t kMaxRatio = 1 << 15;  // beyond zstd's best on real weights
    if (raw > limit || raw / kMaxRatio > comp ||
        (raw != 0 && ZSTD_getFrameContentSize(c.data(), c.size()) != raw)) {
      throw Error(name, "corrupt model file (section size)");
    }
    if (!decode) return {};
    std::string out(raw, '\0');
    if (raw == 0) return out;
    size_t r = ZSTD_decompress(out.data(), raw, c.data(), c.size());
    if (ZSTD_isError(r) || r != raw) throw Error(name, "corrupt model file (weights)");
    return out;
  }
};

}  // namespace

std::unique_ptr<Model> Model::from_bytes(const std::string& b, const std::string& name,
                                         bool with_state) {
  if (b.size() < 8 || b.compare(0, 8, "GRISTSGD") != 0) {
    throw Error(name, "not a grist-train-sgd model (no GRISTSGD magic)");
  }
  Reader r{b, name, 8};
  uint32_t version = r.get<uint32_t>();
  if (version != kModelVersion) {
    throw Error(name, "model file format version " + std::to_string(version) +
                          (version > kModelVersion ? " is newer than" : " is not") +
                          " the version this grist reads (" + std::to_string(kModelVersion) +
                          "); retrain it with this grist");
  }
  if (b.size() < 8 + 4 + 8) throw Error(name, "truncated model file");
  uint64_t sum;
  std::memcpy(&sum, b.data() + b.size() - 8, 8);
  uint32_t hlen = r.get<uint32_t>();
  if (hlen > b.size()) throw Error(name, "truncated model file");
  std::string_view header = r.bytes(hlen);
  std::map<std::string, std::string, std::less<>> kv;
  for (size_t i = 0; i < header.size();) {
    size_t nl = header.find('\n', i);
    if (nl == std::string_view::npos) nl = header.size();
    std::string_view line = header.substr(i, nl - i);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) kv[std::string(line.substr(0, eq))] = line.substr(eq + 1);
    i = nl + 1;
  }
  // The checksum covers the header too, but a truncated file is more
  // useful to report as truncated; check it before trusting the sections.
  uint64_t slots = r.get<uint64_t>();
  uint8_t enc = r.get<uint8_t>();
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
  if (get("hash") != kHashName) throw Error(name, "model uses an unknown feature hash '" + get("hash") + "'");
  ModelOptions o;
  o.bits = static_cast<int>(inum("bits", 1, 30));
  auto loss = parse_loss_name(get("loss"));
  if (!loss) throw Error(name, "model has an unknown loss '" + get("loss") + "'");
  o.loss = *loss;
  o.quantile_tau = num("quantile_tau");
  o.classes = static_cast<int>(inum("oaa", 0, 100000));
  o.class_base = static_cast<int>(inum("class_base", -1e9, 1e9));
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
  if (o.bits < 1 || o.bits > 30 || o.classes < 0 || o.classes > 100000 || slots != o.slots()) {
    throw Error(name, "corrupt model file (inconsistent header)");
  }
  if (enc > 2) throw Error(name, "corrupt model file (unknown weight encoding)");
  std::string w = r.section(slots * 12);
  std::string st = r.section(slots * 4 * 8, with_state);
  if (b.size() - r.p != 8) throw Error(name, "corrupt model file (trailing bytes)");
  if (XXH3_64bits(b.data(), b.size() - 8) != sum) throw Error(name, "corrupt model file (checksum)");

  auto m = std::make_unique<Model>(o, with_state);
  int stride = m->stride_;
  auto finite = [&](float v, uint64_t slot) {
    if (!std::isfinite(v)) {
      throw Error(name, "corrupt model file (the weight of " +
                            describe_slot(slot, m->k_, o.bits, o.class_base, nullptr) + " is " +
                            describe_value(v) + ")");
    }
  };
  if (enc != 0) {
    const size_t isz = enc == 1 ? 4 : 8;
    if (w.size() % (isz + 4)) throw Error(name, "corrupt model file (weights)");
    for (size_t p = 0; p < w.size(); p += isz + 4) {
      uint64_t i = 0;  // little-endian: the low bytes first
      float v;
      std::memcpy(&i, w.data() + p, isz);
      std::memcpy(&v, w.data() + p + isz, 4);
      if (i >= slots) throw Error(name, "corrupt model file (weights)");
      finite(v, i);
      m->state_[i * stride].store(v, std::memory_order_relaxed);
    }
  } else {
    if (w.size() != slots * 4) throw Error(name, "corrupt model file (weights)");
    for (uint64_t i = 0; i < slots; ++i) {
      float v;
      std::memcpy(&v, w.data() + i * 4, 4);
      finite(v, i);
      m->state_[i * stride].store(v, std::memory_order_relaxed);
    }
  }
  if (with_state && stride > 1) {
    if (st.size() != slots * (stride - 1) * 4) {
      if (!st.empty()) throw Error(name, "corrupt model file (optimizer state)");
    } else {
      size_t p = 0;
      for (uint64_t i = 0; i < slots; ++i) {
        for (int j = 1; j < stride; ++j, p += 4) {
          float v;
          std::memcpy(&v, st.data() + p, 4);
          if (!std::isfinite(v)) {
            throw Error(name, "corrupt model file (the optimizer state of " +
                                  describe_slot(i, m->k_, o.bits, o.class_base, nullptr) +
                                  " is " + describe_value(v) + ")");
          }
          m->state_[i * stride + j].store(v, std::memory_order_relaxed);
        }
      }
    }
  }
  return m;
}

std::unique_ptr<Model> Model::load(const std::string& path, bool with_state) {
  auto src = Source::open(path);
  std::string bytes;
  char buf[1 << 16];
  while (size_t n = src->read(buf, sizeof buf)) bytes.append(buf, n);
  return from_bytes(bytes, src->name(), with_state);
}

void Model::write_readable(Sink& out, const FeatureNames* names) const {
  std::string h = options_header(o_);
  if (names && names->size() != (uint64_t(1) << o_.bits)) {
    throw Error("feature names: table size differs from the model's -b");
  }
  check_finite(names);
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
        auto r = std::to_chars(buf, buf + sizeof buf, k + o_.class_base);
        out.write(buf, r.ptr - buf);
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
