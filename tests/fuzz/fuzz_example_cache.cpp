// The example cache's decoder (grist-train-sgd's passes 2..): any chunk
// decodes into consistent flat arrays (begin[] from 0 to the feature
// count, never decreasing; every index below the limit) or is refused with
// grist::Error; never a crash, a read out of bounds or an allocation
// beyond what the frame can hold. With the first byte odd the rest is the
// chunk's content, compressed here, so that the fuzzer explores the
// layout rather than zstd's checks.
#include <zstd.h>

#include <memory>
#include <string>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/sgd/example_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t k = data[0];
  const uint64_t limit = uint64_t(1) << (1 + (k >> 1) % 31);
  std::string chunk(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (k & 1) {
    std::string packed(ZSTD_compressBound(chunk.size()), '\0');
    size_t n = ZSTD_compress(packed.data(), packed.size(), chunk.data(), chunk.size(), 1);
    FUZZ_CHECK(!ZSTD_isError(n));
    packed.resize(n);
    chunk.swap(packed);
  }
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::string raw;
  grist::sgd::Examples ex;
  try {
    grist::sgd::decode_examples(chunk, ex, limit, d.get(), raw);
  } catch (const grist::Error&) {
    return 0;
  }
  const size_t n = ex.size();
  FUZZ_CHECK(ex.weight.size() == n && ex.holdout.size() == n && ex.begin.size() == n + 1);
  FUZZ_CHECK(ex.index.size() == ex.value.size());
  FUZZ_CHECK(ex.begin[0] == 0 && ex.begin[n] == ex.index.size());
  for (size_t i = 0; i < n; ++i) FUZZ_CHECK(ex.begin[i] <= ex.begin[i + 1]);
  for (uint32_t i : ex.index) FUZZ_CHECK(i < limit);
  FUZZ_CHECK(ex.more_end.empty() || ex.more_end.size() == n);
  if (!ex.more_end.empty()) {
    FUZZ_CHECK(ex.more_end[n - 1] == ex.more_labels.size());
    for (size_t i = 1; i < n; ++i) FUZZ_CHECK(ex.more_end[i - 1] <= ex.more_end[i]);
  }
  return 0;
}
