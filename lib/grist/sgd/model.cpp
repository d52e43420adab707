#include "grist/sgd/model.hpp"

#include <zstd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <utility>

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

// ---- writing: every section is streamed, so that saving costs no copy of
// the model (a 2^22-slot AdaGrad model used to need 2.3 times its size).

namespace {

constexpr size_t kChunk = 1 << 20;

// Writes to a Sink and into the running checksum.
struct HashedOut {
  Sink& out;
  XXH3_state_t* h;
  void write(const void* p, size_t n) {
    out.write(static_cast<const char*>(p), n);
    XXH3_64bits_update(h, p, n);
  }
  template <class T>
  void put(T v) {
    write(&v, sizeof v);
  }
};

struct Xxh3State {
  XXH3_state_t* s = XXH3_createState();
  Xxh3State() {
    if (!s) throw std::bad_alloc();
    XXH3_64bits_reset(s);
  }
  ~Xxh3State() { XXH3_freeState(s); }
  Xxh3State(const Xxh3State&) = delete;
  Xxh3State& operator=(const Xxh3State&) = delete;
};

// The raw bytes of a section, a chunk at a time: writes the next whole
// entries into buf (at most cap bytes) and returns their size, 0 at the end.
using Fill = std::function<size_t(char* buf, size_t cap)>;

// One zstd frame of the `raw` bytes `fill` makes, written to `out` (or,
// without it, only measured). Returns the frame's size.
uint64_t zstd_frame(ZSTD_CCtx* c, uint64_t raw, const Fill& fill, HashedOut* out,
                    std::vector<char>& in, std::vector<char>& buf) {
  ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
  ZSTD_CCtx_setPledgedSrcSize(c, raw);
  uint64_t fed = 0, size = 0;
  for (;;) {
    size_t n = fill(in.data(), in.size());
    fed += n;
    const ZSTD_EndDirective mode = n ? ZSTD_e_continue : ZSTD_e_end;
    ZSTD_inBuffer ib{in.data(), n, 0};
    size_t rem;
    do {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      rem = ZSTD_compressStream2(c, &ob, &ib, mode);
      if (ZSTD_isError(rem)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(rem));
      if (out) out->write(buf.data(), ob.pos);
      size += ob.pos;
    } while (mode == ZSTD_e_end ? rem != 0 : ib.pos < ib.size);
    if (n == 0) break;
  }
  if (fed != raw) throw std::logic_error("model section: size changed while writing");
  return size;
}

// A section: u64 raw size, u64 frame size, the frame. The frame's size
// comes first, so the section is compressed twice: once to measure it,
// once to write it (the same input and parameters give the same bytes).
void write_section(HashedOut& out, ZSTD_CCtx* c, uint64_t raw,
                   const std::function<Fill()>& make_fill) {
  std::vector<char> in(kChunk), buf(ZSTD_CStreamOutSize());
  const uint64_t size = zstd_frame(c, raw, make_fill(), nullptr, in, buf);
  out.put<uint64_t>(raw);
  out.put<uint64_t>(size);
  if (zstd_frame(c, raw, make_fill(), &out, in, buf) != size) {
    throw std::logic_error("model section: zstd gave two sizes");
  }
}

}  // namespace

