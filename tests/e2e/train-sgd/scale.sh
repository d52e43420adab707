#!/bin/bash
# A feature whose first value is small must not leave a wrong model: the
# normaliser rescales the weight when the feature's range grows. A model
# that training made non-finite is never written: exit 1 naming the feature.
. "$(dirname "$0")/../lib/common.sh"

# The report's example: -1 2:SMALL first, then 100 times 1 2:1, no bias.
for small in 0.001 1e-20; do
  (printf -- '-1 2:%s\n' "$small"; for i in $(seq 100); do echo '1 2:1'; done) > n.svm
  run_cmd out err grist-train-sgd -q -j1 --no-bias n.svm -f n.model --readable-model n.txt
  check_status "first value $small: trained" 0 "$rc"
  w=$(awk -F'\t' '$1 == 2 { print $2 }' n.txt)
  awk -v w="$w" 'BEGIN { exit !(w > 0.5 && w < 100) }' && pass ||
    fail "first value $small: weight $w, expected positive and moderate"
  p=$(printf '1 2:1\n' | grist-predict -i n.model)
  awk -v p="$p" 'BEGIN { exit !(p > 0.5 && p <= 1) }' && pass ||
    fail "first value $small: predict printed '$p' for 1 2:1, expected > 0.5"
  # Every optimiser that normalises, and ftrl; every loss.
  for opt in adagrad sgd ftrl; do
    for loss in logistic squared hinge quantile; do
      run_cmd out err grist-train-sgd -q -j1 -b 10 --no-bias --optimizer "$opt" --loss "$loss" n.svm -f m
      check_status "$small $opt $loss" 0 "$rc"
      p=$(printf '1 2:1\n' | grist-predict -i m)
      awk -v p="$p" 'BEGIN { exit !(p > 0.5 && p < 10) }' && pass ||
        fail "first value $small, $opt, $loss: predict printed '$p' for 1 2:1"
    done
  done
done

# The same through the cached passes, mini-batches and two threads.
(printf -- '-1 2:1e-20 3:1\n'; for i in $(seq 300); do echo '1 2:1'; echo '-1 3:1'; done) > two.svm
for opts in "--passes 3" "--passes 3 --shuffle" "--batch-size 4 --passes 3" "-j2 --passes 2"; do
  run_cmd out err grist-train-sgd -q -b 10 $opts two.svm -f m
  check_status "$opts" 0 "$rc"
  printf '1 2:1\n-1 3:1\n' | grist-predict -i m > p.txt
  awk 'NR == 1 && $1 <= 0.5 { exit 1 } NR == 2 && $1 >= 0.5 { exit 1 }' p.txt && pass ||
    fail "$opts: predictions $(tr '\n' ' ' < p.txt)"
done

# Divergence: no model, exit 1, the feature named (by name with
# --readable-model, by index without), the previous model untouched.
printf '1e30 7:1e30\n-1e30 7:1e30\n' > big.svm
echo previous > m.gsgd
run_cmd out err grist-train-sgd --loss squared --optimizer sgd big.svm -f m.gsgd
check_status "diverged" 1 "$rc"
check_grep "diverged message" "the weight of feature \(index 7\) is (NaN|[+-]inf): training diverged" err
check_eq "previous model kept" <(echo previous) m.gsgd
printf '1 |ns big:1e30\n-1 |ns big:1e30\n' > big.vw
run_cmd out err grist-train-sgd --loss squared --optimizer sgd -l 1e30 big.vw -f m2.gsgd --readable-model r.txt
check_status "diverged, names" 1 "$rc"
check_grep "named" "feature 'ns\^big' \(index [0-9]+\) is" err
check_no_file "no model" m2.gsgd
check_no_file "no readable model" r.txt
run_cmd out err grist-train-sgd -q --loss squared --learning-rate 1e38 n.svm -f m3.gsgd
check_status "huge rate" 1 "$rc"
check_no_file "huge rate: no model" m3.gsgd
# An overflowing product is a bad line, not an infinite feature.
printf '1 |a x:1e30 |b y:1e30\n' > q.vw
run_cmd out err grist-train-sgd --quadratic ab q.vw
check_status "quadratic overflow" 1 "$rc"
check_grep "quadratic overflow message" "q.vw:1: quadratic feature .*out of range" err
printf '1 |a:1e30 x:1e30\n' > s.vw
run_cmd out err grist-train-sgd s.vw
check_status "namespace weight overflow" 1 "$rc"
check_grep "namespace weight overflow message" "s.vw:1: .*out of range" err
check_no_temps "no temporaries" .
finish
