#!/usr/bin/env bash
# SIGINT/SIGTERM at each stage of grist-tokenize (ordered parallel
# pipeline: the output partly written, before the commit), of a
# grist-train-sgd run with several passes (passes 2 and 3 read a cache in
# -T; before the model's commit), and of grist-predict.
# ctest-labels: nosan
# (Kept out of the sanitizer stage, where its dozens of full runs cost
# minutes: the cleanup these stop points reach runs under ASan in
# signals_all.sh, once per program.)
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
. "$GRIST_SRC/tests/e2e/faults/signals.bash"
awk 'BEGIN { srand(5); for (i = 0; i < 300000; i++) { for (j = 0; j < 8; j++) printf "w%d ", int(rand() * 50000); print "" } }' > text.txt
signal_sweep "tokenize" out.txt "output:1 output:10 commit" grist-tokenize -q -j2 -o out.txt text.txt
awk 'BEGIN { srand(6); for (i = 0; i < 60000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 100000); print "" } }' > train.svm
signal_sweep "train-sgd" model.bin "pass:1 pass:2 pass:3 commit" \
  grist-train-sgd -q -j1 --passes 3 -b 18 -T spill -f model.bin train.svm
grist-train-sgd -q -b 18 -f m.bin train.svm
signal_sweep "predict" out.txt "output:1 commit" grist-predict -q -i m.bin -o out.txt train.svm train.svm
finish
