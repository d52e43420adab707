#include "grist/record/partition.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace grist {

uint64_t stable_hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace grist
