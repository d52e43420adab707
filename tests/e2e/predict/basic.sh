#!/bin/bash
# grist-predict: order, threads, formats, refusing bad model files.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_svm 2000 4 > train.svm
gen_svm 20000 5 > test.svm
grist-train-sgd -q -j1 train.svm -b 12 -f m.gsgd
grist-predict -j1 -i m.gsgd test.svm -o p1.txt
grist-predict -j2 -i m.gsgd test.svm > p2.txt
check_eq "threads keep the order and values" p1.txt p2.txt
svm_to_vw < test.svm | grist-predict -j2 -i m.gsgd --format vw > p3.txt
check_eq "VW input predicts the same" p1.txt p3.txt
zstd -q < test.svm > test.svm.zst
grist-predict -i m.gsgd test.svm.zst -o p4.txt.zst
check_eq "compressed in and out" p1.txt <(zstd -dc p4.txt.zst)

# Unlabelled VW examples predict; metrics only count labelled ones.
printf '| 1:1 2:1\n1 | 3:1\n' | grist-predict -i m.gsgd --format vw --metrics > p5.txt 2> err
check_grep "unlabelled" '2 examples \(1 labelled\)' err
check_eq "two predictions" <(echo 2) <(wc -l < p5.txt)

# Squared loss: scores and RMSE.
awk '{ print ($1 == "+1" ? 3 : -3), substr($0, index($0, " ")) }' train.svm > reg.svm
grist-train-sgd -q --loss squared reg.svm -f r.gsgd --passes 3
run_cmd out err grist-predict -i r.gsgd reg.svm --metrics
check_grep "rmse" 'RMSE [0-9.]+, MAE' err

# Bad model files.
head -c 100 m.gsgd > trunc.gsgd
run_cmd out err grist-predict -i trunc.gsgd test.svm
check_status "truncated" 1 "$rc"
check_grep "truncated message" 'trunc.gsgd: truncated model file' err
run_cmd out err grist-predict -i test.svm test.svm
check_status "foreign" 1 "$rc"
check_grep "foreign message" 'not a grist-train-sgd model' err
{ printf 'GRISTSGD\x09\x00\x00\x00'; tail -c +13 m.gsgd; } > v9.gsgd
run_cmd out err grist-predict -i v9.gsgd test.svm
check_status "version" 1 "$rc"
check_grep "version message" 'version 9 is newer' err
run_cmd out err grist-predict -i missing.gsgd test.svm
check_status "missing" 1 "$rc"
run_cmd out err grist-predict test.svm
check_status "no model" 2 "$rc"
printf '1 1:1\n1 zz\n' > bad.svm
run_cmd out err grist-predict -i m.gsgd bad.svm -o out.txt
check_status "bad example" 1 "$rc"
check_grep "bad example message" 'bad.svm:2: ' err
check_no_file "no partial output" out.txt
check_no_temps "no temporaries" .
# A mistyped option is what the error names, not the required -i it hides.
run_cmd out.txt err.txt grist-predict --modle m.gsgd in.txt
check_status "unknown option" 2 "$rc"
check_grep "unknown option named" "unrecognized option '--modle'" err.txt
check_grep "did you mean" "did you mean '--model'" err.txt
finish
