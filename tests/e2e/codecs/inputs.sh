#!/usr/bin/env bash
# bzip2 and xz inputs, recognised by their first bytes, read by every
# program and for every kind of input file (data, stdin, a model, a stop
# word list), single and concatenated streams: the outputs equal those of
# the plain inputs.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"
command -v bzip2 >/dev/null && command -v xz >/dev/null || { echo "skipped: no bzip2/xz"; exit 77; }

awk 'BEGIN { srand(3); for (i = 0; i < 20000; i++) print "w" int(rand() * 500) "\t" int(rand() * 9) }' > kv.txt
LC_ALL=C sort -s -t$'\t' -k1,1 kv.txt > sorted.txt
head -n 2000 kv.txt > kv-head.txt
tail -n +2001 kv.txt > kv-tail.txt
gen_svm 1500 4 > train.svm
printf 'w1\nw2\n' > stop.txt
grist-train-sgd -q -j1 -b 12 train.svm -f model.bin

# The plain outputs.
grist-tokenize --stopwords stop.txt kv.txt > tokenize.want
grist-count kv.txt > count.want
grist-shuffle-sort kv.txt > sort.want
grist-shuffle-sort --random --seed 7 kv.txt > random.want
grist-merge sorted.txt sorted.txt > merge.want
grist-train-sgd -q -j1 -b 12 train.svm -f train.want
grist-predict -j1 -i model.bin train.svm > predict.want

for codec in bzip2 xz; do
  ext=$([ $codec = bzip2 ] && echo bz2 || echo xz)
  for f in kv.txt sorted.txt train.svm stop.txt model.bin; do $codec -c $f > $f.$ext; done
  # Two streams, as `cat a.bz2 b.bz2` and parallel compressors make them.
  { $codec -c kv-head.txt; $codec -c kv-tail.txt; } > kv2.txt.$ext
  # A name that says nothing: the first bytes decide.
  cp kv.txt.$ext kv-noext

  grist-tokenize --stopwords stop.txt.$ext kv.txt.$ext > out
  check_eq "tokenize $codec (input and stop words)" tokenize.want out
  grist-count kv.txt.$ext > out
  check_eq "count $codec" count.want out
  grist-count kv2.txt.$ext > out
  check_eq "count $codec, two streams" count.want out
  grist-count kv-noext > out
  check_eq "count $codec, sniffed without a suffix" count.want out
  grist-count - < kv.txt.$ext > out
  check_eq "count $codec on stdin" count.want out
  $codec -c kv.txt | grist-count > out
  check_eq "count $codec from a pipe" count.want out
  grist-shuffle-sort kv2.txt.$ext > out
  check_eq "shuffle-sort $codec" sort.want out
  grist-shuffle-sort --random --seed 7 kv.txt.$ext > out
  check_eq "shuffle-sort --random $codec" random.want out
  grist-merge sorted.txt.$ext sorted.txt > out
  check_eq "merge $codec" merge.want out
  grist-train-sgd -q -j1 -b 12 train.svm.$ext -f out
  check_eq "train-sgd $codec" train.want out
  grist-predict -j1 -i model.bin.$ext train.svm.$ext > out
  check_eq "predict $codec (input and model)" predict.want out
done
check_no_temps inputs "$WORK"
finish
