#!/usr/bin/env bash
# Golden outputs: the md5 of what every program writes for a fixed set of
# option combinations on generated inputs, compared with expected.md5 beside
# this script. A refactor must leave every line unchanged; a change of output
# on purpose regenerates the file (GRIST_GOLDEN_UPDATE=1) in the same commit
# and says why. With GRIST_SHARED_DATA=DIR (the development data: text/ and
# ml/), the same commands also run on those files and are compared with
# expected-shared.md5 (not in CI: the data is not in the repository).
. "$(dirname "$0")/../lib/common.sh"
here=$GRIST_SRC/tests/e2e/golden

# Deterministic inputs: a linear congruential generator in awk, so the bytes
# depend on nothing installed.
gen_text() {  # N lines of Zipf-like words, some capitalised, some punctuation
  awk -v n="$1" -v seed="$2" 'BEGIN {
    s = seed
    split("the of and to in a is that for it as was with be by on not he I this are or his from at which but have an they you were her she there one all we their can", w, " ")
    for (i = 1; i <= n; i++) {
      len = 3 + i % 11; line = ""
      for (j = 0; j < len; j++) {
        s = (s * 1103515245 + 12345) % 2147483648
        r = s % 1000
        if (r < 600) t = w[1 + r % 40]
        else if (r < 900) t = "word" (r * 7 % 300)
        else if (r < 950) t = toupper(substr("alpha", 1, 1)) "lpha" r % 17
        else t = "x" s % 100000
        line = line (j ? " " : "") t
        if (r % 97 == 0) line = line ","
      }
      print line (i % 5 == 0 ? "." : "")
    }
  }'
}
gen_svm() {  # N svmlight examples, label from a fixed linear rule
  awk -v n="$1" -v seed="$2" 'BEGIN {
    s = seed
    for (i = 1; i <= n; i++) {
      line = ""; score = 0.3
      for (f = 1; f <= 12; f++) {
        s = (s * 1103515245 + 12345) % 2147483648
        if (s % 3 == 0) continue
        v = (s % 2001 - 1000) / 1000
        score += v * ((f % 4) - 1.5)
        line = line " " f ":" v
      }
      print (score > 0 ? "+1" : "-1") line
    }
  }'
}

gen_text 4000 1 >text.txt
gen_text 3000 2 | gzip -n >text2.txt.gz
awk '{ printf "{\"id\":%d,\"text\":\"%s\"}\n", NR, $0 }' text.txt >text.jsonl
awk '{ printf "doc%d\t%s\n", NR % 37, $0 }' text.txt >text.tsv
gen_svm 3000 3 >train.svm
gen_svm 800 4 >test.svm
awk '{ l = $1; $1 = ""; print l " |f" $0 }' train.svm >train.vw
awk '{ l = $1; $1 = ""; print l " |f" $0 }' test.svm >test.vw
awk 'NR % 2 { print "+1\t" $0; next } { print "-1\t" toupper($0) " " NR % 7 }' text.txt >train.txt
awk '{ c = 1 + NR % 4; $1 = ""; print c $0 }' train.svm >multi.svm
grist-tokenize --pairs text.txt | grist-count >counts.tsv
grist-tokenize --pairs text2.txt.gz | grist-count >counts2.tsv

: >actual.md5
sum_of() {  # NAME FILE...: one line "NAME md5"
  local name=$1; shift
  printf '%s %s\n' "$name" "$(cat "$@" | md5sum | cut -d' ' -f1)" >>actual.md5
}
# case NAME CMD...: runs CMD with stdout to NAME.out; a failure is a failure.
case_() {
  local name=$1; shift
  if ! "$@" >"$name.out" 2>"$name.err"; then
    fail "$name: exit status $? ($(head -c 300 "$name.err"))"
  fi
  sum_of "$name" "$name.out"
}
dir_sum() {  # NAME DIR: the parts and the manifest
  sum_of "$1" "$2"/part-* "$2"/_manifest.json
}

