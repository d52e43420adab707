#!/usr/bin/env bash
# SIGINT/SIGTERM at each stage of a spilling grist-shuffle-sort run (sort,
# --random, and a partition directory): after the first and a later spill,
# at the first and the last merge pass, with the output partly written, and
# just before the commit.
# ctest-labels: nosan
# (Kept out of the sanitizer stage, where its dozens of full runs cost
# minutes: the cleanup these stop points reach runs under ASan in
# signals_all.sh, once per program.)
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(3); for (i = 0; i < 300000; i++) print "k" int(rand() * 1000000) "\t" i }' > in.txt
signal_sweep "shuffle-sort" out.txt "spill:1 spill:15 merge:1 merge:5 output:1 output:3 commit" \
  grist-shuffle-sort -q -S 1M -j2 -T spill -o out.txt in.txt
# --random: the spills are bucket frames of the scatter passes.
signal_sweep "shuffle-sort --random" out.txt "spill:1 spill:200 output:2 commit" \
  grist-shuffle-sort -q --random -S 1M -T spill -o out.txt in.txt
# commit:6: the directory's own rename (after 3 parts, the manifest and
# _SUCCESS).
signal_sweep "shuffle-sort -p" out.d "spill:3 merge:2 output:1 commit:1 commit:6" \
  grist-shuffle-sort -q -S 1M -p 3 -T spill -o out.d in.txt
finish
