#!/usr/bin/env bash
# SIGINT/SIGTERM at each stage of a spilling grist-count run (and with -p):
# after the first and a later spill, at the first and the last merge pass,
# with the output partly written, and just before the commit (for -p: the
# first part's and the directory's).
# ctest-labels: nosan
# (Kept out of the sanitizer stage, where its dozens of full runs cost
# minutes: the cleanup these stop points reach runs under ASan in
# signals_all.sh, once per program.)
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(7); for (i = 0; i < 300000; i++) print "s" int(rand() * 2000000) }' > in.txt
signal_sweep "count" out.txt "spill:1 spill:40 merge:1 merge:4 output:1 output:2 commit" \
  grist-count -q -S 1M -j2 -T spill -o out.txt in.txt in.txt
# commit:6: parts 0 to 2, _manifest.json and _SUCCESS are in the temporary
# directory; the sixth rename is the directory's own.
signal_sweep "count -p" out.d "spill:2 merge:2 output:1 commit:1 commit:6" \
  grist-count -q -S 1M -j2 -p 3 -T spill -o out.d in.txt
finish
