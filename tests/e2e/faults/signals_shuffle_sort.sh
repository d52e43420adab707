#!/usr/bin/env bash
# SIGINT/SIGTERM at ten moments of a spilling grist-shuffle-sort run (sort,
# --random, and a partition directory).
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(3); for (i = 0; i < 300000; i++) print "k" int(rand() * 1000000) "\t" i }' > in.txt
signal_sweep "shuffle-sort" out.txt grist-shuffle-sort -q -S 1M -j2 -T spill -o out.txt in.txt
DELAYS="0.02 0.1 0.3" signal_sweep "shuffle-sort --random" out.txt \
  grist-shuffle-sort -q --random -S 1M -T spill -o out.txt in.txt
DELAYS="0.02 0.1 0.3" signal_sweep "shuffle-sort -p" out.d \
  grist-shuffle-sort -q -S 1M -p 3 -T spill -o out.d in.txt
finish
