#!/usr/bin/env bash
# The resource limits at full size (tests/e2e/faults/limits.sh runs
# them scaled down in CI): a line of 1 GiB, a line past the 4000 MiB limit,
# a key of 100 MB, 50 million distinct keys. Each case runs under `ulimit -v` (the stated memory: -S
# plus fixed overheads, or a small multiple of the one long record) and a
# watchdog (`timeout`), and checks the whole output against an oracle that
# is generated again as a stream (no sort of the expected output). It
# prints, per case: the exit status, the wall time and the peak RSS
# (/usr/bin/time -f %M). Exit status 1 if any case fails.
#
# Not in CI: it takes about 2 minutes on 2 cores (Release build) and needs
# ~4 GB of free disk in $TMPDIR and ~6 GB of memory (docs/reliability.md
# has the figures of the last run).
#
# Usage: scripts/limits-full.sh [BIN_DIR]   (default: build/bin, a Release
# build: `scripts/build.sh`). A JSON record nested 10,000 deep and a -S too
# small to work are already full size in limits.sh.
set -uo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$root/build/bin}")
[ -x "$bin/grist-count" ] || { echo "no grist-count in $bin (build first)" >&2; exit 2; }
PATH=$bin:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/grist-limits.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
mkdir spill
watchdog=900
status=0

# run NAME LIMIT_KIB CMD...: CMD under `ulimit -v LIMIT_KIB` and the
# watchdog, stdout to out, stderr to err; prints a line of figures and sets
# $rc. Exit 124 is the watchdog (a hang), 137 an OOM kill.
run() {
  local name=$1 limit=$2; shift 2
  bash -c "ulimit -v $limit; exec /usr/bin/time -f '%e %M' -o time.txt timeout $watchdog \"\$@\"" \
    run "$@" > out 2> err
  rc=$?
  read -r secs rss < <(tail -1 time.txt)
  printf '%-48s exit %s  %7s s  peak RSS %6d MiB  (ulimit -v %d MiB)\n' \
    "$name" "$rc" "$secs" $((rss / 1024)) $((limit / 1024))
  if [ "$rc" != 0 ]; then head -3 err; fi
}
# check NAME COND-COMMAND...: one verdict line.
check() {
  local name=$1; shift
  if "$@"; then echo "  ok: $name"; else echo "  FAIL: $name"; status=1; fi
}
gib=$((1024 * 1024))  # in KiB, for ulimit -v

# --- A line of 1 GiB (a key without a TAB), then a short line.
line() { head -c $((1 << 30)) /dev/zero | tr '\0' a; }
{ line; printf '\nb\n'; } > longline.txt
run "count -S 256M -j2, 1 GiB line" $((5 * gib)) grist-count -S 256M -j2 -T spill longline.txt
check "count, 1 GiB line: exit 0" [ "$rc" = 0 ]
check "count, 1 GiB line: whole output" cmp -s out <(line; printf '\t1\nb\t1\n')
run "shuffle-sort -S 256M, 1 GiB line" $((5 * gib)) grist-shuffle-sort -S 256M -T spill longline.txt
check "shuffle-sort, 1 GiB line: exit 0" [ "$rc" = 0 ]
check "shuffle-sort, 1 GiB line: whole output" cmp -s out longline.txt
{ printf 'b\n'; line; echo; } > unsorted.txt
# Merge holds the long line of each input, tokenize the line and its
# tokens: ~5.5 and ~5 times the line (at 5 GiB both stop with "out of
# memory", exit 1: a clear refusal, not a kill).
run "merge (out of order), 1 GiB line" $((8 * gib)) grist-merge longline.txt unsorted.txt
check "merge, 1 GiB line out of order: exit 1, names line 2" \
  eval '[ "$rc" = 1 ] && grep -Eq "unsorted.txt:2: .*order" err'
rm -f longline.txt unsorted.txt out
# Tokens: "word " over 1 GiB, one line.
words=$(((1 << 30) / 5))
{ (yes word || true) | head -n $words | tr '\n' ' '; echo; } > words.txt
run "tokenize -j2, 1 GiB line" $((8 * gib)) grist-tokenize -j2 words.txt
check "tokenize, 1 GiB line: exit 0" [ "$rc" = 0 ]
check "tokenize, 1 GiB line: $words tokens, all 'word'" \
  eval '[ "$(wc -l < out)" = $words ] && ! grep -qvx word out'
rm -f words.txt out

# --- A line past the 4000 MiB block limit (4200 MB, streamed, not stored):
# refused with a message naming it, never wrapped into 32-bit offsets.
hugeline() { head -c 4200000000 /dev/zero | tr '\0' a; printf '\nb\n'; }
for prog in count shuffle-sort tokenize; do
  run "$prog, a 4200 MB line" $((8 * gib)) grist-$prog <(hugeline)
  check "$prog, a 4200 MB line: exit 1, names line 1" \
    eval '[ "$rc" = 1 ] && grep -q ": line 1 is longer than 4000 MiB" err && [ ! -s out ]'
done

# --- A key of 100 MB, twice, with counts: summed.
key() { head -c 100000000 /dev/zero | tr '\0' k; }
{ key; printf '\t2\n'; key; printf '\t3\n'; } > bigkey.txt
run "count -S 16M, 100 MB key" $((3 * gib / 2)) grist-count -S 16M -T spill bigkey.txt
check "count, 100 MB key: whole output" eval '[ "$rc" = 0 ] && cmp -s out <(key; printf "\t5\n")'
run "shuffle-sort -S 16M --combine sum, 100 MB key" $((3 * gib / 2)) \
  grist-shuffle-sort -S 16M --combine sum -T spill bigkey.txt
check "shuffle-sort --combine sum, 100 MB key: whole output" \
  eval '[ "$rc" = 0 ] && cmp -s out <(key; printf "\t5\n")'
run "merge --reduce sum, 100 MB key" $((3 * gib / 2)) grist-merge --reduce sum -T spill bigkey.txt
check "merge --reduce sum, 100 MB key: whole output" \
  eval '[ "$rc" = 0 ] && cmp -s out <(key; printf "\t5\n")'
rm -f bigkey.txt out

# --- 50 million distinct keys k000000000..k049999999 with counts 1..7, in
# a scrambled order (i * P mod N, P prime to N): the expected output is the
# keys in order, generated again, compared whole.
n=50000000
awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) { k = (i * 27644437) % n; printf "k%09d\t%d\n", k, k % 7 + 1 } }' > keys.txt
expected() { awk -v n=$n 'BEGIN { for (k = 0; k < n; k++) printf "k%09d\t%d\n", k, k % 7 + 1 }'; }
run "count -S 256M -j2, 50M distinct keys" $((3 * gib / 2)) grist-count -S 256M -j2 -T spill keys.txt
check "count, 50M keys: whole output ($n lines)" eval '[ "$rc" = 0 ] && cmp -s out <(expected)'
run "shuffle-sort -S 256M -j2 --combine sum, 50M keys" $((3 * gib / 2)) \
  grist-shuffle-sort -S 256M -j2 --combine sum -T spill keys.txt
check "shuffle-sort --combine sum, 50M keys: whole output" eval '[ "$rc" = 0 ] && cmp -s out <(expected)'
check "nothing left in -T" eval '[ -z "$(ls -A spill)" ]'
exit $status
