#!/bin/sh
# Builds the libFuzzer targets with clang-14 (ASan+UBSan) and runs each for
# SECONDS (default 30) on its seed corpus. Any finding fails the run; the
# crashing input is left in build-fuzz/findings/ to become a regression test.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRIST_FUZZ=ON -DGRIST_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"
mkdir -p build-fuzz/findings
status=0
for bin in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$bin" | sed 's/^fuzz_//')
  work=build-fuzz/corpus-$name
  mkdir -p "$work"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  echo "fuzz $name: ${secs}s"
  if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/findings/"$name"- -print_final_stats=1 \
      "$work" $seeds >build-fuzz/"$name".log 2>&1; then
    echo "fuzz $name: FINDING (build-fuzz/$name.log)"; tail -30 build-fuzz/"$name".log
    status=1
  else
    grep -E 'stat::number_of_executed_units' build-fuzz/"$name".log || true
  fi
done
exit $status
