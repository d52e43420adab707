#!/usr/bin/env bash
# key<TAB>N lines add N: count(count(A) ++ count(B)) == count(A ++ B).
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(3); for (i = 0; i < 40000; i++) print "a" int(rand() * 5000) }' > a.txt
awk 'BEGIN { srand(4); for (i = 0; i < 40000; i++) print "a" int(rand() * 7000) }' > b.txt
grist-count a.txt > ca.txt
grist-count -o cb.zst b.txt
grist-count ca.txt cb.zst > merged.txt
cat a.txt b.txt | grist-count > direct.txt
check_eq "merged counts" direct.txt merged.txt
grist-count -S 1M ca.txt cb.zst > merged-spill.txt
check_eq "merged counts, spilling" direct.txt merged-spill.txt
printf 'x\t5\nx\ny\t0\nx\t18446744073709551609\n' | grist-count > big.txt
printf 'x\t18446744073709551615\ny\t0\n' > want.txt
check_eq "sums up to 2^64-1, zero counts kept" want.txt big.txt
finish
