#!/usr/bin/env bash
# Output bytes do not depend on -j or -S (spills, merge levels).
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(2); for (i = 0; i < 300000; i++) { r = rand(); k = int(r * r * r * 200000);
             if (i % 3) print "w" k; else print "w" k "\t" int(rand() * 1000) } }' > in.txt
grist-count -j1 in.txt > a.txt
for opts in "-j2" "-j1 -S 1M" "-j2 -S 1M" "-j4 -S 2M" "-j2 -S 1G"; do
  # shellcheck disable=SC2086
  grist-count $opts in.txt > b.txt
  check_eq "grist-count $opts" a.txt b.txt
done
grist-count -j2 -S 1M --top 50 in.txt > t1.txt
grist-count -j1 --top 50 in.txt > t2.txt
check_eq "top across budgets" t1.txt t2.txt
check_no_temps determinism "$WORK"
finish
