#!/usr/bin/env bash
# Runs the multi-threaded programs of a TSan build (GRIST_BIN) with -j2+
# on small inputs that make them spill, with and without --progress (the
# progress thread reads counters the workers write; several input files,
# so that the reader moves from one file to the next while it reads). Each TSan report is
# counted; the exit status is 1 if there was any. Reports go to
# $TSAN_LOG_DIR (default ./tsan-logs).
set -uo pipefail
export LC_ALL=C
: "${GRIST_BIN:?set GRIST_BIN to the bin directory of a TSan build}"
here=$(cd "$(dirname "$0")" && pwd)
logs=$(realpath -m "${TSAN_LOG_DIR:-tsan-logs}")
mkdir -p "$logs"
export TSAN_OPTIONS="suppressions=$here/suppressions.txt halt_on_error=0 second_deadlock_stack=1 history_size=7 log_path=$logs/tsan ${TSAN_OPTIONS:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
PATH=$GRIST_BIN:$PATH

awk 'BEGIN { srand(1); for (i = 0; i < 20000; i++) print "k" int(rand() * 5000) "\t" int(rand() * 9) }' > kv.txt
awk 'BEGIN { srand(2); for (i = 0; i < 5000; i++) { for (j = 0; j < 8; j++) printf "w%d ", int(rand() * 5000); print "" } }' > text.txt
awk 'BEGIN { srand(3); for (i = 0; i < 5000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 1000); print "" } }' > train.svm
mkdir spill
LC_ALL=C sort kv.txt > sorted.txt

status=0
step() {  # NAME CMD...
  local name=$1; shift
  local before after
  before=$(cat "$logs"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
  "$@" > /dev/null 2> err.txt
  local rc=$?
  after=$(cat "$logs"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
  local n=$((after - before))
  if [ "$rc" != 0 ] || [ "$n" != 0 ]; then status=1; fi
  printf '%-40s exit %s, %s TSan report(s)\n' "$name" "$rc" "$n"
  [ "$rc" = 0 ] || head -3 err.txt
}

for p in --no-progress --progress; do
  step "count -j4 $p" grist-count -j4 -S 1M -T spill $p kv.txt kv.txt kv.txt kv.txt
  step "count -j4 -p 3 $p" grist-count -j4 -S 1M -T spill -p 3 -o cnt.d $p kv.txt
  step "shuffle-sort -j4 $p" grist-shuffle-sort -j4 -S 1M -T spill $p kv.txt kv.txt kv.txt
  step "shuffle-sort --random -j4 $p" grist-shuffle-sort --random -j4 -S 1M -T spill $p kv.txt kv.txt kv.txt
  step "shuffle-sort -p 3 -j4 $p" grist-shuffle-sort -j4 -S 1M -T spill -p 3 -o sort.d $p kv.txt
  step "merge dirs -j4 $p" grist-merge -j4 --reduce sum -T spill -o merged.d $p cnt.d cnt.d
  step "merge -S 4M $p" grist-merge -S 4M --reduce sum -T spill $p sorted.txt sorted.txt sorted.txt
  step "tokenize -j4 $p" grist-tokenize -j4 --lower $p text.txt text.txt
  step "train-sgd -j4 (Hogwild) $p" grist-train-sgd -j4 -b 12 --passes 2 -T spill -f m.bin $p train.svm
  step "predict -j4 $p" grist-predict -j4 -i m.bin $p train.svm
  rm -rf cnt.d sort.d merged.d m.bin
done
echo "TSan logs: $logs"
exit $status
