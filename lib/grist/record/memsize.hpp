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

// The address-space limit of the process (ulimit -v, RLIMIT_AS) in bytes,
// or 0 when there is none.
uint64_t address_space_limit();

// The default working-memory budget under the address-space limit: as GNU
// sort does, at most half the limit (the rest is code, stacks, buffers),
// at least 1 MiB; `fallback` without a limit.
uint64_t default_memory_within_limit(uint64_t fallback);

// The default thread count under the address-space limit: `cpus`, but no
// more than a quarter of the limit holds the threads' stacks (4 MiB each).
int default_threads_within_limit(int cpus);

// Under an address-space limit, keeps the C library's per-thread malloc
// arenas from taking it: glibc reserves 64 MiB of address space for each
// (up to 8 per CPU), so 16 threads reserve 1 GiB whatever they allocate.
// Caps them to a quarter of the limit (a single arena under 512 MiB). Does
// nothing without a limit. Call it before starting threads.
void fit_address_space_limit();

// "1.5 GiB"-style rendering, for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace grist