namespace {

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
  if (!name.empty()) s += quote_input(name) + " ";
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

void Model::save(Sink& sink) const {
  check_finite();
  write_bytes(sink);
}

void Model::write_bytes(Sink& sink) const {
  Xxh3State h;
  HashedOut out{sink, h.s};
  out.write("GRISTSGD", 8);
  out.put<uint32_t>(kModelVersion);
  std::string header = options_header(o_);
  out.put<uint32_t>(static_cast<uint32_t>(header.size()));
  out.write(header.data(), header.size());
  out.put<uint64_t>(slots_);
  uint64_t nnz = 0;
  for (uint64_t i = 0; i < slots_; ++i) nnz += weight(i) != 0;
  // --oaa K multiplies the slots: past 2^32 a sparse slot needs 8 bytes.
  const bool wide = slots_ > UINT32_MAX;
  const uint64_t entry = wide ? 12 : 8;
  const bool sparse = nnz * entry < slots_ * 4;
  out.put<uint8_t>(sparse ? (wide ? 2 : 1) : 0);

  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!c) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, 3);
  if (sparse) {
    write_section(out, c.get(), nnz * entry, [&]() -> Fill {
      return [this, wide, entry, i = uint64_t(0)](char* buf, size_t cap) mutable {
        size_t n = 0;
        for (; i < slots_ && cap - n >= entry; ++i) {
          float w = weight(i);
          if (w == 0) continue;
          if (wide) {
            uint64_t s = i;
            std::memcpy(buf + n, &s, 8);
          } else {
            uint32_t s = static_cast<uint32_t>(i);
            std::memcpy(buf + n, &s, 4);
          }
          std::memcpy(buf + n + entry - 4, &w, 4);
          n += entry;
        }
        return n;
      };
    });
  } else {
    write_section(out, c.get(), slots_ * 4, [&]() -> Fill {
      return [this, i = uint64_t(0)](char* buf, size_t cap) mutable {
        size_t n = 0;
        for (; i < slots_ && cap - n >= 4; ++i, n += 4) {
          float w = weight(i);
          std::memcpy(buf + n, &w, 4);
        }
        return n;
      };
    });
  }
  if (stride_ > 1) {
    const size_t per = static_cast<size_t>(stride_ - 1) * 4;
    write_section(out, c.get(), slots_ * per, [&]() -> Fill {
      return [this, per, i = uint64_t(0)](char* buf, size_t cap) mutable {
        size_t n = 0;
        for (; i < slots_ && cap - n >= per; ++i) {
          for (int j = 1; j < stride_; ++j, n += 4) {
            float v = state_[i * stride_ + j].load(std::memory_order_relaxed);
            std::memcpy(buf + n, &v, 4);
          }
        }
        return n;
      };
    });
  } else {
    out.put<uint64_t>(0);
    out.put<uint64_t>(0);
  }
  uint64_t sum = XXH3_64bits_digest(h.s);
  sink.write(reinterpret_cast<const char*>(&sum), 8);
}

void Model::save(const std::string& path) const {
  auto out = Sink::open(path, SinkOptions{});
  save(*out);
  out->commit();
}

std::string Model::to_bytes() const {
  std::string s;
  auto out = Sink::to_string(&s, Compression::none, 0);
  write_bytes(*out);
  out->commit();
  return s;
}

// ---- reading: streamed too. A first pass checks the whole file (structure,
// sections, indices, checksum) without a model; only then is the model
// allocated (a damaged header must not ask for gigabytes) and a second pass
// fills it.

namespace {

// Reads a model file from a Source, hashing what it reads.
class ModelReader {
 public:
  ModelReader(Source& src, const std::string& name) : src_(src), name_(name) {}

  // Exactly n bytes, or "truncated model file" (`missing`, if given).
  void read(void* p, size_t n, const char* missing = "truncated model file") {
    char* d = static_cast<char*>(p);
    size_t got = 0;
    while (got < n) {
      size_t r = src_.read(d + got, n - got);
      if (r == 0) throw Error(name_, missing);
      got += r;
    }
    XXH3_64bits_update(h_.s, p, n);
  }
  template <class T>
  T get() {
    T v;
    read(&v, sizeof v);
    return v;
  }
  uint64_t digest() const { return XXH3_64bits_digest(h_.s); }
  // The stored checksum (not hashed), then the end of the file.
  uint64_t checksum_and_end() {
    uint64_t sum;
    char* d = reinterpret_cast<char*>(&sum);
    size_t got = 0;
    while (got < 8) {
      size_t r = src_.read(d + got, 8 - got);
      if (r == 0) throw Error(name_, "truncated model file");
      got += r;
    }
    char extra;
    if (src_.read(&extra, 1) != 0) throw Error(name_, "corrupt model file (trailing bytes)");
    return sum;
  }

  // A section's sizes, checked against `limit` (what the header allows) and
  // the frame size before anything is read.
  std::pair<uint64_t, uint64_t> section_sizes(uint64_t limit) {
    uint64_t raw = get<uint64_t>(), comp = get<uint64_t>();
    constexpr uint64_t kMaxRatio = 1 << 15;  // beyond zstd's best on real weights
    if (raw > limit || raw / kMaxRatio > comp) {
      throw Error(name_, "corrupt model file (section size)");
    }
    return {raw, comp};
  }

