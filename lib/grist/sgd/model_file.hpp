// Pieces the model file's writer (model_write.cpp) and reader
// (model_read.cpp) share with the rest of model.cpp. Internal to sgd/.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <new>
#include <string>

#include "grist/sgd/names.hpp"

namespace grist::sgd {

// An XXH3-64 streaming state (the model file's checksum), owned.
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

// "feature 'NAME' (index I, class K)", "the bias (class K)".
std::string describe_slot(uint64_t slot, int k, int bits, int class_base,
                          const FeatureNames* names);
// "NaN", "+inf" or "-inf" (v is not finite).
std::string describe_value(float v);

}  // namespace grist::sgd
