#!/bin/sh
# ThreadSanitizer: builds grist with -DGRIST_SANITIZE=thread in build-tsan
# and runs its multi-threaded parts: the unit tests of the ordered pipeline
# (tokenize stream), Hogwild training, the parallel merge of partition
# directories, the I/O layer (multi-threaded zstd) and the regression tests
# (one of them is a race), then tests/tsan/run.sh: every threaded program
# (count, shuffle-sort, merge, tokenize, train-sgd, predict) with -j4 on
# spilling inputs, with and without --progress. The unit tests of count,
# shuffle and the external sort take 3 to 20+ minutes each under TSan (big
# inputs, statistical loops): add them with
# GRIST_TSAN_UNITS='count|shuffle|sort|external_sort|...' for a long run.
# Suppressions: tests/tsan/suppressions.txt, which covers Debian's
# uninstrumented libtbb only. Exit status 1 on any report.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRIST_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$jobs"
supp=$(pwd)/tests/tsan/suppressions.txt
rm -rf build-tsan/tsan-logs
mkdir -p build-tsan/tsan-logs
status=0
# halt_on_error: a report fails the test that caused it. history_size=7:
# without the longest history TSan loses the stack of the earlier access
# ("failed to restore the stack"), and a handoff through TBB (a worker of
# parallel_sort writes, the caller reads after it returns) is reported
# without the libtbb frames that the suppressions match.
(cd build-tsan && TSAN_OPTIONS="suppressions=$supp halt_on_error=1 second_deadlock_stack=1 history_size=7 allocator_may_return_null=1" \
  ctest --output-on-failure -j"$jobs" --timeout 600 \
  -R "^unit\.test_(${GRIST_TSAN_UNITS:-tokenize_tool|sgd|merge_tool|io|regressions})\$") \
  || status=1
GRIST_BIN=$(pwd)/build-tsan/bin TSAN_LOG_DIR=build-tsan/tsan-logs \
  bash tests/tsan/run.sh || status=1
exit $status
