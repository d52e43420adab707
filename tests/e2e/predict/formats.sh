#!/bin/bash
# The input is read in the format the model was trained on, never in the
# one it looks like. For every pair (model trained on A, input in B): the
# same format scores right; svmlight models also read VW (its "| i:v" is
# svmlight's "i:v"); any other pair is refused, by exit 2 when --format
# asks for it, by exit 1 naming the line and the format the input looks
# like when it is not given: never predictions from other weights, exit 0.
. "$(dirname "$0")/../lib/common.sh"

# The same problem in the three formats: the label follows word w1 or w2.
awk 'BEGIN {
  srand(3)
  for (i = 0; i < 600; i++) {
    y = rand() < 0.5 ? 1 : -1
    a = (y > 0 ? 1 : 2) + 2 * int(rand() * 3)   # odd features for +1, even for -1
    b = 7 + int(rand() * 5)                        # noise
    printf "%d %d:1 %d:1\n", y, a, b > "d.svm"
    printf "%d |f w%d w%d\n", y, a, b > "d.vw"
    printf "%d\tw%d w%d\n", y, a, b > "d.txt"
    printf "%d | %d:1 %d:1\n", y, a, b > "d_un.vw"    # svmlight as VW, unnamed namespace
  }
}'
for f in svm vw txt; do
  grist-train-sgd -q -j1 -b 12 --passes 3 "d.$f" -f "m.$f"
done
declare -A fmt=([svm]=svmlight [vw]=vw [txt]=text)

for m in svm vw txt; do
  for i in svm vw txt; do
    name="model ${fmt[$m]}, input ${fmt[$i]}"
    if [ "$m" = "$i" ]; then
      run_cmd p.txt err grist-predict -i "m.$m" --metrics "d.$i"
      check_status "$name" 0 "$rc"
      check_grep "$name: right" 'accuracy 1\.0' err
      run_cmd p2.txt err grist-predict -i "m.$m" --format "${fmt[$i]}" "d.$i"
      check_status "$name, --format given" 0 "$rc"
      check_eq "$name, --format given: same" p.txt p2.txt
      continue
    fi
    # Not given: read as the model's format; the line fails to parse and
    # the message says what the input looks like.
    run_cmd p.txt err grist-predict -i "m.$m" "d.$i" -o out.txt
    check_status "$name" 1 "$rc"
    check_grep "$name: message" "d\.$i:1: .*\(the input looks like ${fmt[$i]}; the model was trained on ${fmt[$m]} input" err
    check_no_file "$name: no output" out.txt
    run_cmd p.txt err grist-predict -i "m.$m" --on-error skip "d.$i" -o out.txt
    check_status "$name, skip" 1 "$rc"
    check_grep "$name, skip: message" "no valid example in the input" err
    check_no_file "$name, skip: no output" out.txt
    # Asked for with --format: a usage error, unless compatible.
    run_cmd p.txt err grist-predict -i "m.$m" --format "${fmt[$i]}" "d.$i"
    if [ "$m" = svm ] && [ "$i" = vw ]; then
      check_status "$name, --format vw" 0 "$rc"
    else
      check_status "$name, --format ${fmt[$i]}" 2 "$rc"
      check_grep "$name, --format: message" "--format ${fmt[$i]}: the model was trained on ${fmt[$m]} input" err
    fi
  done
done

# An svmlight model reads VW: svmlight's i:v is VW's "| i:v".
grist-predict -i m.svm d.svm > a.txt
grist-predict -i m.svm --format vw d_un.vw > b.txt
check_eq "svmlight model, the same examples in VW" a.txt b.txt
# (VW with namespaces is read too, as the VW it is: other features.)

# train-sgd -i follows the same rule, and VW input makes an svmlight
# model a VW model.
run_cmd out err grist-train-sgd -q -i m.vw --format svmlight d.svm -f x
check_status "-i vw model, --format svmlight" 2 "$rc"
check_grep "-i message" "--format svmlight: the model given with -i was trained on vw input" err
run_cmd out err grist-train-sgd -q -i m.txt d.svm -f x
check_status "-i text model, svmlight input" 1 "$rc"
run_cmd out err grist-train-sgd -q -i m.svm --format vw d_un.vw -f x
check_status "-i svmlight model, --format vw" 0 "$rc"
run_cmd out err grist-predict -i x d.svm
check_status "now a VW model" 1 "$rc"
run_cmd out err grist-predict -i x d_un.vw
check_status "now a VW model, VW input" 0 "$rc"
check_no_temps "no temporaries" .
finish
