#!/usr/bin/env bash
# SIGINT/SIGTERM at ten moments of a spilling grist-count run (and with -p).
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(7); for (i = 0; i < 300000; i++) print "s" int(rand() * 2000000) }' > in.txt
signal_sweep "count" out.txt grist-count -q -S 1M -j2 -T spill -o out.txt in.txt in.txt
DELAYS="0.02 0.1 0.3" signal_sweep "count -p" out.d grist-count -q -S 1M -j2 -p 3 -T spill -o out.d in.txt
finish
