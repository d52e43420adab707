// Decoders and the format sniffer: any bytes either decode or throw
// grist::Error; never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "grist/error.hpp"
#include "grist/io/source.hpp"

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
