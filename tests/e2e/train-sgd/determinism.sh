#!/bin/bash
# What the README and the man page promise about reproducible models:
# with -j1, and with mini-batches at any -j, the same inputs and options give
# the same model file, byte for byte (every optimiser, one pass or several
# from the cache, shuffled or not, with --readable-model names); with -j2
# (Hogwild) the model may differ from run to run but is as good: its
# held-out loss is close to -j1's. Predictions never depend on -j.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

# Over 1 MiB: several blocks, so that two threads really share the work.
gen_svm 25000 1 > train.svm
gen_svm 3000 2 > test.svm
[ "$(wc -c < train.svm)" -gt 1200000 ] && pass || fail "train.svm is under 2 blocks"

logloss() { grist-predict -i "$1" test.svm --metrics 2>&1 >/dev/null | sed -n 's/.*logloss \([0-9.]*\).*/\1/p'; }

for opt in adagrad sgd ftrl; do
  for passes in "--passes 1" "--passes 3 --shuffle --seed 5"; do
    name="$opt $passes"
    for run in 1 2; do
      grist-train-sgd -q -j1 --optimizer "$opt" $passes -b 16 train.svm -f "m$run.gsgd" \
        --readable-model "r$run.txt"
    done
    check_eq "-j1 twice, $name: the same model bytes" m1.gsgd m2.gsgd
    check_eq "-j1 twice, $name: the same readable model" r1.txt r2.txt
    # Mini-batches train on one thread: reproducible whatever -j.
    grist-train-sgd -q -j2 --optimizer "$opt" $passes --batch-size 8 -b 16 train.svm -f b1.gsgd
    grist-train-sgd -q -j1 --optimizer "$opt" $passes --batch-size 8 -b 16 train.svm -f b2.gsgd
    check_eq "mini-batches, -j2 and -j1, $name: the same model bytes" b1.gsgd b2.gsgd
    # Hogwild: as good as -j1 (held-out logloss within 0.02 or 5%).
    grist-train-sgd -q -j2 --optimizer "$opt" $passes -b 16 train.svm -f h.gsgd
    l1=$(logloss m1.gsgd) l2=$(logloss h.gsgd)
    awk -v a="$l2" -v b="$l1" 'BEGIN { exit !(a != "" && b != "" && a <= b + 0.02 && a <= b * 1.05) }' &&
      pass || fail "-j2, $name: held-out logloss $l2, -j1 $l1"
  done
done

# Predictions do not depend on -j.
grist-predict -j1 -i m1.gsgd train.svm > p1.txt
grist-predict -j2 -i m1.gsgd train.svm > p2.txt
check_eq "predict -j1 = -j2" p1.txt p2.txt
check_no_temps "no temporaries" .
finish
