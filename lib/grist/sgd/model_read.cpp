// Reading the model file (format in model.hpp): streamed, like the
// writer. A first pass checks the whole file (structure, sections,
// indices, checksum) without a model; only then is the model allocated (a
// damaged header must not ask for gigabytes) and a second pass fills it.
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <utility>

#include "grist/error.hpp"
#include "grist/io/source.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/model_file.hpp"

namespace grist::sgd {

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

// The file up to the weights: magic, version, the options header (what
// options_header() wrote), the slot count and the weight encoding, each
// checked.
struct FileHead {
  ModelOptions options;
  uint64_t slots = 0;
  WeightEncoding encoding = WeightEncoding::dense;
};

FileHead read_head(ModelReader& r, const std::string& name) {
  char magic[8];
  r.read(magic, 8, "not a grist-train-sgd model (no GRISTSGD magic)");
  if (std::memcmp(magic, "GRISTSGD", 8) != 0) {
    throw Error(name, "not a grist-train-sgd model (no GRISTSGD magic)");
  }
  uint32_t version = r.get<uint32_t>();
  if (version < 1 || version > kModelVersion) {
    throw Error(name, "model file format version " + std::to_string(version) +
                          (version > kModelVersion ? " is newer than" : " is not") +
                          " the versions this grist reads (1 to " + std::to_string(kModelVersion) +
                          "); retrain it with this grist");
  }
  uint32_t hlen = r.get<uint32_t>();
  // Class names make the header long: up to 100,000 of them.
  if (hlen > (32u << 20)) throw Error(name, "corrupt model file (header size)");
  std::string header(hlen, '\0');
  r.read(header.data(), hlen);
  // The checksum covers the header too, but a truncated file is more
  // useful to report as truncated; check it before trusting the sections.
  FileHead h;
  h.slots = r.get<uint64_t>();
  uint8_t enc = r.get<uint8_t>();
  h.options = options_from_header(header, name);
  const ModelOptions& o = h.options;
  if (o.bits < 1 || o.bits > 30 || o.classes < 0 || o.classes > 100000 || h.slots != o.slots()) {
    throw Error(name, "corrupt model file (inconsistent header)");
  }
  if (enc > static_cast<uint8_t>(WeightEncoding::sparse64)) {
    throw Error(name, "corrupt model file (unknown weight encoding)");
  }
  h.encoding = static_cast<WeightEncoding>(enc);
  return h;
}

// Refuses a value of the file that is not finite, naming its slot.
void check_finite_value(float v, uint64_t slot, const char* what, const FileHead& h,
                        const std::string& name) {
  if (std::isfinite(v)) return;
  throw Error(name, std::string("corrupt model file (") + what + " of " +
                        describe_slot(slot, h.options.k(), h.options.bits, h.options.class_base,
                                      nullptr) +
                        " is " + describe_value(v) + ")");
}

// The weights section of a sparse encoding: (slot, weight) entries, each
// slot checked (also without a model to fill).
void read_sparse_weights(ModelReader& r, const FileHead& h, Model* m, const std::string& name) {
  auto [raw, comp] = r.section_sizes(h.slots * 12);
  const size_t isz = h.encoding == WeightEncoding::sparse32 ? 4 : 8;
  if (raw % (isz + 4)) throw Error(name, "corrupt model file (weights)");
  Records entries(isz + 4, [&](const char* p) {
    uint64_t i = 0;  // little-endian: the low bytes first
    std::memcpy(&i, p, isz);
    if (i >= h.slots) throw Error(name, "corrupt model file (weights)");
    if (m) {
      float v;
      std::memcpy(&v, p + isz, 4);
      check_finite_value(v, i, "the weight", h, name);
      m->state()[i * m->stride()].store(v, std::memory_order_relaxed);
    }
  });
  r.section(raw, comp, std::ref(entries), "weights");
}

// The weights section of the dense encoding: every slot's weight.
void read_dense_weights(ModelReader& r, const FileHead& h, Model* m, const std::string& name) {
  auto [raw, comp] = r.section_sizes(h.slots * 12);
  if (raw != h.slots * 4) throw Error(name, "corrupt model file (weights)");
  uint64_t i = 0;
  Records weights(4, [&](const char* p) {
    float v;
    std::memcpy(&v, p, 4);
    check_finite_value(v, i, "the weight", h, name);
    m->state()[i++ * m->stride()].store(v, std::memory_order_relaxed);
  });
  r.section(raw, comp, m ? std::function<void(const char*, size_t)>(std::ref(weights)) : nullptr,
            "weights");
}

// The optimiser state section: stride - 1 floats per slot, or none. Read
// into a model that keeps its state, else only checked and skipped.
void read_optimizer_state(ModelReader& r, const FileHead& h, Model* m, const std::string& name) {
  const int stride = m ? m->stride() : 1;
  auto [raw, comp] = r.section_sizes(h.slots * 4 * 8);
  if (!m || stride == 1 || raw == 0) return r.section(raw, comp, nullptr, "optimizer state");
  if (raw != h.slots * (stride - 1) * 4) throw Error(name, "corrupt model file (optimizer state)");
  uint64_t i = 0;
  Records state(4, [&](const char* p) {
    float v;
    std::memcpy(&v, p, 4);
    // slot i / (stride - 1), float 1 + i % (stride - 1)
    uint64_t slot = i / (stride - 1), j = 1 + i % (stride - 1);
    check_finite_value(v, slot, "the optimizer state", h, name);
    m->state()[slot * stride + j].store(v, std::memory_order_relaxed);
    ++i;
  });
  r.section(raw, comp, std::ref(state), "optimizer state");
}

// One pass over a model file: without `m`, checks everything and returns
// the options; with `m` (made from those options), fills it as well.
ModelOptions read_model_file(Source& src, const std::string& name, Model* m) {
  ModelReader r(src, name);
  FileHead h = read_head(r, name);
  if (h.encoding == WeightEncoding::dense) {
    read_dense_weights(r, h, m, name);
  } else {
    read_sparse_weights(r, h, m, name);
  }
  read_optimizer_state(r, h, m, name);
  const uint64_t computed = r.digest();
  if (r.checksum_and_end() != computed) throw Error(name, "corrupt model file (checksum)");
  return h.options;
}

}  // namespace

std::unique_ptr<Model> Model::from_bytes(const std::string& bytes, const std::string& name,
                                         ModelState state) {
  auto check = Source::from_memory(bytes, name);
  ModelOptions o = read_model_file(*check, name, nullptr);
  auto m = std::make_unique<Model>(o, state);
  auto fill = Source::from_memory(bytes, name);
  read_model_file(*fill, name, m.get());
  return m;
}

std::unique_ptr<Model> Model::load(const std::string& path, ModelState state) {
  auto check = Source::open(path);
  const std::string name = check->name();
  if (path == "-") {  // read once: keep the bytes for the second pass
    std::string bytes;
    char buf[1 << 16];
    while (size_t n = check->read(buf, sizeof buf)) bytes.append(buf, n);
    return from_bytes(bytes, name, state);
  }
  ModelOptions o = read_model_file(*check, name, nullptr);
  check.reset();
  auto m = std::make_unique<Model>(o, state);
  auto fill = Source::open(path);
  read_model_file(*fill, name, m.get());
  return m;
}

}  // namespace grist::sgd
