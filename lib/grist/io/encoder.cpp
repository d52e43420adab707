// The compressors behind Sink: one Encoder per codec of grist/io/codec.hpp.
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/codec.hpp"

namespace grist {

namespace {

int level_or_default(Compression c, int level) {
  return level == kDefaultLevel ? find_codec(c)->default_level : level;
}

class ZstdEncoder : public Encoder {
 public:
  ZstdEncoder(int level, int threads, const std::string& name)
      : name_(name), obuf_(ZSTD_CStreamOutSize()) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) throw Error(name_, "out of memory");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    // With one worker or more the bytes do not depend on the worker count.
    if (threads >= 1) {
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads);
      // The default job is 4 windows (8 MiB at level 3): its input, output
      // and window buffers cost 40 MB for one worker whatever -S says (and
      // -S 8M must mean about 8 MiB). 1 MiB jobs cost 6 MB and compress as
      // well. A fixed size, so the bytes still depend on neither -j nor -S.
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_jobSize, 1 << 20);
    }
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(cctx_); }
  void write(const char* p, size_t n, Output& out) override { run(p, n, ZSTD_e_continue, out); }
  void finish(Output& out) override { run(nullptr, 0, ZSTD_e_end, out); }

 private:
  void run(const char* p, size_t n, ZSTD_EndDirective mode, Output& out) {
    ZSTD_inBuffer ib{p, n, 0};
    for (;;) {
      ZSTD_outBuffer ob{obuf_.data(), obuf_.size(), 0};
      size_t rem = ZSTD_compressStream2(cctx_, &ob, &ib, mode);
      if (ZSTD_isError(rem)) {
        throw Error(name_, std::string("zstd compression failed: ") + ZSTD_getErrorName(rem));
      }
      out.put(obuf_.data(), ob.pos);
      if (mode == ZSTD_e_end ? rem == 0 : ib.pos == ib.size) break;
    }
  }
  std::string name_;
  ZSTD_CCtx* cctx_;
  std::vector<char> obuf_;
};

class GzipEncoder : public Encoder {
 public:
  GzipEncoder(int level, const std::string& name) : name_(name), obuf_(1 << 18) {
    std::memset(&zs_, 0, sizeof zs_);
    if (deflateInit2(&zs_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(name_, "cannot initialise gzip compression");
    }
  }
  ~GzipEncoder() override { deflateEnd(&zs_); }
  void write(const char* p, size_t n, Output& out) override {
    // avail_in is 32 bits wide.
    while (n > 0) {
      size_t k = std::min<size_t>(n, 1u << 30);
      run(p, k, Z_NO_FLUSH, out);
      p += k;
      n -= k;
    }
  }
  void finish(Output& out) override { run(nullptr, 0, Z_FINISH, out); }

 private:
  void run(const char* p, size_t n, int flush, Output& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    zs_.avail_in = static_cast<uInt>(n);
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(obuf_.data());
      zs_.avail_out = static_cast<uInt>(obuf_.size());
      int ret = deflate(&zs_, flush);
      if (ret == Z_STREAM_ERROR) throw Error(name_, "gzip compression failed");
      out.put(obuf_.data(), obuf_.size() - zs_.avail_out);
      if (flush == Z_FINISH ? ret == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) {
        break;
      }
    }
  }
  std::string name_;
  z_stream zs_;
  std::vector<char> obuf_;
};

// libbz2 is single-threaded; the level is the block size in 100 kB.
class Bzip2Encoder : public Encoder {
 public:
  Bzip2Encoder(int level, const std::string& name) : name_(name), obuf_(1 << 18) {
    std::memset(&bz_, 0, sizeof bz_);
    if (BZ2_bzCompressInit(&bz_, level, 0, 0) != BZ_OK) {
      throw Error(name_, "cannot initialise bzip2 compression (out of memory)");
    }
  }
  ~Bzip2Encoder() override { BZ2_bzCompressEnd(&bz_); }
  void write(const char* p, size_t n, Output& out) override {
    while (n > 0) {
      size_t k = std::min<size_t>(n, 1u << 30);
      run(p, k, BZ_RUN, out);
      p += k;
      n -= k;
    }
  }
  void finish(Output& out) override { run(nullptr, 0, BZ_FINISH, out); }

