// The model file loader: any bytes load or are refused with grist::Error;
// never a crash, an out-of-range write or a huge allocation from a size
// read in the file. A checksum stops most mutations early, so the first
// byte asks to recompute it: the loader must then survive headers and
// sections that only a forger (or a bug in the writer) would produce.
#include <xxhash.h>

#include <cstring>
#include <new>
#include <string>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/sgd/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t k = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((k & 1) && bytes.size() >= 8) {
    uint64_t sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  }
  const auto state =
      (k & 2) ? grist::sgd::ModelState::with_optimizer : grist::sgd::ModelState::weights_only;
  try {
    auto m = grist::sgd::Model::from_bytes(bytes, "fuzz.model", state);
    FUZZ_CHECK(m->slots() == m->options().slots());
    // A loaded model round-trips.
    std::string again = m->to_bytes();
    auto m2 = grist::sgd::Model::from_bytes(again, "again", state);
    FUZZ_CHECK(m2->slots() == m->slots());
  } catch (const grist::Error& e) {
    FUZZ_CHECK(e.file() == "fuzz.model" || e.file() == "again");
  }
  return 0;
}
