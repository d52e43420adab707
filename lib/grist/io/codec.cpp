#include "grist/io/codec.hpp"

#include <algorithm>
#include <cstring>

#include "grist/error.hpp"

namespace grist {

namespace {

// Levels as each codec's own program takes them. zstd's 20-22 (the zstd
// program's --ultra) are accepted as they are: they need up to a 128 MiB
// window to decompress, which every zstd decoder allows by default.
const Codec kCodecs[] = {
    {Compression::zstd, "zstd", ".zst", 1, 22, 3},
    {Compression::gzip, "gzip", ".gz", 1, 9, 6},
    {Compression::bzip2, "bzip2", ".bz2", 1, 9, 9},
    {Compression::xz, "xz", ".xz", 0, 9, 6},
};

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string range_of(const Codec& c) {
  return std::to_string(c.min_level) + "-" + std::to_string(c.max_level);
}

}  // namespace

std::span<const Codec> codecs() { return kCodecs; }

const Codec* find_codec(Compression c) {
  for (const Codec& k : kCodecs) {
    if (k.kind == c) return &k;
  }
  return nullptr;
}

const char* compression_name(Compression c) {
  const Codec* k = find_codec(c);
  return k ? k->name : "plain";
}

Compression compression_for_name(const std::string& path) {
  for (const Codec& k : kCodecs) {
    if (ends_with(path, k.suffix)) return k.kind;
  }
  return Compression::none;
}

std::string level_ranges() {
  std::string s;
  for (const Codec& k : kCodecs) s += (s.empty() ? "" : ", ") + std::string(k.name) + " " + range_of(k);
  return s;
}

int lowest_level() {
  int v = kCodecs[0].min_level;
  for (const Codec& k : kCodecs) v = std::min(v, k.min_level);
  return v;
}

int highest_level() {
  int v = kCodecs[0].max_level;
  for (const Codec& k : kCodecs) v = std::max(v, k.max_level);
  return v;
}

void check_level(Compression c, int level, const std::string& output) {
  if (level == kDefaultLevel) return;
  const Codec* k = find_codec(c);
  std::string given = "--level " + std::to_string(level) + ": ";
  if (!k) {
    std::string suffixes;
    for (const Codec& x : kCodecs) suffixes += (suffixes.empty() ? "" : ", ") + std::string(x.suffix);
    throw UsageError(given + output + " is not compressed (name it " + suffixes +
                     ", or give --zstd)");
  }
  if (level < k->min_level || level > k->max_level) {
    throw UsageError(given + k->name + ", the codec of " + output + ", takes levels " +
                     range_of(*k));
  }
}

}  // namespace grist
