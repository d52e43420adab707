#!/usr/bin/env bash
# Usage errors, a spill directory that fills up, SIGINT in the middle.
. "$(dirname "$0")/../lib/common.sh"

printf 'b\t1\na\t2\n' > small.txt
run_cmd o.txt e.txt grist-shuffle-sort -p 4 small.txt
check_status "-p without -o" 2 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort --combine avg small.txt
check_status "bad --combine" 2 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort --random --combine sum small.txt
check_status "--random --combine" 2 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort --by line --combine sum small.txt
check_status "--by line --combine sum" 2 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort -S 100k small.txt
check_status "tiny -S" 2 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort missing.txt
check_status "missing input" 1 "$rc"
check_grep "missing message" '^grist-shuffle-sort: missing.txt' e.txt

awk 'BEGIN { srand(3); for (i = 0; i < 1500000; i++) print "k" int(rand() * 1000000) "\t" i }' > big.txt

# A full spill directory: a 1 MiB tmpfs, if this machine lets us mount one.
mkdir -p small-tmp
if mount -t tmpfs -o size=1m tmpfs small-tmp 2>/dev/null; then
  for mode in "" "--random"; do
    run_cmd o.txt e.txt grist-shuffle-sort $mode -S 1M -T small-tmp -o out.txt big.txt
    check_status "full spill dir $mode" 1 "$rc"
    check_grep "full spill dir message $mode" 'No space left on device' e.txt
    check_no_file "full spill dir: no output $mode" out.txt
    [ -z "$(ls -A small-tmp)" ] && pass || fail "spill files left in small-tmp"
  done
  umount small-tmp
else
  skip_part "cannot mount a tmpfs here (the full-spill-directory check needs root)"
fi

# SIGINT/SIGTERM mid-run: stopped after the third spill
# (lib/grist/io/test_hook.hpp), then signalled.
for sig in INT TERM; do
  if stop_at spill:3 grist-shuffle-sort -S 1M -j2 -o out.txt big.txt big.txt 2> err.txt; then
    kill_stopped "$sig"
    check_status "SIG$sig: killed by it" $((128 + $(kill -l "$sig"))) "$rc"
  else
    fail "SIG$sig: the run ended (exit status $rc) before its third spill"
  fi
  check_no_file "SIG$sig: no output" out.txt
  check_no_temps "SIG$sig" "$WORK"
done
finish
