#!/bin/sh
# Runs the whole test suite: a Release build with every unit and end-to-end
# test, then the same suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer, after each libFuzzer target has run for a few seconds.
# GRIST_SKIP_SANITIZERS=1 and GRIST_SKIP_FUZZ=1 skip those stages.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs")
if [ "${GRIST_SKIP_FUZZ:-0}" != 1 ] && command -v clang++-14 >/dev/null; then
  ./scripts/fuzz.sh "${GRIST_FUZZ_SECONDS:-10}"
fi
if [ "${GRIST_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGRIST_SANITIZE=address,undefined >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$jobs" -LE nosan)
fi
