#!/usr/bin/env bash
# Counts equal `LC_ALL=C sort | uniq -c` on ~1 million distinct keys (2 million lines), with
# and without spills.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(1); for (i = 0; i < 2000000; i++) { r = rand(); printf "k%d\n", int(r * r * 1500000) }
             print ""; print "Z"; print "\303\251t\303\251"; print "a b" }' > in.txt
# uniq -c pads counts with spaces and keys may hold spaces: strip the padding, split once.
sort in.txt | uniq -c | awk '{ n = $1; sub(/^ *[0-9]+ /, ""); print $0 "\t" n }' > want.txt

grist-count in.txt > got.txt
check_eq "in memory" want.txt got.txt
grist-count -S 8M -j2 in.txt > got-spill.txt
check_eq "spilling" want.txt got-spill.txt
check_no_temps oracle "$WORK"
finish
