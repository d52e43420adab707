// Decoders (zstd, gzip, bzip2, xz) and the format sniffer: any bytes either
// decode or throw grist::Error; never a crash, a hang or a sanitizer report.
// Seeds: tests/fuzz/corpus/source (one stream and concatenated streams of
// each codec).
#include <cstddef>
#include <cstdint>
#include <string>

#include "grist/error.hpp"
#include "grist/io/source.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A zstd window or xz dictionary is allocated as its header asks: keep
  // that below the fuzzer's memory limit (a large one is tested in
  // tests/unit/test_codecs.cpp).
  grist::set_decoder_memory_limit(grist::kMinDecoderMemory);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks a read size, so that short reads are exercised too.
  size_t chunk = size ? 1 + data[0] % 64 : 1;
  try {
    auto src = grist::Source::from_memory(bytes, "fuzz");
    std::string buf(chunk, '\0');
    size_t total = 0;
    while (size_t n = src->read(buf.data(), buf.size())) {
      total += n;
      if (total > (64u << 20)) break;  // a decompression bomb is not a bug
    }
  } catch (const grist::Error&) {
  }
  return 0;
}