S=(-S 1M)  # small enough to spill on these inputs
case_ tok.default grist-tokenize -j2 text.txt text2.txt.gz
case_ tok.lower.pairs grist-tokenize --lower --pairs text.txt
case_ tok.ngrams grist-tokenize --ngrams 1-3 --min-length 2 text.txt
case_ tok.ws grist-tokenize --mode whitespace text.txt
case_ tok.json grist-tokenize --json-field text text.jsonl
case_ tok.column grist-tokenize --column 2 --lower text.tsv
case_ tok.zst grist-tokenize --zstd --level 5 text.txt
case_ count.default grist-count -j2 counts.tsv counts2.tsv
case_ count.spill grist-count -j1 "${S[@]}" counts.tsv counts2.tsv
case_ count.top grist-count --top 25 counts.tsv counts2.tsv
case_ count.min grist-count --min-count 40 counts.tsv
case_ count.keys sh -c 'grist-tokenize text.txt | grist-count'
grist-count -p 4 -o count.parts counts.tsv counts2.tsv && dir_sum count.parts count.parts
case_ sort.default grist-shuffle-sort text.tsv
case_ sort.spill grist-shuffle-sort -j1 "${S[@]}" text.tsv
case_ sort.line grist-shuffle-sort --by line text.tsv
case_ sort.combine grist-shuffle-sort --combine sum counts.tsv counts2.tsv
case_ sort.combine.max grist-shuffle-sort --combine max --numeric counts.tsv counts2.tsv
case_ sort.random grist-shuffle-sort --random --seed 7 text.txt
case_ sort.random.spill grist-shuffle-sort --random --seed 7 -j1 "${S[@]}" text.txt
grist-shuffle-sort -p 3 -o sort.parts text.tsv && dir_sum sort.parts sort.parts
case_ merge.sum grist-merge --reduce sum counts.tsv counts2.tsv
case_ merge.max grist-merge --reduce max --numeric counts.tsv counts2.tsv
grist-count -p 4 -o count2.parts counts2.tsv
grist-merge --reduce sum -o merge.parts count.parts count2.parts && dir_sum merge.parts merge.parts
case_ merge.single grist-merge --single --reduce sum count.parts count2.parts

train() {  # NAME TRAIN TEST [OPTIONS...]: the model and its predictions
  local name=$1 tr=$2 te=$3; shift 3
  if ! grist-train-sgd -q -j1 "$@" -f "$name.model" "$tr" 2>"$name.err"; then
    fail "$name: train-sgd failed ($(head -c 300 "$name.err"))"
  fi
  sum_of "$name.model" "$name.model"
  case_ "$name.pred" grist-predict -j1 -i "$name.model" "$te"
}
train sgd.svm.adagrad train.svm test.svm
train sgd.svm.sgd train.svm test.svm --optimizer sgd
train sgd.svm.ftrl train.svm test.svm --optimizer ftrl --l1 0.001
train sgd.svm.hinge train.svm test.svm --loss hinge --no-normalize
train sgd.svm.squared train.svm test.svm --loss squared --l2 0.0001
train sgd.svm.passes train.svm test.svm --passes 3 --shuffle --seed 5 --holdout-every 10
train sgd.svm.batch train.svm test.svm --batch-size 16 --passes 2
train sgd.vw train.vw test.vw --quadratic ff -b 16
train sgd.text train.txt train.txt --ngrams 2 -b 18
train sgd.oaa multi.svm multi.svm --oaa 4
grist-train-sgd -q -j1 --readable-model sgd.readable train.txt >/dev/null 2>&1 \
  && sum_of sgd.readable sgd.readable

compare() {  # EXPECTED ACTUAL
  if [ "${GRIST_GOLDEN_UPDATE:-0}" = 1 ]; then
    cp "$2" "$1"; echo "wrote $1"; pass; return
  fi
  if [ ! -f "$1" ]; then fail "no $1 (run with GRIST_GOLDEN_UPDATE=1)"; return; fi
  if diff "$1" "$2" >diff.txt; then pass; else
    fail "outputs differ from $1:"; cat diff.txt >&2
  fi
}
compare "$here/expected.md5" actual.md5

if [ -n "${GRIST_SHARED_DATA:-}" ]; then
  d=$GRIST_SHARED_DATA
  : >actual.md5
  case_ shared.tok grist-tokenize --lower "$d"/text/*.txt.zst
  case_ shared.count sh -c "grist-tokenize --pairs '$d'/text/*.txt.zst | grist-count -S 8M"
  case_ shared.json grist-tokenize --json-field text "$d/text/moby.jsonl.zst"
  case_ shared.random grist-shuffle-sort --random --seed 3 "$d/text/austen.txt.zst"
  case_ shared.sort grist-shuffle-sort -S 4M shared.count.out
  m=$d/ml
  train shared.heart.svm "$m/heart_scale/heart_scale.svm" "$m/heart_scale/heart_scale.svm" --passes 2
  train shared.heart.vw "$m/heart_scale/heart_scale.vw" "$m/heart_scale/heart_scale.vw" --passes 2
  for f in svm vw; do
    train "shared.rcv1.$f" "$m/rcv1-small/rcv1.train.$f.zst" "$m/rcv1-small/rcv1.test.$f.zst" --passes 2
  done
  train shared.fmnist.svm "$m/fashion-mnist/fmnist.train.svm.zst" \
    "$m/fashion-mnist/fmnist.test.svm.zst" --oaa 10 --class-base 0
  train shared.fmnist.vw "$m/fashion-mnist/fmnist.train.vw.zst" \
    "$m/fashion-mnist/fmnist.test.vw.zst" --oaa 10
  compare "$here/expected-shared.md5" actual.md5
fi
finish
