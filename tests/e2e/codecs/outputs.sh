#!/usr/bin/env bash
# Outputs named .bz2 and .xz are written with bzip2 and xz by every program
# and for every kind of output (-o, train-sgd's -f and --readable-model), at
# the default level (and count at each end of the codec's --level range);
# bzip2 and xz read them back to the plain output. Partition directories keep zstd
# parts whatever the directory's name.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"
command -v bzip2 >/dev/null && command -v xz >/dev/null || { echo "skipped: no bzip2/xz"; exit 77; }

awk 'BEGIN { srand(4); for (i = 0; i < 20000; i++) print "w" int(rand() * 500) "\t" int(rand() * 9) }' > kv.txt
LC_ALL=C sort -s -t$'\t' -k1,1 kv.txt > sorted.txt
gen_svm 1500 4 > train.svm
grist-train-sgd -q -j1 -b 12 train.svm -f model.bin --readable-model readable.want
cp model.bin model.want

grist-tokenize kv.txt > tokenize.want
grist-count kv.txt > count.want
grist-shuffle-sort kv.txt > sort.want
grist-shuffle-sort --random --seed 7 kv.txt > random.want
grist-merge sorted.txt sorted.txt > merge.want
grist-predict -j1 -i model.bin train.svm > predict.want

# check_codec NAME CODEC WANT FILE: FILE is a CODEC stream of WANT.
check_codec() {
  if [ "$(head -c 3 "$4")" = "$([ "$2" = bzip2 ] && echo BZh || printf '\3757z')" ]; then pass; else
    fail "$1: $4 is not $2"; fi
  check_eq "$1" "$3" <($2 -dc "$4")
}

for codec in bzip2 xz; do
  ext=$([ $codec = bzip2 ] && echo bz2 || echo xz)
  range=$([ $codec = bzip2 ] && echo "1 9" || echo "0 9")
  for level in $range; do
    grist-count --level $level -o o.$ext kv.txt
    check_codec "count $codec --level $level" $codec count.want o.$ext
  done

  grist-tokenize -o o.$ext kv.txt
  check_codec "tokenize $codec" $codec tokenize.want o.$ext
  grist-tokenize -j3 -o o3.$ext kv.txt
  check_eq "tokenize $codec: same bytes with -j3" o.$ext o3.$ext
  grist-count -o o.$ext kv.txt
  check_codec "count $codec" $codec count.want o.$ext
  grist-shuffle-sort -o o.$ext kv.txt
  check_codec "shuffle-sort $codec" $codec sort.want o.$ext
  grist-shuffle-sort --random --seed 7 -o o.$ext kv.txt
  check_codec "shuffle-sort --random $codec" $codec random.want o.$ext
  grist-merge -o o.$ext sorted.txt sorted.txt
  check_codec "merge $codec" $codec merge.want o.$ext
  grist-predict -j1 -i model.bin -o o.$ext train.svm
  check_codec "predict $codec" $codec predict.want o.$ext
  grist-train-sgd -q -j1 -b 12 train.svm -f m.$ext --readable-model r.$ext
  check_codec "train-sgd -f $codec" $codec model.want m.$ext
  check_codec "train-sgd --readable-model $codec" $codec readable.want r.$ext
  grist-predict -j1 -i m.$ext train.svm > out
  check_eq "predict reads a $codec model" predict.want out

  # A partition directory named like a compressed file holds zstd parts.
  grist-count -p 2 -o parts.$ext kv.txt
  for part in parts.$ext/part-*; do
    if [ "$(od -An -tx1 -N4 "$part" | tr -d ' ')" = 28b52ffd ]; then pass; else
      fail "count -p -o parts.$ext: $part is not zstd"; fi
  done
  check_eq "count -p into parts.$ext" count.want <(grist-merge --single parts.$ext)
  rm -r parts.$ext
done
check_no_temps outputs "$WORK"
finish
