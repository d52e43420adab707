#!/usr/bin/env bash
# A closed stdout ends grist-count quietly, as it ends cat.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 300000; i++) print "h" i }' > in.txt
set +e
grist-count in.txt 2> err.txt | head -1 > out.txt
status=("${PIPESTATUS[@]}")
set -e
check_grep "first line" '^h0	1$' out.txt
[ ! -s err.txt ] && pass || { fail "stderr not empty:"; cat err.txt >&2; }
case ${status[0]} in 0|141) pass ;; *) fail "exit status ${status[0]}" ;; esac
finish
