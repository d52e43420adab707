// What a program does with a line it cannot use (--on-error), and what it
// reports about the lines it skipped: how many, and the first one in input
// order, as "FILE:LINE: why". Every reader that skips keeps one of these,
// so the four programs that skip word their warning the same way.
#pragma once

#include <cstdint>
#include <string>

namespace grist {

enum class OnError { skip, fail };

struct SkippedLines {
  uint64_t count = 0;
  std::string first;  // "FILE:LINE: why" (file name escaped) of the earliest

  // Records one skipped line; `where_why` is kept when it is the first.
  void add(std::string where_why) {
    if (count++ == 0) first = std::move(where_why);
  }
  // The same, building the text only for the first (a hot path's skips).
  template <class MakeText>
  void add_lazily(MakeText make) {
    if (count++ == 0) first = make();
  }
  // Adds the skips of a later part of the input (blocks merged in order).
  void add(const SkippedLines& later) {
    if (count == 0) first = later.first;
    count += later.count;
  }
  // "skipped N WHAT (first: FILE:LINE: why)", WHAT being "bad line" or
  // "malformed line" and the like, made plural when N > 1.
  std::string warning(const std::string& what) const {
    return "skipped " + std::to_string(count) + " " + what + (count == 1 ? "" : "s") +
           " (first: " + first + ")";
  }
};

}  // namespace grist
