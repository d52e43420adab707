#!/bin/bash
# Options of train-sgd and predict: VW's --quadratic wildcards; values that
# cannot work are usage errors (exit 2) naming the option; out of memory
# names what sizes the program's memory.
. "$(dirname "$0")/../lib/common.sh"

printf '1 |a x:2 y |b z\n-1 |a w |b v:0.5\n1 | u |a x |b z\n-1 |b v |c k\n' > t.vw

# --quadratic: two namespace letters, ':' for every namespace.
for q in abc a '' 'a|' 'a,'; do
  run_cmd out err grist-train-sgd --quadratic "$q" t.vw
  check_status "--quadratic '$q'" 2 "$rc"
  check_grep "--quadratic '$q' message" "^grist-train-sgd: --quadratic '" err
done
run_cmd out err grist-train-sgd --format svmlight --quadratic ab t.vw
check_status "--quadratic with --format svmlight" 2 "$rc"
# '::' crosses every pair of namespaces present, each with itself too (a
# namespace with itself pairs distinct features), each pair once: here
# ' ' (unnamed), a, b, c give the pairs below, in byte order.
weights() { grep -v '^#' "$1" | sort; }
grist-train-sgd -q -j1 --quadratic :: t.vw -b 16 --readable-model all.txt -f all.gsgd
grist-train-sgd -q -j1 -b 16 --readable-model pairs.txt \
  --quadratic ' a' --quadratic ' b' --quadratic aa --quadratic ab --quadratic bb --quadratic bc t.vw
check_eq "-q :: is every pair" <(weights pairs.txt) <(weights all.txt)
check_grep "-q :: crosses" $'\ta\\^x\\*b\\^z$' all.txt
check_grep "-q :: crosses the unnamed namespace" $'\tu\\*a\\^x$' all.txt
check_grep "-q :: a namespace with itself" $'\ta\\^x\\*a\\^y$' all.txt
grist-train-sgd -q -j1 --quadratic a: t.vw -b 16 --readable-model a1.txt
grist-train-sgd -q -j1 --quadratic ' a' --quadratic aa --quadratic ab t.vw -b 16 --readable-model a2.txt
check_eq "-q a: is a with every namespace" <(weights a2.txt) <(weights a1.txt)
grist-train-sgd -q -j1 --quadratic :a t.vw -b 16 --readable-model a3.txt
check_eq "-q :a = -q a:" <(weights a1.txt) <(weights a3.txt)
grist-train-sgd -q -j1 --quadratic ab t.vw -b 16 --readable-model d1.txt
grist-train-sgd -q -j1 --quadratic ab --quadratic ba --quadratic ab t.vw -b 16 --readable-model d2.txt
check_eq "a pair is crossed once" <(weights d1.txt) <(weights d2.txt)
# The model records the pairs; predict crosses the same way.
run_cmd out err grist-predict -i all.gsgd t.vw --metrics
check_status "predict with -q ::" 0 "$rc"
check_grep "-q :: recorded" 'quadratic=::' <(grep -a 'quadratic=' all.gsgd)

# Values that cannot work.
run_cmd out err grist-train-sgd --holdout-every 1 t.vw
check_status "--holdout-every 1" 2 "$rc"
check_grep "--holdout-every 1 message" "^grist-train-sgd: --holdout-every 1 " err
for b in 30 24; do
  run_cmd out err grist-train-sgd --oaa 100000 -b "$b" t.vw
  check_status "--oaa 100000 -b $b" 2 "$rc"
  check_grep "--oaa message" "^grist-train-sgd: -b $b with --oaa 100000 makes a model of .*: lower -b or --oaa" err
done
run_cmd out err grist-train-sgd --format svmlight --ngrams 2 t.vw
check_status "--ngrams with --format svmlight" 2 "$rc"
run_cmd out err grist-train-sgd --ngrams 2 t.vw
check_status "--ngrams on VW input" 1 "$rc"
check_grep "--ngrams message" "--ngrams applies to text input" err

# Out of memory: the hint names what sizes the program's memory (-b,
# --oaa), never -S, which neither program has. Sanitizers reserve
# terabytes of address space: no ulimit -v there.
case "$GRIST_BIN" in
  *asan* | *tsan*) ;;
  *)
    run_cmd out err bash -c 'ulimit -v 300000; exec grist-train-sgd -b 26 t.vw'
    check_status "train out of memory" 1 "$rc"
    check_grep "train hint" '^grist-train-sgd: out of memory \(.*lower -b or --oaa' err
    if grep -q -- '-S' err; then fail "train-sgd's hint names -S: $(cat err)"; else pass; fi
    grist-train-sgd -q -b 24 t.vw -f big.gsgd
    run_cmd out err bash -c 'ulimit -v 80000; exec grist-predict -i big.gsgd t.vw'
    check_status "predict out of memory" 1 "$rc"
    check_grep "predict hint" '^grist-predict: out of memory \(the model takes 4 bytes per weight' err
    if grep -q -- '-S' err; then fail "predict's hint names -S: $(cat err)"; else pass; fi
    ;;
esac
check_no_temps "no temporaries" .
finish
