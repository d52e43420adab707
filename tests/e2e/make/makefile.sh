#!/usr/bin/env bash
# examples/Makefile: per-file counts and one total with make -j2;
#   - the total equals the single-process grist-tokenize | grist-count;
#   - touching one input redoes only its count and the total;
#   - a failing input and an interrupted run (SIGTERM while one input is
#     still being read) leave no target that make would take for finished.
. "$(dirname "$0")/../lib/common.sh"

if ! command -v make >/dev/null 2>&1; then
  skip "make not installed (scripts/install-deps.sh installs it)"
fi
MK=(make -s -f "$GRIST_SRC/examples/Makefile" GRIST_BIN="$GRIST_BIN")

mkdir data
for i in 1 2 3 4 5; do
  awk -v seed="$i" 'BEGIN {
    srand(seed)
    for (l = 0; l < 2000; l++) {
      line = ""
      for (k = 0; k < 10; k++) line = line (k ? " " : "") "w" int(rand() * rand() * 3000)
      print line
    }
    print "Grüße, naïve 東京 don'\''t"
  }' >"data/f$i.txt"
done
gzip -c data/f5.txt >data/f5.txt.zst  # a gzip file with a .zst name: read by content
rm data/f5.txt
for i in 1 2 3 4; do zstd -q --rm "data/f$i.txt"; done
grist-tokenize data/*.txt.zst | grist-count >expected.tsv

# 1. build
run_cmd out.txt err.txt "${MK[@]}" -j2
check_status "make -j2" 0 "$rc"
[ $rc -eq 0 ] || cat err.txt >&2
grist-merge total.tsv.zst >got.tsv
check_eq "total equals the single-process count" expected.tsv got.tsv
grist-tokenize data/f3.txt.zst | grist-count >f3.tsv
grist-merge counts/f3.tsv.zst >got3.tsv
check_eq "per-file count" f3.tsv got3.tsv

# 2. nothing to do; then touch one input: only its count and the total
run_cmd out.txt err.txt "${MK[@]}" -n
check_status "up to date" "" "$(cat out.txt)"
stamp() { stat -c %Y.%y "$@"; }
before=$(stamp counts/f1.tsv.zst counts/f2.tsv.zst counts/f4.tsv.zst counts/f5.tsv.zst)
total_before=$(stamp total.tsv.zst)
touch data/f3.txt.zst
"${MK[@]}" -n >plan.txt
check_grep "plan: count f3" 'data/f3\.txt\.zst' plan.txt
check_grep "plan: total" 'grist-count -q -o total\.tsv\.zst' plan.txt
check_status "plan: only f3's count and the total" 0 "$(grep -c 'data/f[1245]' plan.txt)"
run_cmd out.txt err.txt "${MK[@]}" -j2
check_status "make after touch" 0 "$rc"
check_status "other counts untouched" "$before" \
  "$(stamp counts/f1.tsv.zst counts/f2.tsv.zst counts/f4.tsv.zst counts/f5.tsv.zst)"
[ counts/f3.tsv.zst -nt data/f3.txt.zst ] && pass || fail "f3's count was not redone"
[ "$(stamp total.tsv.zst)" != "$total_before" ] && pass || fail "total not redone"
grist-merge total.tsv.zst >got.tsv
check_eq "total after touch" expected.tsv got.tsv

# 3. a failing input (truncated zstd): no count for it, no total
head -c 100 data/f1.txt.zst >data/bad.txt.zst
rm total.tsv.zst
run_cmd out.txt err.txt "${MK[@]}" -j2 -k
check_status "make with a corrupt input" 2 "$rc"
check_grep "the bad file named" 'bad\.txt\.zst' err.txt
check_no_file "no count for the corrupt input" counts/bad.tsv.zst
check_no_file "no temporary count" counts/bad.tsv.zst.tmp
check_no_file "no total" total.tsv.zst
rm data/bad.txt.zst

# 4. interrupted: a slow input (a FIFO that never ends); SIGTERM to make's
# process group while it is being read
mkfifo data/slow.txt.zst
exec 3<>data/slow.txt.zst  # a writer that never writes: the reader waits
setsid "${MK[@]}" -j2 >out.txt 2>err.txt &
mk=$!
trap 'kill -KILL -- -$mk 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  pgrep -g "$mk" -f 'grist-tokenize.*slow' >/dev/null && break
  sleep 0.05
done
# the other inputs' counts are done (small) before make is interrupted
for _ in $(seq 3000); do
  [ -f counts/f1.tsv.zst ] && [ -f counts/f2.tsv.zst ] && [ -f counts/f3.tsv.zst ] &&
    [ -f counts/f4.tsv.zst ] && [ -f counts/f5.tsv.zst ] && break
  sleep 0.01
done
kill -TERM -- -"$mk"
set +e
wait "$mk"
rc=$?
set -e
exec 3>&-
[ "$rc" -ne 0 ] && pass || fail "interrupted make exited 0"
# make may exit before its recipes' processes have finished cleaning up
for _ in $(seq 500); do
  pgrep -g "$mk" >/dev/null || break
  sleep 0.01
done
check_no_file "no count for the interrupted input" counts/slow.tsv.zst
check_no_file "no temporary count left" counts/slow.tsv.zst.tmp
check_no_file "no total after the interruption" total.tsv.zst
# grist's own hidden temporaries are not targets; they are gone too
left=$(find counts -name '*.grist-tmp.*')
[ -z "$left" ] && pass || fail "grist temporary left after SIGTERM: $left"
left=$(ps -o pid=,stat= -g "$mk" | awk '$2 !~ /^Z/ { print $1 }' || true)
[ -z "$left" ] && pass || fail "processes left: $left"
rm data/slow.txt.zst

# 5. and the next run finishes the job
run_cmd out.txt err.txt "${MK[@]}" -j2
check_status "make after the interruption" 0 "$rc"
grist-merge total.tsv.zst >got.tsv
check_eq "total after the interruption" expected.tsv got.tsv

finish
