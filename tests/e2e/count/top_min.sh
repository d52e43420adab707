#!/usr/bin/env bash
# --top K: count descending, ties by key ascending; --min-count N.
. "$(dirname "$0")/../lib/common.sh"

printf 'c\nb\na\nb\na\nd\nd\nd\ne\n' > in.txt
grist-count --top 3 in.txt > got.txt
printf 'd\t3\na\t2\nb\t2\n' > want.txt
check_eq "top 3 with a tie" want.txt got.txt
grist-count --top 100 in.txt > got.txt
printf 'd\t3\na\t2\nb\t2\nc\t1\ne\t1\n' > want.txt
check_eq "top more than keys" want.txt got.txt
grist-count --min-count 2 in.txt > got.txt
printf 'a\t2\nb\t2\nd\t3\n' > want.txt
check_eq "min-count" want.txt got.txt
grist-count --min-count 3 --top 5 in.txt > got.txt
printf 'd\t3\n' > want.txt
check_eq "min-count with top" want.txt got.txt
# Against sort on a larger input.
awk 'BEGIN { srand(5); for (i = 0; i < 100000; i++) print "t" int(rand() * rand() * 3000) }' > big.txt
grist-count -S 1M --top 25 big.txt > got.txt
grist-count big.txt | sort -t "$(printf '\t')" -k2,2nr -k1,1 > all.txt
head -25 all.txt > want.txt
check_eq "top 25 vs sort" want.txt got.txt
finish
