#!/usr/bin/env bash
# The Hadoop Streaming contract: split the input, map + combine each piece
# (grist-tokenize --pairs | grist-count), shuffle each (grist-shuffle-sort
# -p R), reduce each partition (grist-merge --reduce sum): the result is the
# single-process word count.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(21); split("the a of and to in is was he for it with as his on be at by had not Über naïve 東京 don'"'"'t 3.14", w, " ")
  for (i = 0; i < 20000; i++) { l = ""; n = int(rand() * 12) + 1
    for (j = 0; j < n; j++) l = l (j ? " " : "") w[int(rand() * 26) + 1] int(rand() * (rand() < 0.5 ? 3 : 400))
    print l } }' > corpus.txt
grist-tokenize corpus.txt | grist-count > want.txt
split -n l/4 corpus.txt piece.
R=3
i=0
for p in piece.*; do
  grist-tokenize --pairs "$p" | grist-count | grist-shuffle-sort -S 1M -p $R -o shard$i
  i=$((i + 1))
done
grist-merge --reduce sum shard* -o reduced
for part in reduced/part-*.zst; do zstd -dc "$part"; done | sort > got.txt
check_eq "map-combine-shuffle-reduce equals one word count" want.txt got.txt
# The same with the reducer run partition by partition, as Hadoop would.
: > got2.txt
for p in $(seq 0 $((R - 1))); do
  grist-merge --reduce sum shard*/part-0000$p.zst >> got2.txt
done
sort got2.txt > got2s.txt
check_eq "per-partition reducers" want.txt got2s.txt
check_no_temps mapreduce "$WORK"
finish
