// grist-shuffle-sort --check: whether lines are sorted as the external sort
// (external_sort.hpp) sorts them.
#pragma once

#include <cstdint>
#include <string>

#include "grist/io/block_reader.hpp"
#include "grist/sort/external_sort.hpp"

namespace grist {

// True if the lines are sorted (by key, or by whole line; with
// o.partitions by partition then key) — equal keys in any order, as for
// `sort -c`. Otherwise false, and *where = "FILE:LINE: disorder: LINE".
// *records: the lines read in order (all of them when sorted).
bool check_sorted(BlockReader& reader, const SortOptions& o, std::string* where,
                  uint64_t* records = nullptr);

}  // namespace grist
