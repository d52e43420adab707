#!/bin/bash
# Several passes from the cache, shuffled, with a holdout; mini-batches; oaa.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_svm 2000 3 | zstd -q > train.svm.zst
run_cmd out err grist-train-sgd -j1 train.svm.zst --passes 4 --shuffle --holdout-every 5 -f a.gsgd -T "$TMPDIR"
check_status "passes" 0 "$rc"
check_grep "pass lines" '^pass 4: 2000 examples, training loss [0-9.]+, held-out loss' err
check_grep "held out said" 'held out: lines 5, 10, \.\.\. of each input \(20%; 400 examples\), never trained on' err
grist-train-sgd -q -j1 train.svm.zst --passes 4 --shuffle --holdout-every 5 -f b.gsgd
check_eq "shuffled passes reproducible" a.gsgd b.gsgd

run_cmd out err grist-train-sgd -j1 train.svm.zst --passes 2 --batch-size 32 -f c.gsgd
check_status "mini-batch" 0 "$rc"
run_cmd out err grist-train-sgd -j1 train.svm.zst --passes 20 --batch-size all -f d.gsgd --optimizer sgd -l 1 --power-t 0
check_status "full batch" 0 "$rc"
run_cmd out err grist-train-sgd -j1 train.svm.zst --optimizer ftrl --l1 1 -f e.gsgd
check_status "ftrl" 0 "$rc"

# Three classes, one against all, labels 1..3; VW tags come back.
awk 'BEGIN { srand(5); for (i = 0; i < 1500; i++) { c = int(rand() * 3) + 1;
  printf "%d '\''ex%d |f c%d_%d other%d\n", c, i, c, int(rand() * 5), int(rand() * 40) } }' > cls.vw
run_cmd out err grist-train-sgd --oaa 3 cls.vw --passes 2 -f oaa.gsgd
check_status "oaa" 0 "$rc"
run_cmd out err grist-predict -i oaa.gsgd cls.vw --metrics
check_grep "oaa accuracy" 'accuracy 1\.0' err
check_grep "class and tag" '^[123] ex0$' out
check_no_temps "no temporaries" .
finish
