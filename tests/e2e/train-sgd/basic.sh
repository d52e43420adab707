#!/bin/bash
# Training end to end: reproducible -j1 models, formats agree, predictions.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_svm 3000 1 > train.svm
gen_svm 1000 2 > test.svm
svm_to_vw < train.svm > train.vw

run_cmd out err grist-train-sgd -j1 train.svm -f m1.gsgd -b 12 --passes 3
check_status "train" 0 "$rc"
check_grep "progressive lines" '^average +since' err
check_grep "summary" '3000 examples .* in 3 passes' err
# Several passes hold out every tenth line by default (as VW does).
check_grep "holdout said" 'held out: lines 10, 20, \.\.\. of each input \(10%, the default with several passes; 300 examples\)' err
check_grep "stop said" 'stopped: all 3 passes done' err
grist-train-sgd -q -j1 train.svm -f m2.gsgd -b 12 --passes 3
check_eq "-j1 twice gives the same bytes" m1.gsgd m2.gsgd
check_grep "magic" '^GRISTSGD' <(head -c 8 m1.gsgd; echo)

run_cmd out err grist-predict -i m1.gsgd test.svm --metrics -o preds.txt
check_status "predict" 0 "$rc"
check_eq "one line per example" <(wc -l < test.svm) <(wc -l < preds.txt)
check_grep "accuracy" 'accuracy 0\.9[5-9]' err
check_grep "probabilities" '^0\.[0-9]' preds.txt
awk '$1 < 0 || $1 > 1 { bad = 1 } END { exit bad }' preds.txt && pass || fail "probability out of [0,1]"

# svmlight and VW (numbers in the unnamed namespace) give the same weights.
grist-train-sgd -q -j1 train.svm -b 12 --readable-model svm.txt
grist-train-sgd -q -j1 train.vw -b 12 --readable-model vw.txt
check_eq "svmlight = vw" <(grep -v '^# format=' svm.txt) <(grep -v '^# format=' vw.txt)
check_grep "readable has bias" '^bias	' svm.txt

# Text's words (--ngrams 1; bigrams are its default) and VW string
# features in the unnamed namespace agree too.
printf '1\tcheap pills now\n0\tmeeting at noon\n1\tcheap watches\n0\tnoon lunch meeting\n' > t.tsv
printf '1 | cheap pills now\n0 | meeting at noon\n1 | cheap watches\n0 | noon lunch meeting\n' > t.vw
grist-train-sgd -q t.tsv -b 10 --ngrams 1 --readable-model t1.txt
grist-train-sgd -q t.vw -b 10 --readable-model t2.txt
check_eq "text = vw" <(grep -v '^# format=' t1.txt) <(grep -v '^# format=' t2.txt)
check_grep "text sniffed" '^# format=text' t1.txt
check_grep "text: words only" '^# ngrams=1$' t1.txt
grist-train-sgd -q t.tsv -b 10 --readable-model t3.txt
check_grep "text: bigrams by default" '^# ngrams=2$' t3.txt
check_grep "text: a bigram's weight" '^[0-9]+	[-0-9.e]+	cheap pills$' t3.txt
grist-train-sgd -q t.vw -b 10 --readable-model t4.txt
check_grep "vw: no n-grams" '^# ngrams=1$' t4.txt

# 0/1 labels train the same model as -1/+1.
sed 's/^-1/0/; s/^+1/1/' train.svm > train01.svm
grist-train-sgd -q -j1 train01.svm -f m01.gsgd -b 12 --passes 3
check_eq "0/1 labels = -1/+1 labels" m1.gsgd m01.gsgd
grist-predict -i m01.gsgd test.svm > p01.txt
grist-predict -i m1.gsgd test.svm > p1.txt
check_eq "0/1 predictions" p1.txt p01.txt

# Threads train as well; -i continues training.
grist-train-sgd -q -j2 train.svm -f mj2.gsgd -b 12 --passes 3
run_cmd out err grist-predict -i mj2.gsgd test.svm --metrics -o preds-j2.txt  # not /dev/null: as root, grist replaced it
check_grep "-j2 accuracy" 'accuracy 0\.9[5-9]' err
run_cmd out err grist-train-sgd -j1 -i m1.gsgd train.svm -f m3.gsgd
check_status "-i" 0 "$rc"
run_cmd out err grist-train-sgd -i m1.gsgd -b 10 train.svm
check_status "-i with -b" 2 "$rc"
check_grep "-i with -b message" 'fixed by the model' err
check_no_temps "no temporaries" .
finish
