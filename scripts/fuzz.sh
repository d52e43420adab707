#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang-14
# (ASan+UBSan) and runs each for SECONDS (default 30) on its seed corpus
# (tests/fuzz/corpus/NAME), JOBS targets at a time (default: the number of
# CPUs). Any finding fails the run; the input is left in
# build-fuzz/findings/NAME-* to become a regression test, and the log in
# build-fuzz/NAME.log. Extra corpus grown during the run stays in
# build-fuzz/corpus-NAME (a later run starts from it).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
jobs=${JOBS:-$(nproc)}
targets=$(for f in tests/fuzz/fuzz_*.cpp; do basename "$f" .cpp; done)
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRIST_FUZZ=ON -DGRIST_TESTS=OFF >/dev/null
# Only the fuzz targets (and the library): the tools are not needed here.
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$(nproc)" --target $targets
mkdir -p build-fuzz/findings
# UBSan checks are built recoverable: make any report a finding.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

run_one() {
  name=$1
  bin=build-fuzz/fuzz/fuzz_$name
  work=build-fuzz/corpus-$name
  mkdir -p "$work"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  # -timeout: an input that runs 10 s is a hang; -rss_limit_mb: also caps
  # single allocations (a size read from the input must not be trusted).
  # shellcheck disable=SC2086
  if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/findings/"$name"- -print_final_stats=1 \
      "$work" $seeds >build-fuzz/"$name".log 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/"$name".log)
    echo "fuzz $name: ${secs}s, ${execs:-?} inputs, no finding"
  else
    echo "fuzz $name: FINDING (build-fuzz/$name.log)"
    tail -40 build-fuzz/"$name".log
    return 1
  fi
}

status=0
set --
for t in $targets; do
  name=${t#fuzz_}
  run_one "$name" > build-fuzz/"$name".summary 2>&1 &
  set -- "$@" "$!:$name"
  if [ $# -ge "$jobs" ]; then
    entry=$1; shift
    wait "${entry%%:*}" || status=1
    cat build-fuzz/"${entry#*:}".summary
  fi
done
for entry in "$@"; do
  wait "${entry%%:*}" || status=1
  cat build-fuzz/"${entry#*:}".summary
done
exit $status