 private:
  void run(const char* p, size_t n, int action, Output& out) {
    bz_.next_in = const_cast<char*>(p);
    bz_.avail_in = static_cast<unsigned>(n);
    for (;;) {
      bz_.next_out = obuf_.data();
      bz_.avail_out = static_cast<unsigned>(obuf_.size());
      int ret = BZ2_bzCompress(&bz_, action);
      bool ok = action == BZ_FINISH ? (ret == BZ_FINISH_OK || ret == BZ_STREAM_END)
                                    : ret == BZ_RUN_OK;
      if (!ok) throw Error(name_, "bzip2 compression failed (code " + std::to_string(ret) + ")");
      out.put(obuf_.data(), obuf_.size() - bz_.avail_out);
      if (action == BZ_FINISH ? ret == BZ_STREAM_END : bz_.avail_in == 0) break;
    }
  }
  std::string name_;
  bz_stream bz_;
  std::vector<char> obuf_;
};

// liblzma's multi-threaded encoder cuts the input into blocks whose size
// depends on the level alone (three times the dictionary), so its bytes are
// the same for every thread count: it is used for one thread too.
class XzEncoder : public Encoder {
 public:
  XzEncoder(int level, int threads, const std::string& name) : name_(name), obuf_(1 << 18) {
    lzma_mt mt;
    std::memset(&mt, 0, sizeof mt);
    mt.preset = static_cast<uint32_t>(level);
    mt.check = LZMA_CHECK_CRC64;
    mt.threads = static_cast<uint32_t>(std::clamp(threads, 1, 64));
    while (mt.threads > 1 && lzma_stream_encoder_mt_memusage(&mt) > kXzEncoderMemory) --mt.threads;
    lzma_ret r = lzma_stream_encoder_mt(&xz_, &mt);
    if (r != LZMA_OK) {
      throw Error(name_, r == LZMA_MEM_ERROR ? "cannot initialise xz compression (out of memory)"
                                             : "cannot initialise xz compression");
    }
  }
  ~XzEncoder() override { lzma_end(&xz_); }
  void write(const char* p, size_t n, Output& out) override {
    if (n > 0) run(p, n, LZMA_RUN, out);  // a call without progress is LZMA_BUF_ERROR
  }
  void finish(Output& out) override { run(nullptr, 0, LZMA_FINISH, out); }

 private:
  void run(const char* p, size_t n, lzma_action action, Output& out) {
    xz_.next_in = reinterpret_cast<const uint8_t*>(p);
    xz_.avail_in = n;
    for (;;) {
      xz_.next_out = reinterpret_cast<uint8_t*>(obuf_.data());
      xz_.avail_out = obuf_.size();
      lzma_ret ret = lzma_code(&xz_, action);
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) {
        throw Error(name_, ret == LZMA_MEM_ERROR ? "xz compression failed (out of memory)"
                                                 : "xz compression failed (code " +
                                                       std::to_string(ret) + ")");
      }
      out.put(obuf_.data(), obuf_.size() - xz_.avail_out);
      if (action == LZMA_FINISH ? ret == LZMA_STREAM_END
                                : (xz_.avail_in == 0 && xz_.avail_out != 0)) {
        break;
      }
    }
  }
  std::string name_;
  lzma_stream xz_ = LZMA_STREAM_INIT;
  std::vector<char> obuf_;
};

}  // namespace

std::unique_ptr<Encoder> make_encoder(Compression c, int level, int threads,
                                      const std::string& name) {
  if (c == Compression::none) throw std::logic_error("make_encoder: no codec");
  level = level_or_default(c, level);
  switch (c) {
    case Compression::zstd: return std::make_unique<ZstdEncoder>(level, threads, name);
    case Compression::gzip: return std::make_unique<GzipEncoder>(level, name);
    case Compression::bzip2: return std::make_unique<Bzip2Encoder>(level, name);
    case Compression::xz: return std::make_unique<XzEncoder>(level, threads, name);
    case Compression::none: break;
  }
  return nullptr;
}

}  // namespace grist
