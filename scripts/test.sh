#!/bin/sh
# Runs the whole test suite (CI): a Release build with every unit and
# end-to-end test; each libFuzzer target for a few seconds (scripts/fuzz.sh,
# GRIST_FUZZ_SECONDS each, default 10); the same suite built with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-asan); then the
# ThreadSanitizer stage (scripts/tsan.sh, build-tsan: the multi-threaded
# modules' unit tests and the programs with -j2). About 18 minutes on 2
# cores (estimate), the TSan stage 4 to 6 of them (docs/reliability.md).
# Switches: GRIST_SKIP_FUZZ=1 skips the fuzzing, GRIST_SKIP_SANITIZERS=1
# skips both sanitizer stages, GRIST_SKIP_TSAN=1 only the TSan stage.
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
  if [ "${GRIST_SKIP_TSAN:-0}" != 1 ]; then
    ./scripts/tsan.sh
  fi
fi
