// The order-preserving escape of a whole line used as a key where records
// split at the first TAB (spill runs of `grist-shuffle-sort --by line`):
// 0x08 -> 0x08 0x01, TAB -> 0x08 0x02. It is prefix-free and keeps byte
// order, so the memcmp order of encoded lines is the order of the lines.
#pragma once

#include <string>
#include <string_view>

namespace grist {

// out = the escaped `line` (out is cleared first).
void encode_line_key(std::string_view line, std::string& out);
// out = the line whose escape is `key` (out is cleared first).
void decode_line_key(std::string_view key, std::string& out);

}  // namespace grist
