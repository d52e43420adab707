#include "grist/sgd/names.hpp"

#include <algorithm>

#include "grist/error.hpp"

namespace grist::sgd {

namespace {
// off_ value of an index seen after the arena filled: "has" is then still
// one load, and the index is not counted twice.
constexpr uint32_t kDropped = UINT32_MAX;
}  // namespace

FeatureNames::FeatureNames(int bits, size_t max_bytes)
    : bits_(bits), max_bytes_(std::min<size_t>(max_bytes, size_t(UINT32_MAX) - 2 * (kMaxName + 1))) {
  if (bits < 1 || bits > 30) throw Error("-b must be between 1 and 30");
  off_.reset(new std::atomic<uint32_t>[size()]());
}

void FeatureNames::add(uint32_t i, std::string_view name) {
  if (name.size() > kMaxName) {
    size_t n = kMaxName;
    // Back up over UTF-8 continuation bytes so that no code point is cut.
    while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
    name = name.substr(0, n);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (off_[i].load(std::memory_order_relaxed) != 0) return;
  if (arena_.size() + 1 + name.size() > max_bytes_) {
    off_[i].store(kDropped, std::memory_order_relaxed);
    ++dropped_;
    return;
  }
  uint32_t at = static_cast<uint32_t>(arena_.size());
  arena_ += static_cast<char>(name.size());
  arena_.append(name);
  off_[i].store(at + 1, std::memory_order_relaxed);
  ++named_;
}

std::string_view FeatureNames::name(uint32_t i) const {
  uint32_t o = off_[i].load(std::memory_order_relaxed);
  if (o == 0 || o == kDropped) return {};
  size_t at = o - 1;
  size_t n = static_cast<unsigned char>(arena_[at]);
  return std::string_view(arena_).substr(at + 1, n);
}

}  // namespace grist::sgd
