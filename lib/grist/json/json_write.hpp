// Writing JSON text: string literals and numbers, escaped as RFC 8259 asks.
//
//   out += "{\"name\":" + grist::json_string(name) + ",\"auc\":" + grist::json_number(auc) + "}";
#pragma once

#include <string>
#include <string_view>

namespace grist {

// `s` as a JSON string literal, quotes included: '"', '\\' and control
// bytes escaped. Bytes that are not valid UTF-8 become U+FFFD, so that the
// text is always valid JSON.
std::string json_string(std::string_view s);

// `v` in the fewest digits that read back as the same double; null for
// NaN and infinities, which JSON has no spelling for.
std::string json_number(double v);

}  // namespace grist
