#!/usr/bin/env bash
# SIGINT and SIGTERM in the middle of a spilling run (stopped after its
# second spill, lib/grist/io/test_hook.hpp): killed by the signal, no
# output file, no temporary files.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(7); for (i = 0; i < 300000; i++) print "s" int(rand() * 2000000) }' > in.txt
for sig in INT TERM; do
  if stop_at spill:2 grist-count -S 1M -j2 -o out.txt in.txt in.txt in.txt 2> err.txt; then
    kill_stopped "$sig"
    check_status "SIG$sig: killed by it" $((128 + $(kill -l "$sig"))) "$rc"
  else
    fail "SIG$sig: the run ended (exit status $rc) before its second spill"
  fi
  check_no_file "SIG$sig: no output" out.txt
  check_no_temps "SIG$sig" "$WORK"
done
finish
