#!/usr/bin/env bash
# ThreadSanitizer stage of CI (scripts/test.sh runs it; GRIST_SKIP_TSAN=1
# skips it there). Builds in build-tsan (-DGRIST_SANITIZE=thread, -O2 -g1,
# no MPI) only what it runs: the unit-test binary and the six programs.
# Then (about 3.5 minutes on 2 cores; with the build from scratch 5 to 6):
#  - unit tests of the multi-threaded modules, two processes at a time:
#    the ordered tokenize pipeline, Hogwild training, the parallel merge of
#    partition directories, the I/O layer (multi-threaded zstd, progress
#    counters), the regression tests (one is a race), and the cheap
#    threaded cases of count (partitioned counting), shuffle (parallel
#    bucket compression) and sort (runs of precompressed frames). The other
#    cases of count, shuffle, sort and external_sort take 2 to 20+ minutes
#    each under TSan: --full runs them.
#  - the programs with -j2, spilling (-S 1M): count (two files,
#    partitions), shuffle-sort (sort, partitions, --random), merge of
#    partition directories and of sorted files, tokenize (the ordered
#    pipeline over two blocks), train-sgd (Hogwild, two passes through the
#    cache), predict, serve (clients while the model is swapped, then
#    SIGTERM); count and shuffle-sort once more on 70,000 keys to
#    cross the 32768-record threshold of the parallel sorts; several with
#    --progress. Each output is checked against an oracle (sort, awk):
#    races through TBB workers are hidden by the suppressions (see below),
#    so a wrong result is the other way they can show.
# scripts/tsan.sh --full adds the long run: every threaded unit-test file
# whole (count, shuffle, sort, external_sort too: hours on 2 cores) and
# tests/tsan/run.sh (-j4, every program, with and without --progress).
# GRIST_TSAN_UNITS='a|b' replaces the list of whole files of --full.
# Suppressions: tests/tsan/suppressions.txt, Debian's uninstrumented libtbb
# only. Exit status 1 on any TSan report or wrong result; reports are in
# build-tsan/tsan-logs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
full=0
if [ "${1:-}" = --full ]; then full=1; fi
build=$root/build-tsan
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  -DGRIST_SANITIZE=thread -DGRIST_MPI=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target grist-unit-tests grist-count grist-shuffle-sort \
  grist-merge grist-tokenize grist-train-sgd grist-predict grist-serve
echo "tsan: build ${SECONDS}s"
t0=$SECONDS
supp=$root/tests/tsan/suppressions.txt
logs=$build/tsan-logs
rm -rf "$logs" "$build/tsan-work"
mkdir -p "$logs" "$build/tsan-work" "$build/test-tmp"
# history_size=7: without the longest history TSan loses the stack of the
# earlier access ("failed to restore the stack"), and a handoff through TBB
# (a worker of parallel_sort writes, the caller reads after it returns) is
# reported without the libtbb frames that the suppressions match.
opts="suppressions=$supp second_deadlock_stack=1 history_size=7 allocator_may_return_null=1"
status=0

