#!/usr/bin/env bash
# Sort, partitions, --check, --combine and --random against coreutils oracles
# on generated input: many equal keys, empty keys and values, lines without a
# TAB, non-ASCII and very long keys.
. "$(dirname "$0")/../lib/common.sh"

long=$(printf 'L%.0s' $(seq 1 3000))
awk -v long="$long" 'BEGIN {
  srand(11)
  split("a ab a\001b \303\251 \346\227\245\346\234\254 zz b", ks, " ")
  for (i = 0; i < 250000; i++) {
    r = rand()
    if (r < 0.3) k = ks[int(rand() * 7) + 1]; else if (r < 0.31) k = long int(rand() * 3); else if (r < 0.33) k = ""; else k = "k" int(rand() * 20000)
    v = rand()
    if (v < 0.1) print k; else if (v < 0.15) print k "\t"; else print k "\t" i
  }
}' > in.txt
sort -s -t$'\t' -k1,1 in.txt > want.txt
for opts in "-S 1M -j1" "-S 1M -j2" "-S 3M -j2" "-j2"; do
  grist-shuffle-sort $opts in.txt > out.txt
  check_eq "sort $opts" want.txt out.txt
done
grist-shuffle-sort -S 1M -o out.zst < in.txt
zstd -dc out.zst > out.txt
check_eq "stdin to .zst" want.txt out.txt

# --by line: a plain byte sort.
sort in.txt > lines.txt
grist-shuffle-sort --by line -S 1M in.txt > out.txt
check_eq "--by line" lines.txt out.txt
grist-shuffle-sort --by line --combine first in.txt > out.txt
sort -u in.txt > uniq.txt
check_eq "--by line --combine first is sort -u" uniq.txt out.txt

# --check
run_cmd o.txt e.txt grist-shuffle-sort --check want.txt
check_status "--check sorted" 0 "$rc"
printf 'a\t1\nc\t2\nb\t3\n' > unsorted.txt
run_cmd o.txt e.txt grist-shuffle-sort --check unsorted.txt
check_status "--check unsorted" 1 "$rc"
check_grep "--check message" '^grist-shuffle-sort: unsorted.txt:3: disorder: b' e.txt

# Partitions: every part sorted, every key in one part, the union the input.
grist-shuffle-sort -S 1M -p 5 -o parts.d in.txt
check_grep "manifest" '"partitions": 5' parts.d/_manifest.json
[ -e parts.d/_SUCCESS ] && pass || fail "no _SUCCESS"
: > union.txt
for p in parts.d/part-*.zst; do
  zstd -dc "$p" > part.txt
  sort -s -t$'\t' -k1,1 part.txt | cmp -s - part.txt && pass || fail "$p not sorted"
  cut -f1 part.txt | sort -u >> keys.txt
  cat part.txt >> union.txt
done
[ "$(sort keys.txt | uniq -d | wc -l)" -eq 0 ] && pass || fail "a key in two parts"
# Part files hold key TAB value: a line without a TAB gains one.
awk 'index($0, "\t") == 0 { print $0 "\t"; next } { print }' in.txt | sort > in-norm.txt
sort union.txt > union-sorted.txt
check_eq "union of parts" in-norm.txt union-sorted.txt
grist-shuffle-sort -j1 -S 3M -p 5 -o parts2.d in.txt
for i in 0 4; do
  cmp -s parts.d/part-0000$i.zst parts2.d/part-0000$i.zst && pass || fail "part $i differs"
done

# --combine sum equals an awk reduction of the sort.
awk -F'\t' 'NF > 1 && $2 != "" && $2 !~ /\t/ { print $1 "\t" $2 }' in.txt | grep -v "$(printf '\t')[0-9]*$(printf '\t')" > kv.txt || true
sort -s -t$'\t' -k1,1 kv.txt | awk -F'\t' '
  NR > 1 && $1 != k { print k "\t" s; s = 0 } { k = $1; s += $2 } END { if (NR) print k "\t" s }' > sums.txt
grist-shuffle-sort -S 1M --combine sum kv.txt > out.txt
check_eq "--combine sum" sums.txt out.txt
run_cmd o.txt e.txt grist-shuffle-sort --combine sum in.txt
check_status "--combine sum on empty values" 1 "$rc"
check_grep "sum message" 'not an unsigned 64-bit integer' e.txt

# --random: a permutation, the same for a seed and every -S, another for another seed.
grist-shuffle-sort --random --seed 5 in.txt > r1.txt
grist-shuffle-sort --random --seed 5 -S 1M -j1 < in.txt > r2.txt
grist-shuffle-sort --random --seed 6 -S 2M in.txt > r3.txt
check_eq "--random same seed, any -S" r1.txt r2.txt
cmp -s r1.txt r3.txt && fail "--random: seeds 5 and 6 agree" || pass
sort r1.txt > r1s.txt
check_eq "--random is a permutation" lines.txt r1s.txt
cmp -s r1.txt in.txt && fail "--random left the input as it was" || pass
check_no_temps oracle "$WORK"
finish
