#!/usr/bin/env bash
# SIGINT in the middle of a spilling run: killed by the signal (or exit 1),
# no output file, no temporary files.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(7); for (i = 0; i < 3000000; i++) print "s" int(rand() * 2000000) }' > in.txt
for sig in INT TERM; do
  set +e
  $SIGDFL grist-count -S 1M -j2 -o out.txt in.txt in.txt in.txt 2> err.txt &
  pid=$!
  sleep 0.5
  kill -s $sig $pid
  wait $pid
  rc=$?
  set -e
  case $rc in 130|143|1) pass ;; *) fail "SIG$sig: exit status $rc" ;; esac
  check_no_file "SIG$sig: no output" out.txt
  check_no_temps "SIG$sig" "$WORK"
done
finish
