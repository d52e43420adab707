#!/bin/bash
# Bad input: clear messages, exit 1; bad options: exit 2.
. "$(dirname "$0")/../lib/common.sh"

printf '1 1:1\n-1 2:1\n1 3:x\n-1 4:1\n' > bad.svm
run_cmd out err grist-train-sgd bad.svm -f m.gsgd
check_status "malformed" 1 "$rc"
check_grep "file and line" '^grist-train-sgd: bad.svm:3: bad feature value' err
check_no_file "no model" m.gsgd
run_cmd out err grist-train-sgd --on-error skip bad.svm -f m.gsgd
check_status "skip" 0 "$rc"
check_grep "counted" 'skipped 1 malformed example \(first: bad.svm:3:' err

printf '1 |a x\n2 |a y\n' > labels.vw
run_cmd out err grist-train-sgd labels.vw
check_status "label range" 1 "$rc"
check_grep "label message" "labels.vw:2: label '2' is not binary" err
printf '1 |a x\n4 |a y\n' > classes.vw
run_cmd out err grist-train-sgd --oaa 3 classes.vw
check_status "class range" 1 "$rc"
check_grep "class message" "out of range 1..3" err

printf '1\tab\n' > t.tsv
run_cmd out err grist-train-sgd --format svmlight t.tsv
check_status "wrong format" 1 "$rc"
check_grep "wrong format message" 't.tsv:1: ' err

: > empty.svm
run_cmd out err grist-train-sgd empty.svm -f m2.gsgd
check_status "empty" 1 "$rc"
check_grep "empty message" 'no examples in the input' err
run_cmd out err grist-train-sgd < /dev/null
check_status "empty stdin" 1 "$rc"

echo 'hello world' > odd.txt
run_cmd out err grist-train-sgd odd.txt
check_status "unknown format" 1 "$rc"
check_grep "format message" 'give --format' err

run_cmd out err grist-train-sgd --loss cubic bad.svm
check_status "bad option" 2 "$rc"
run_cmd out err grist-train-sgd --pases 3 bad.svm
check_status "typo" 2 "$rc"
check_grep "did you mean" "did you mean '--passes'" err
run_cmd out err grist-train-sgd --batch-size none bad.svm
check_status "bad batch" 2 "$rc"
run_cmd out err grist-train-sgd --quadratic ab bad.svm --on-error skip
check_status "-q on svmlight" 1 "$rc"
check_no_temps "no temporaries" .
finish
