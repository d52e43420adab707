#!/bin/bash
# Every value option of train-sgd and predict against odd values: an answer
# (exit 0, 1 or 2), never an internal error, a crash or a hang; a model
# written with exit 0 predicts finite numbers.
. "$(dirname "$0")/../lib/common.sh"

printf '1 |a x:2 y |b z\n-1 |a w |b v:0.5\n1 | u |a x |b z\n-1 |b v |c k\n' > t.vw
grist-train-sgd -q -b 8 t.vw -f base.gsgd
# (The generic checks of numeric values are in the CLI tests; these are
# the values that reach the training code.)
odd=(-1 0 nan 1e300 '')
for o in -T --format --loss --quantile-tau --oaa --class-base -b --quadratic --ngrams \
         --optimizer -l --power-t --initial-t --l1 --l2 --ftrl-beta --batch-size --passes \
         --seed --holdout-every --early-stop --on-error -i; do
  for v in "${odd[@]}"; do
    rm -f m.gsgd
    bits=(-b 8)  # a small model: fast
    [ "$o" = -b ] && bits=()
    run_cmd out err timeout 60 grist-train-sgd -q "${bits[@]}" "$o" "$v" t.vw -f m.gsgd
    if [ "$rc" -gt 2 ] || grep -q 'internal error' err; then
      fail "train-sgd $o '$v': exit $rc: $(head -c 200 err)"; continue
    fi
    pass
    if [ "$rc" = 0 ] && [ -f m.gsgd ]; then
      grist-predict -i m.gsgd t.vw | awk '$1 != $1 + 0 || $1 ~ /nan|inf/ { bad = 1 } END { exit bad }' &&
        pass || fail "train-sgd $o '$v': exit 0 with a model that predicts non-numbers"
    fi
  done
done
for o in -o -j --level --format --on-error -i; do
  for v in "${odd[@]}"; do
    run_cmd out err timeout 60 grist-predict -q -i base.gsgd "$o" "$v" t.vw
    if [ "$rc" -gt 2 ] || grep -q 'internal error' err; then
      fail "predict $o '$v': exit $rc: $(head -c 200 err)"
    else
      pass
    fi
    [ -n "$v" ] && rm -f -- "$v"
  done
done

check_no_temps "no temporaries" .
finish
