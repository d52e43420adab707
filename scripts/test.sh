#!/bin/sh
# Runs the whole test suite: a Release build with every unit and end-to-end
# test, then the same suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer. GRIST_SKIP_SANITIZERS=1 skips the second.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs")
if [ "${GRIST_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGRIST_SANITIZE=address,undefined >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$jobs" -LE nosan)
fi
