#!/bin/bash
# Checks that the library compiles for arm64 (aarch64): every
# lib/grist/**/*.cpp through Debian's cross compiler (g++-aarch64-linux-gnu,
# scripts/install-deps.sh) with -fsyntax-only. Nothing is linked, so the
# arm64 -dev packages are not needed: the cross compiler's own headers
# (glibc, libstdc++ for arm64) come first, and /usr/include is searched
# after them (-idirafter) for the dependencies' headers, which are the same
# on every architecture (oneTBB, zstd, simdjson, xxHash, CLI11, ICU, zlib,
# bzip2, xz); /usr/include/x86_64-linux-gnu is never searched. This catches
# x86-only code: SSE2 intrinsics without an `#if defined(__SSE2__)` guard
# and a scalar fallback, x86-64-only builtins, 64-bit-long assumptions that
# break a build. Code under #ifdef GRIST_HAVE_MPI is not compiled here.
#
# Exit status: 0 when every file compiles, 1 otherwise (the errors are
# printed), 77 when the cross compiler is not installed.
set -uo pipefail
cd "$(dirname "$0")/.."
cxx=${GRIST_CROSS_CXX:-aarch64-linux-gnu-g++}
if ! command -v "$cxx" >/dev/null; then
  echo "cross-compile-check: $cxx is not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export cxx log
# One compiler per core; each failing file appends its errors to the log.
find lib/grist -name '*.cpp' -print0 | sort -z |
  xargs -0 -P "$(nproc)" -n 1 sh -c '
    out=$("$cxx" -std=c++20 -fsyntax-only -Ilib -idirafter /usr/include "$1" 2>&1) ||
      printf "%s\n%s\n" "FAILED: $1" "$out" >>"$log"' sh
files=$(find lib/grist -name '*.cpp' | wc -l)
if [ -s "$log" ]; then
  cat "$log" >&2
  echo "cross-compile-check: $(grep -c '^FAILED: ' "$log") of $files files do not compile for arm64" >&2
  exit 1
fi
echo "cross-compile-check: $files files compile for arm64 ($cxx)"