# ---- unit tests: two Catch2 processes, one report stops a process (66).
export GRIST_TEST_TMP=$build/test-tmp
unit() {  # NAME SPEC: SPEC is a Catch2 test spec (tags, names, commas = or)
  if TSAN_OPTIONS="$opts halt_on_error=1" "$build/tests/grist-unit-tests" "$2" \
      >"$logs/unit-$1.txt" 2>&1; then
    echo "tsan unit $1: $(grep -E 'passed|failed' "$logs/unit-$1.txt" | tail -1)"
  else
    echo "tsan unit $1: FAILED ($logs/unit-$1.txt)"
    grep -A30 -m1 'WARNING: ThreadSanitizer' "$logs/unit-$1.txt" || tail -30 "$logs/unit-$1.txt"
    return 1
  fi
}
if [ $full = 1 ]; then
  files=${GRIST_TSAN_UNITS:-tokenize_tool|sgd|sgd_scale|merge_tool|io|regressions|count|shuffle|sort|external_sort}
  set --
  for f in ${files//|/ }; do
    unit "$f" "[test_$f]" & set -- "$@" $!
    if [ $# -ge "$jobs" ]; then wait "$1" || status=1; shift; fi
  done
  for p in "$@"; do wait "$p" || status=1; done
else
  unit a '[test_merge_tool],[test_io],[test_regressions],[test_serve],parallel bucket compression*' & a=$!
  unit b '[test_sgd],[test_sgd_scale],[test_tokenize_tool],partitioned counting writes every key once*,runs mix streamed records and precompressed frames' & b=$!
  wait $a || status=1
  wait $b || status=1
fi

echo "tsan: unit tests $((SECONDS - t0))s"
t0=$SECONDS

# ---- the programs with -j2: every report logged, counted per step.
export TSAN_OPTIONS="$opts halt_on_error=0 log_path=$logs/tsan"
export LC_ALL=C
PATH=$build/bin:$PATH
cd "$build/tsan-work"
mkdir spill
reports() { cat "$logs"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true; }
# step NAME CMD...: runs CMD (stdout to out.txt); fails on a non-zero exit
# or a new TSan report.
step() {
  local name=$1 before rc n start=$SECONDS; shift
  before=$(reports)
  if "$@" > out.txt 2> err.txt; then rc=0; else rc=$?; fi
  n=$(($(reports) - before))
  printf 'tsan %-46s exit %s, %s report(s), %3ss\n' "$name" "$rc" "$n" $((SECONDS - start))
  if [ "$rc" != 0 ] || [ "$n" != 0 ]; then status=1; grep -v '^ *#\|^$' err.txt | head -5; fi
}
# same NAME EXPECTED: out.txt equals EXPECTED.
same() {
  if cmp -s "$2" out.txt; then :; else echo "tsan $1: WRONG OUTPUT"; status=1; fi
}
# Input sizes: TSan sees no synchronisation inside libtbb, so every record
# handed from a TBB worker to another thread is a (suppressed) race, and
# each distinct address costs a report that is matched and then dropped
# (a linear scan per report): the cost grows with the square of the data.
# Hence small inputs: 20,000 records, 5,000 keys with -S 1M (several spills
# and merges), and 70,000 distinct keys without spilling to cross the
# 32768-record threshold of the parallel sorts (count tables, sort
# batches).
awk 'BEGIN { srand(1); for (i = 0; i < 20000; i++) print "k" int(rand() * 5000) "\t" 1 + int(rand() * 9) }' > kv.txt
awk 'BEGIN { for (i = 0; i < 70000; i++) print "k" (i * 7919) % 70000 "\t" 1 + i % 9 }' > big.txt
sum() { awk -F'\t' -v m="$1" '{ s[$1] += $2 } END { for (k in s) print k "\t" s[k] * m }' "$2" | sort; }
sum 2 kv.txt > sum2.txt
sum 1 big.txt > sumbig.txt
sort -s -t "$(printf '\t')" -k1,1 kv.txt > sorted.txt
sort -s -t "$(printf '\t')" -k1,1 big.txt > sortedbig.txt
# The merge of sorted files is the most expensive under TSan (each record
# read ahead by a TBB task): 5,000 records per input.
head -n 5000 sorted.txt > part.txt
sum 3 part.txt > sum3.txt
# ~1.5 MB of text: two 1 MiB blocks in flight in the ordered pipeline.
awk 'BEGIN { srand(2); for (i = 0; i < 40000; i++) { for (j = 0; j < 8; j++) printf "w%d ", int(rand() * 50000); print "" } }' > text.txt
tr -s ' ' '\n' < text.txt | sed '/^$/d' > tokens.txt
# 20,000 examples (~1.3 MB, two blocks) for Hogwild training.
awk 'BEGIN { srand(3); for (i = 0; i < 20000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 1000); print "" } }' > train.svm

step "count -j2 -S 1M, 2 files, spilling" grist-count -j2 -S 1M -T spill kv.txt kv.txt
same "count -j2 -S 1M" sum2.txt
step "count -j2, 70,000 keys (parallel sort)" grist-count -j2 -S 64M big.txt
same "count -j2, 70,000 keys" sumbig.txt
step "count -j2 -S 1M -p 3 --progress" grist-count -j2 -S 1M -T spill -p 3 -o cnt.d --progress kv.txt
step "shuffle-sort -j2 -S 1M, spilling" grist-shuffle-sort -j2 -S 1M -T spill kv.txt
same "shuffle-sort -j2 -S 1M" sorted.txt
step "shuffle-sort -j2, 70,000 (parallel sort)" grist-shuffle-sort -j2 -S 64M big.txt
same "shuffle-sort -j2, 70,000" sortedbig.txt
step "shuffle-sort -j2 -S 1M -p 3 --progress" grist-shuffle-sort -j2 -S 1M -T spill -p 3 -o sort.d --progress kv.txt
step "merge -j2 --single, sort.d" grist-merge -j2 --single sort.d
same "merge -j2 --single, sort.d" sorted.txt
step "shuffle-sort --random -j2 -S 1M" grist-shuffle-sort --random -j2 -S 1M -T spill kv.txt
sort out.txt > random-sorted.txt
sort kv.txt > out.txt
same "shuffle-sort --random (a permutation)" random-sorted.txt
step "merge -j2 --reduce sum, 2 directories" grist-merge -j2 --reduce sum -T spill -o merged.d cnt.d cnt.d
step "merge -j2 --single, merged.d" grist-merge -j2 --single merged.d
same "merge -j2 --reduce sum, 2 directories" sum2.txt
step "merge -j2 -S 1M --reduce sum, 3 files" grist-merge -j2 -S 1M --reduce sum -T spill part.txt part.txt part.txt
same "merge --reduce sum, 3 files" sum3.txt
step "tokenize -j2 --progress" grist-tokenize -j2 --progress text.txt
same "tokenize -j2" tokens.txt
step "train-sgd -j2 (Hogwild) --passes 2 --progress" grist-train-sgd -j2 -b 12 --passes 2 -T spill -f m.bin --progress train.svm
step "predict -j2" grist-predict -j2 -i m.bin train.svm
if [ "$(wc -l < out.txt)" != 20000 ]; then echo "tsan predict -j2: WRONG OUTPUT"; status=1; fi
# grist-serve -j2: three clients for 4 s while the model file is replaced
# by renames and SIGHUP (the model swap under requests), then SIGTERM
# (the drain); exit 0 and no report.
serve_check() {
  head -n 2000 train.svm | awk '{ $1 = -$1 } 1' | grist-train-sgd -q -b 12 -f m2.bin
  cp m.bin served.bin
  grist-serve -i served.bin -p 0 -j2 --poll 50 2> serve.log &
  local pid=$! port= i
  for i in $(seq 200); do
    port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' serve.log)
    [ -n "$port" ] && break
    sleep 0.1
  done
  head -n 20 train.svm > body.svm
  python3 "$root/tests/e2e/serve/client.py" load "$port" 4 body.svm - & local client=$!
  for i in 1 2 3 4 5 6; do
    if [ $((i % 2)) = 1 ]; then cp m2.bin s.tmp; else cp m.bin s.tmp; fi
    mv s.tmp served.bin
    sleep 0.5
  done
  kill -HUP "$pid"
  local crc=0 rc=0
  wait "$client" || crc=$?
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  cat serve.log >&2
  [ "$crc" = 0 ] && [ "$rc" = 0 ]
}
if command -v python3 >/dev/null; then
  step "serve -j2, load, 6 reloads, SIGHUP, SIGTERM" serve_check
else
  echo "tsan serve: skipped (no python3)"
fi
if [ -n "$(ls -A spill)" ]; then echo "tsan: files left in -T"; status=1; fi
cd "$root"
rm -rf "$build/tsan-work"
echo "tsan: programs $((SECONDS - t0))s"

if [ $full = 1 ]; then
  GRIST_BIN=$build/bin TSAN_LOG_DIR=$logs/run TSAN_OPTIONS="" bash tests/tsan/run.sh || status=1
fi
if [ $status = 0 ]; then echo "tsan: no report"; else echo "tsan: FAILED (reports in $logs)"; fi
exit $status
