#!/bin/bash
# Text classification benchmark: grist-train-sgd against fastText (and
# Vowpal Wabbit when `vw` is on the PATH) on the Austen-vs-Brown passages
# of ../shared/data/text that bench/textdata.sh builds (read it).
#
#   bench/textclass.sh [WORKDIR]
# Env: GRIST_BIN (default build/bin), PASSES (grist passes and fastText's
# "equal" epochs, default 3), KEEP=1 keeps WORKDIR's outputs.
# Prints for each run: training seconds (wall clock, and CPU seconds, user +
# system, which a busy shared machine disturbs less), examples/s (training
# examples x passes or epochs / wall seconds), peak RSS, and test
# logloss/accuracy/AUC computed by ../shared/bench/eval_preds.py for every
# tool (fastText's from `predict-prob ... 2`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=$here/../../shared
bin=${GRIST_BIN:-$here/../build/bin}
work=${1:-${TMPDIR:-/tmp}/grist-bench-textclass}
passes=${PASSES:-3}
mkdir -p "$work"
cd "$work"

"$here/textdata.sh" "$work"
ntrain=$(wc -l < train.txt)
ntest=$(wc -l < test.txt)
echo "task: austen (+1) vs brown (-1) passages of 5-24 words; $ntrain train, $ntest test examples"
printf '%-50s %8s %7s %12s %9s  %s\n' "tool, options" "train s" "CPU s" "examples/s" "RSS MiB" \
  "test scores"

# run NAME EPOCHS CMD...: times a training command, prints its figures.
run() {
  local name=$1 epochs=$2; shift 2
  /usr/bin/time -f "%e %M %U %S" -o time.txt "$@" >log.txt 2>&1 || { echo "$name failed:"; tail -3 log.txt; return 1; }
  read -r secs kb user sys < time.txt
  awk -v n="$ntrain" -v e="$epochs" -v s="$secs" -v kb="$kb" -v cpu="$user + $sys" -v name="$name" \
    'BEGIN { split(cpu, c, " [+] "); printf "%-50s %8.2f %7.2f %12.0f %9.1f  ", name, s, c[1] + c[2],
             n * e / (s > 0 ? s : 0.01), kb / 1024 }'
}
score() { python3 "$shared/bench/eval_preds.py" test.txt "$@"; }

# grist: first with default options only (unigrams, 2^20 weights, the
# default rate), then unigrams and bigrams in 2^22 weights. No -l: the
# default rate suits words as it does numeric features (bench/sweep.sh).
for p in 1 "$passes"; do
  run "grist-train-sgd -j1 (defaults, --passes $p)" "$p" \
    "$bin/grist-train-sgd" -j1 -q --format text --passes "$p" train.txt -f grist.gsgd
  "$bin/grist-predict" -i grist.gsgd test.txt -o grist.preds
  score vw_prob grist.preds
done
grist_opts=(--format text --ngrams 2 -b 22)
for j in 1 2; do
  run "grist-train-sgd -j$j --ngrams 2 (1 pass)" 1 \
    "$bin/grist-train-sgd" -j$j -q "${grist_opts[@]}" train.txt -f grist.gsgd
  "$bin/grist-predict" -i grist.gsgd test.txt -o grist.preds
  score vw_prob grist.preds
  run "grist-train-sgd -j$j --ngrams 2 --passes $passes" "$passes" \
    "$bin/grist-train-sgd" -j$j -q "${grist_opts[@]}" --passes "$passes" train.txt -f grist.gsgd
  "$bin/grist-predict" -i grist.gsgd test.txt -o grist.preds
  score vw_prob grist.preds
done

if command -v fasttext >/dev/null; then
  for j in 1 2; do
    for ng in 1 2; do
      run "fasttext -thread $j -wordNgrams $ng (5 epochs)" 5 \
        fasttext supervised -input train.ft -output ft -thread $j -wordNgrams $ng
      fasttext predict-prob ft.bin test.ft 2 > ft.preds
      score ft_prob ft.preds __label__pos
      run "fasttext -thread $j -wordNgrams $ng -epoch $passes" "$passes" \
        fasttext supervised -input train.ft -output ft -thread $j -wordNgrams $ng -epoch "$passes"
      fasttext predict-prob ft.bin test.ft 2 > ft.preds
      score ft_prob ft.preds __label__pos
    done
  done
else
  echo "fasttext: not on the PATH (apt-get install fasttext), skipped"
fi

if command -v vw >/dev/null; then
  for ng in 1 2; do
    vw_opts=(--loss_function logistic -b 22)
    [ "$ng" = 1 ] || vw_opts+=(--ngram "$ng")
    run "vw --ngram $ng (1 pass)" 1 vw --quiet -d train.vw -f vw.model "${vw_opts[@]}"
    vw --quiet -t -i vw.model -d test.vw -p vw.preds --link logistic
    score vw_prob vw.preds
    run "vw --ngram $ng --passes $passes" "$passes" vw --quiet -d train.vw -f vw.model \
      "${vw_opts[@]}" --passes "$passes" -c -k --holdout_off
    vw --quiet -t -i vw.model -d test.vw -p vw.preds --link logistic
    score vw_prob vw.preds
  done
else
  echo "vw: not on the PATH (Vowpal Wabbit is not packaged in Debian 12), skipped"
fi
[ "${KEEP:-0}" = 1 ] || rm -f grist.gsgd grist.preds ft.bin ft.vec ft.preds vw.model vw.preds \
  train.vw.cache time.txt log.txt
