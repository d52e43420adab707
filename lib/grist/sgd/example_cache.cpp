#include "grist/sgd/example_cache.hpp"

#include <zstd.h>

#include <cstring>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"

namespace grist::sgd {

namespace {

// A zstd block holds at most 128 KiB and takes at least 4 bytes (3 of
// header, 1 of RLE data): no frame of `in` bytes makes more than this.
uint64_t most_content(size_t in) { return (uint64_t(in) / 4 + 1) * (uint64_t(128) << 10); }

[[noreturn]] void corrupt() { throw Error("example cache: corrupt block"); }

}  // namespace

void encode_examples(const Examples& ex, std::string& out, ZSTD_CCtx* cctx, std::string& raw) {
  raw.clear();
  auto put = [&](const void* p, size_t n) { raw.append(static_cast<const char*>(p), n); };
  uint32_t n = static_cast<uint32_t>(ex.size()), nf = static_cast<uint32_t>(ex.features());
  put(&n, 4);
  put(&nf, 4);
  put(ex.label.data(), n * 4);
  put(ex.weight.data(), n * 4);
  put(ex.holdout.data(), n);
  put(ex.begin.data(), (n + 1) * 4);
  put(ex.index.data(), size_t(nf) * 4);
  put(ex.value.data(), size_t(nf) * 4);
  if (!ex.more_labels.empty()) {
    uint32_t nm = static_cast<uint32_t>(ex.more_labels.size());
    put(&nm, 4);
    put(ex.more_end.data(), size_t(n) * 4);
    put(ex.more_labels.data(), size_t(nm) * 4);
  }
  out.resize(ZSTD_compressBound(raw.size()));
  // Level 1 and a content checksum (docs/reliability.md: every zstd frame
  // grist writes carries one), so that damage the layout checks cannot see
  // (a changed label or value) is an error too.
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  size_t r = ZSTD_compress2(cctx, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
  out.resize(r);
}

void decode_examples(const std::string& in, Examples& ex, uint64_t index_limit, ZSTD_DCtx* dctx,
                     std::string& raw) {
  unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) corrupt();
  if (size < 8 || size > most_content(in.size())) corrupt();
  if (ZSTD_findFrameCompressedSize(in.data(), in.size()) != in.size()) corrupt();
  raw.resize(size);
  size_t r = ZSTD_decompressDCtx(dctx, raw.data(), raw.size(), in.data(), in.size());
  if (ZSTD_isError(r) || r != size) corrupt();
  const char* p = raw.data();
  auto get = [&](void* dst, size_t n) {
    if (n) std::memcpy(dst, p, n);  // an empty vector's data() may be null
    p += n;
  };
  uint32_t n, nf;
  get(&n, 4);
  get(&nf, 4);
  // The counts must account for every byte (in 64 bits: no overflow).
  const uint64_t base = 8 + uint64_t(n) * 13 + 4 + uint64_t(nf) * 8;
  uint32_t nm = 0;
  if (size != base) {
    if (size < base + 4) corrupt();
    std::memcpy(&nm, raw.data() + base, 4);
    if (nm == 0 || size != base + 4 + uint64_t(n) * 4 + uint64_t(nm) * 4) corrupt();
  }
  ex.clear();
  ex.label.resize(n);
  ex.weight.resize(n);
  ex.holdout.resize(n);
  ex.begin.resize(size_t(n) + 1);
  ex.index.resize(nf);
  ex.value.resize(nf);
  get(ex.label.data(), size_t(n) * 4);
  get(ex.weight.data(), size_t(n) * 4);
  get(ex.holdout.data(), n);
  get(ex.begin.data(), (size_t(n) + 1) * 4);
  get(ex.index.data(), size_t(nf) * 4);
  get(ex.value.data(), size_t(nf) * 4);
  if (nm) {
    p += 4;
    ex.more_end.resize(n);
    ex.more_labels.resize(nm);
    get(ex.more_end.data(), size_t(n) * 4);
    get(ex.more_labels.data(), size_t(nm) * 4);
    if (n == 0 || ex.more_end[n - 1] != nm) corrupt();
    for (size_t i = 1; i < n; ++i) {
      if (ex.more_end[i] < ex.more_end[i - 1]) corrupt();
    }
  }
  if (ex.begin[0] != 0 || ex.begin[n] != nf) corrupt();
  for (size_t i = 0; i < n; ++i) {
    if (ex.begin[i + 1] < ex.begin[i]) corrupt();
  }
  for (uint32_t i : ex.index) {
    if (i >= index_limit) corrupt();
  }
}

ExampleCache::ExampleCache(const std::string& dir) : dir_(dir), fd_(open_anonymous_temp_file(dir)) {}

void ExampleCache::append(const std::string& bytes) {
  pwrite_all(fd_.get(), bytes.data(), bytes.size(), end_, dir_);
  chunks_.push_back({end_, bytes.size()});
  end_ += bytes.size();
}

void ExampleCache::read(size_t chunk, std::string& out) const {
  auto [off, n] = chunks_.at(chunk);
  out.resize(n);
  pread_all(fd_.get(), out.data(), n, off, dir_);
}

}  // namespace grist::sgd
