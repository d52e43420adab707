#!/usr/bin/env bash
# SIGINT/SIGTERM at each stage of a grist-merge run with intermediate runs
# in -T (more inputs than -S lets it merge at once): after an intermediate
# run, at the first and the last merge pass, with the output partly
# written, before the commit; and of a merge of partition directories.
# ctest-labels: nosan
# (Kept out of the sanitizer stage, where its dozens of full runs cost
# minutes: the cleanup these stop points reach runs under ASan in
# signals_all.sh, once per program.)
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(4); for (i = 0; i < 100000; i++) print "k" int(rand() * 1000000) "\t1" }' \
  | LC_ALL=C sort > s1.txt
for i in 2 3 4 5 6 7 8; do cp s1.txt s$i.txt; done
signal_sweep "merge" out.txt "spill:1 merge:1 merge:2 output:1 commit" \
  grist-merge -q -S 4M --reduce sum -T spill -o out.txt s?.txt
grist-count -q -p 4 -o d1 s1.txt
cp -r d1 d2
# commit:7: the directory's own rename (after 4 parts, the manifest and
# _SUCCESS).
signal_sweep "merge directories" out.d "merge:1 output:1 commit:1 commit:7" \
  grist-merge -q --reduce sum -T spill -o out.d d1 d2
finish
