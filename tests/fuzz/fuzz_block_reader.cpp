// The block reader: blocks hold whole lines, end with '\n', are followed by
// zero padding, and together give back the input (plus a final '\n').
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t block = 1 + data[0] % 32;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    grist::BlockReader reader(grist::Source::from_memory(bytes, "fuzz"), block);
    grist::Block b;
    std::string joined;
    uint64_t line = 1;
    while (reader.next(b)) {
      if (b.size == 0 || b.buf[b.size - 1] != '\n' || b.first_line != line) std::abort();
      for (size_t i = 0; i < grist::kBlockPadding; ++i) {
        if (b.buf[b.size + i] != 0) std::abort();
      }
      line += b.lines;
      joined.append(b.data(), b.size);
    }
    // Plain input (not sniffed as compressed) must come back unchanged.
    auto src = grist::Source::from_memory(bytes, "fuzz");
    if (src->compression() == grist::Compression::none) {
      std::string expect = bytes;
      if (!expect.empty() && expect.back() != '\n') expect += '\n';
      if (joined != expect) std::abort();
    }
  } catch (const grist::Error&) {
  }
  return 0;
}
