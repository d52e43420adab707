#!/bin/bash
# Learning-rate sweep of grist-train-sgd on four small tasks: does the
# default rate (no -l) do as well as the best of -l 0.25 ... 64?
#   heart   ../shared/data/ml/heart_scale (270 examples, 13 numeric features
#           scaled to [-1, 1]): 5-fold cross-validation, fold f tests lines
#           f, f+5, f+10, ... and trains on the others in file order; the
#           figures are the means of the 5 folds (54 test examples each)
#   rcv1    ../shared/data/ml/rcv1-small (1000 train, 500 test; tf-idf)
#   fmnist  ../shared/data/ml/fashion-mnist (10000 train, 2000 test; raw
#           pixels 0-255; --oaa 10 --class-base 0)
#   text    the Austen-vs-Brown passages of bench/textdata.sh (--format text)
# Every run trains as a user would: default options (one pass, adagrad,
# the normaliser, unigrams, 2^20 weights) except -j1, so that the table is
# the same on every run, and OPTS. Test scores come from
# `grist-predict --metrics`: accuracy for every task, AUC and logloss for
# the binary ones.
#
#   bench/sweep.sh [WORKDIR]
# Env: GRIST_BIN (default build/bin), OPTS (more grist-train-sgd options for
# every run, e.g. "--optimizer sgd"), RATES (default
# "0.25 0.5 1 2 4 8 16 32 64").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../../shared/data/ml
bin=${GRIST_BIN:-$here/../build/bin}
work=${1:-${TMPDIR:-/tmp}/grist-bench-sweep}
rates=${RATES:-0.25 0.5 1 2 4 8 16 32 64}
read -r -a opts <<<"${OPTS:-}"
mkdir -p "$work"
"$here/textdata.sh" "$work"
cd "$work"
for f in rcv1-small/rcv1.train rcv1-small/rcv1.test fashion-mnist/fmnist.train \
         fashion-mnist/fmnist.test; do
  [ -s "${f#*/}.svm" ] || zstd -qdc "$data/$f.svm.zst" >"${f#*/}.svm"
done
for f in 0 1 2 3 4; do
  [ -s "heart$f.test.svm" ] && continue
  awk -v f=$f 'NR % 5 == f' "$data/heart_scale/heart_scale.svm" >"heart$f.test.svm"
  awk -v f=$f 'NR % 5 != f' "$data/heart_scale/heart_scale.svm" >"heart$f.train.svm"
done

# metrics TRAIN TEST [OPTION]...: "accuracy AUC logloss" (- where none) of a
# model trained on TRAIN with the options, tested on TEST.
metrics() {
  local train=$1 test=$2; shift 2
  "$bin/grist-train-sgd" -j1 -q ${opts[@]+"${opts[@]}"} "$@" "$train" -f sweep.gsgd
  "$bin/grist-predict" -i sweep.gsgd --metrics "$test" -o /dev/null 2>&1 | awk '
    /^grist-predict: [0-9]+ examples:/ {
      a = "-"; u = "-"; l = "-"
      for (i = 1; i <= NF; i++) {
        v = $(i + 1); sub(/,$/, "", v); v = sprintf("%.4f", v)
        if ($i == "accuracy") a = v; else if ($i == "AUC") u = v; else if ($i == "logloss") l = v
      }
      print a, u, l; found = 1
    }
    END { if (!found) { print "grist-predict: no metrics line" > "/dev/stderr"; exit 1 } }'
}
# task NAME [OPTION]...: the metrics of task NAME.
task() {
  local name=$1; shift
  case $name in
    heart)
      for f in 0 1 2 3 4; do metrics "heart$f.train.svm" "heart$f.test.svm" "$@"; done |
        awk '{ for (i = 1; i <= 3; i++) s[i] += $i } END { printf "%.4f %.4f %.4f\n", s[1] / NR, s[2] / NR, s[3] / NR }' ;;
    rcv1) metrics rcv1.train.svm rcv1.test.svm "$@" ;;
    fmnist) metrics fmnist.train.svm fmnist.test.svm --oaa 10 --class-base 0 "$@" ;;
    text) metrics train.txt test.txt --format text "$@" ;;
  esac
}

tasks=(heart rcv1 fmnist text)
echo "grist-train-sgd -j1${opts[*]+ ${opts[*]}}: test accuracy (AUC, logloss) by learning rate"
printf '%-8s %7s %7s %7s  %7s %7s %7s  %7s  %7s %7s %7s\n' "-l" heart AUC logloss rcv1 AUC logloss \
  fmnist text AUC logloss
declare -A acc
for lr in $rates default; do
  row=()
  for t in "${tasks[@]}"; do
    if [ "$lr" = default ]; then m=$(task "$t"); else m=$(task "$t" -l "$lr"); fi
    read -r a u l <<<"$m"
    acc[$t,$lr]=$a
    if [ "$t" = fmnist ]; then row+=("$a"); else row+=("$a" "$u" "$l"); fi
  done
  printf '%-8s %7s %7s %7s  %7s %7s %7s  %7s  %7s %7s %7s\n' "$lr" "${row[@]}"
done
# best vs default: the best accuracy of the sweep, its rate, the default's
# accuracy and the gap in points (100 x accuracy).
line="best vs default:"
for t in "${tasks[@]}"; do
  best=; blr=
  for lr in $rates; do
    if [ -z "$best" ] || awk -v a="${acc[$t,$lr]}" -v b="$best" 'BEGIN { exit !(a > b) }'; then
      best=${acc[$t,$lr]}; blr=$lr
    fi
  done
  line+=$(awk -v t="$t" -v b="$best" -v l="$blr" -v d="${acc[$t,default]}" \
    'BEGIN { printf "  %s %.4f (-l %s) vs %.4f: %+.1f", t, b, l, d, 100 * (d - b) }')
done
echo "$line"
rm -f sweep.gsgd
