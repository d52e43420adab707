// Memory sizes written as GNU sort reads them.
#pragma once

#include <cstdint>
#include <string>

namespace grist {

// Parses "512M", "4G", "100k", "1T", "12345b", "50%" (of physical memory).
// A bare number is KiB, as in GNU sort. Suffixes are binary (K = 1024) and
// case-insensitive. Throws grist::UsageError on anything else.
uint64_t parse_memory_size(const std::string& text);

// Physical memory of the machine, in bytes.
uint64_t physical_memory();

// "1.5 GiB"-style rendering, for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace grist
