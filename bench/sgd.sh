#!/bin/bash
# Benchmark grist-train-sgd against Vowpal Wabbit and liblinear on the
# synthetic sparse logistic problem of ../shared/bench/gen_logreg.py
# (2M train / 200k test, 2^20 features, ~30 active, seed 7; true-model
# logloss about 0.464). Prints examples/s, peak RSS and held-out
# logloss/accuracy/AUC for each trainer.
#
#   bench/sgd.sh [WORKDIR] [N_TRAIN] [N_TEST]
# Env: GRIST_BIN (default build/bin), KEEP=1 keeps WORKDIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=$here/../../shared/bench
bin=${GRIST_BIN:-$here/../build/bin}
work=${1:-${TMPDIR:-/tmp}/grist-bench-sgd}
ntrain=${2:-2000000}
ntest=${3:-200000}
mkdir -p "$work"
cd "$work"

if [ ! -s "train-$ntrain.svm" ]; then
  echo "generating $ntrain + $ntest examples (gen_logreg.py, seed 7)..." >&2
  python3 "$shared/gen_logreg.py" --n "$ntrain" --seed 7 --formats svm,vw --out "train-$ntrain" >/dev/null
  python3 "$shared/gen_logreg.py" --n "$ntest" --seed 7 --skip "$ntrain" --formats svm,vw --out "test-$ntrain" >/dev/null
fi
train=train-$ntrain
test=test-$ntrain
echo "true model: $(grep -o '"bayes_logloss": [0-9.]*' "$test.stats.json")"

# run NAME CMD...: times a training command; prints examples/s and peak RSS.
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>log.txt || { echo "$name failed:"; tail -3 log.txt; return 1; }
  read -r secs kb < time.txt
  awk -v n="$ntrain" -v s="$secs" -v kb="$kb" -v name="$name" \
    'BEGIN { printf "%-28s %8.2f s %10.0f examples/s  peak RSS %6.1f MiB  ", name, s, n / s, kb / 1024 }'
}
score() { python3 "$shared/eval_preds.py" "$test.svm" "$@"; }

for j in 1 2; do
  run "grist-train-sgd -j$j" "$bin/grist-train-sgd" -j$j -q "$train.svm" -f grist.gsgd
  "$bin/grist-predict" -i grist.gsgd "$test.svm" -o grist.preds
  score vw_prob grist.preds
done
run "grist-train-sgd -j2 (vw text)" "$bin/grist-train-sgd" -j2 -q "$train.vw" -f grist-vw.gsgd
"$bin/grist-predict" -i grist-vw.gsgd "$test.vw" -o grist-vw.preds
score vw_prob grist-vw.preds

if command -v vw >/dev/null; then
  run "vw (1 pass)" vw --quiet -d "$train.vw" -f vw.model --loss_function logistic -b 20
  vw --quiet -t -i vw.model -d "$test.vw" -p vw.preds --link logistic
  score vw_prob vw.preds
else
  echo "vw: not on the PATH, skipped"
fi
if command -v liblinear-train >/dev/null; then
  run "liblinear -s 0 (C=1)" liblinear-train -s 0 -q "$train.svm" ll.model
  liblinear-predict -b 1 "$test.svm" ll.model ll.preds >/dev/null
  score liblinear_prob ll.preds
else
  echo "liblinear: not installed (apt-get install liblinear-tools), skipped"
fi
echo "(fastText: text data only, not run on this numeric problem; see bench/textclass.sh)"
[ "${KEEP:-0}" = 1 ] || rm -f grist*.gsgd grist*.preds vw.model vw.preds ll.model ll.preds time.txt log.txt