  // The section's frame of `comp` bytes, decompressed to `raw` bytes handed
  // to `consume` in pieces; without `consume` only read (and hashed).
  void section(uint64_t raw, uint64_t comp, const std::function<void(const char*, size_t)>& consume,
               const char* what) {
    if (raw == 0 || !consume) {
      char skip[1 << 14];
      while (comp) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(comp, sizeof skip));
        read(skip, n);
        comp -= n;
      }
      return;
    }
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!d) throw std::bad_alloc();
    ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, 24);  // we write 2 MiB windows
    std::vector<char> in(std::min<uint64_t>(comp, 1 << 16)), out(1 << 16);
    const std::string corrupt = std::string("corrupt model file (") + what + ")";
    uint64_t made = 0;
    size_t last = 1;
    bool first = true;
    while (comp) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(comp, in.size()));
      read(in.data(), n);
      comp -= n;
      if (first) {
        first = false;
        if (ZSTD_getFrameContentSize(in.data(), n) != raw) {
          throw Error(name_, "corrupt model file (section size)");
        }
      }
      ZSTD_inBuffer ib{in.data(), n, 0};
      while (ib.pos < ib.size) {
        if (last == 0) throw Error(name_, corrupt);  // bytes after the frame
        ZSTD_outBuffer ob{out.data(), out.size(), 0};
        last = ZSTD_decompressStream(d.get(), &ob, &ib);
        if (ZSTD_isError(last)) throw Error(name_, corrupt);
        made += ob.pos;
        if (made > raw) throw Error(name_, corrupt);
        consume(out.data(), ob.pos);
      }
    }
    // Output the decoder still holds.
    while (last != 0) {
      ZSTD_inBuffer ib{nullptr, 0, 0};
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(d.get(), &ob, &ib);
      if (ZSTD_isError(last) || ob.pos == 0) throw Error(name_, corrupt);
      made += ob.pos;
      if (made > raw) throw Error(name_, corrupt);
      consume(out.data(), ob.pos);
    }
    if (made != raw) throw Error(name_, corrupt);
  }

 private:
  Source& src_;
  const std::string& name_;
  Xxh3State h_;
};

// Hands fixed-size records to `f` from pieces cut anywhere.
class Records {
 public:
  Records(size_t size, std::function<void(const char*)> f) : size_(size), f_(std::move(f)) {}
  void operator()(const char* p, size_t n) {
    if (have_) {
      size_t take = std::min(size_ - have_, n);
      std::memcpy(carry_ + have_, p, take);
      have_ += take;
      p += take;
      n -= take;
      if (have_ < size_) return;
      f_(carry_);
      have_ = 0;
    }
    for (; n >= size_; p += size_, n -= size_) f_(p);
    std::memcpy(carry_, p, n);
    have_ = n;
  }

 private:
  size_t size_;
  std::function<void(const char*)> f_;
  char carry_[16];
  size_t have_ = 0;
};

// The header's "key=value" lines to options; every value checked.
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

}  // namespace

