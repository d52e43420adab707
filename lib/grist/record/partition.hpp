// The stable partition function of docs/design.md ("Partition directories").
#pragma once

#include <cstdint>
#include <string_view>

namespace grist {

// XXH3_64bits(key, seed 0): stable across machines and versions.
uint64_t stable_hash(std::string_view key);

// The partition of `key` among `partitions`: stable_hash(key) mod n.
inline uint32_t partition_of(std::string_view key, uint32_t partitions) {
  return static_cast<uint32_t>(stable_hash(key) % partitions);
}

}  // namespace grist
