// Writing the model file (format in model.hpp).
#include <zstd.h>

#include <cstring>
#include <functional>

#include "grist/error.hpp"
#include "grist/sgd/model.hpp"
#include "grist/sgd/model_file.hpp"

namespace grist::sgd {

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

void Model::save(Sink& sink) const {
  check_finite();
  write_bytes(sink);
}

void Model::write_bytes(Sink& sink) const {
  Xxh3State h;
  HashedOut out{sink, h.s};
  out.write("GRISTSGD", 8);
  out.put<uint32_t>(o_.class_names.empty() ? 1 : kModelVersion);
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
  const WeightEncoding enc =
      sparse ? (wide ? WeightEncoding::sparse64 : WeightEncoding::sparse32) : WeightEncoding::dense;
  out.put<uint8_t>(static_cast<uint8_t>(enc));

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

}  // namespace grist::sgd