// One pass over a model file: without `m`, checks everything and returns
// the options; with `m` (made from those options), fills it as well.
ModelOptions Model::read_file(Source& src, const std::string& name, Model* m) {
  ModelReader r(src, name);
  char magic[8];
  r.read(magic, 8, "not a grist-train-sgd model (no GRISTSGD magic)");
  if (std::memcmp(magic, "GRISTSGD", 8) != 0) {
    throw Error(name, "not a grist-train-sgd model (no GRISTSGD magic)");
  }
  uint32_t version = r.get<uint32_t>();
  if (version != kModelVersion) {
    throw Error(name, "model file format version " + std::to_string(version) +
                          (version > kModelVersion ? " is newer than" : " is not") +
                          " the version this grist reads (" + std::to_string(kModelVersion) +
                          "); retrain it with this grist");
  }
  uint32_t hlen = r.get<uint32_t>();
  if (hlen > (1 << 20)) throw Error(name, "corrupt model file (header size)");
  std::string header(hlen, '\0');
  r.read(header.data(), hlen);
  // The checksum covers the header too, but a truncated file is more
  // useful to report as truncated; check it before trusting the sections.
  uint64_t slots = r.get<uint64_t>();
  uint8_t enc = r.get<uint8_t>();
  ModelOptions o = options_from_header(header, name);
  if (o.bits < 1 || o.bits > 30 || o.classes < 0 || o.classes > 100000 || slots != o.slots()) {
    throw Error(name, "corrupt model file (inconsistent header)");
  }
  if (enc > 2) throw Error(name, "corrupt model file (unknown weight encoding)");

  const int stride = m ? m->stride_ : 1;
  auto finite = [&](float v, uint64_t slot) {
    if (!std::isfinite(v)) {
      throw Error(name, "corrupt model file (the weight of " +
                            describe_slot(slot, m->k_, o.bits, o.class_base, nullptr) + " is " +
                            describe_value(v) + ")");
    }
  };
  auto [raw, comp] = r.section_sizes(slots * 12);
  if (enc != 0) {
    const size_t isz = enc == 1 ? 4 : 8;
    if (raw % (isz + 4)) throw Error(name, "corrupt model file (weights)");
    Records entries(isz + 4, [&](const char* p) {
      uint64_t i = 0;  // little-endian: the low bytes first
      std::memcpy(&i, p, isz);
      if (i >= slots) throw Error(name, "corrupt model file (weights)");
      if (m) {
        float v;
        std::memcpy(&v, p + isz, 4);
        finite(v, i);
        m->state_[i * stride].store(v, std::memory_order_relaxed);
      }
    });
    r.section(raw, comp, std::ref(entries), "weights");
  } else {
    if (raw != slots * 4) throw Error(name, "corrupt model file (weights)");
    uint64_t i = 0;
    Records weights(4, [&](const char* p) {
      float v;
      std::memcpy(&v, p, 4);
      finite(v, i);
      m->state_[i++ * stride].store(v, std::memory_order_relaxed);
    });
    r.section(raw, comp, m ? std::function<void(const char*, size_t)>(std::ref(weights)) : nullptr,
              "weights");
  }
  auto [sraw, scomp] = r.section_sizes(slots * 4 * 8);
  if (m && stride > 1 && sraw != 0) {
    if (sraw != slots * (stride - 1) * 4) throw Error(name, "corrupt model file (optimizer state)");
    uint64_t i = 0;
    Records state(4, [&](const char* p) {
      float v;
      std::memcpy(&v, p, 4);
      // slot i / (stride - 1), float 1 + i % (stride - 1)
      uint64_t slot = i / (stride - 1), j = 1 + i % (stride - 1);
      if (!std::isfinite(v)) {
        throw Error(name, "corrupt model file (the optimizer state of " +
                              describe_slot(slot, m->k_, o.bits, o.class_base, nullptr) + " is " +
                              describe_value(v) + ")");
      }
      m->state_[slot * stride + j].store(v, std::memory_order_relaxed);
      ++i;
    });
    r.section(sraw, scomp, std::ref(state), "optimizer state");
  } else {
    r.section(sraw, scomp, nullptr, "optimizer state");
  }
  const uint64_t computed = r.digest();
  if (r.checksum_and_end() != computed) throw Error(name, "corrupt model file (checksum)");
  return o;
}

std::unique_ptr<Model> Model::from_bytes(const std::string& bytes, const std::string& name,
                                         bool with_state) {
  auto check = Source::from_memory(bytes, name);
  ModelOptions o = read_file(*check, name, nullptr);
  auto m = std::make_unique<Model>(o, with_state);
  auto fill = Source::from_memory(bytes, name);
  read_file(*fill, name, m.get());
  return m;
}

std::unique_ptr<Model> Model::load(const std::string& path, bool with_state) {
  auto check = Source::open(path);
  const std::string name = check->name();
  if (path == "-") {  // read once: keep the bytes for the second pass
    std::string bytes;
    char buf[1 << 16];
    while (size_t n = check->read(buf, sizeof buf)) bytes.append(buf, n);
    return from_bytes(bytes, name, with_state);
  }
  ModelOptions o = read_file(*check, name, nullptr);
  check.reset();
  auto m = std::make_unique<Model>(o, with_state);
  auto fill = Source::open(path);
  read_file(*fill, name, m.get());
  return m;
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
