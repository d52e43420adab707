#!/usr/bin/env bash
# grist-train-sgd --allreduce under mpirun on loopback (iterative parameter
# mixing): with 2 and 4 ranks, over one file (lines split by rank) and over
# several files (files split by rank), the averaged model's held-out logloss
# is within a small tolerance of the single-process model's on the same
# data; only rank 0 writes the model; a rank that fails ends the job with
# a non-zero status instead of a hang; the best held-out pass is the model
# on every rank; stdin is refused.
# Skipped (exit 77) when mpirun is missing or grist was built without MPI.
# ctest-labels: nosan
# (OpenMPI leaks by design at exit and installs signal handlers that clash
# with AddressSanitizer; the MPI code runs in the Release suite.)
. "$(dirname "$0")/../lib/common.sh"

if ! command -v mpirun >/dev/null 2>&1; then
  skip "mpirun not installed (scripts/install-deps.sh installs OpenMPI)"
fi
if ! grist-train-sgd --help | grep -q -- '--allreduce'; then
  skip "grist-train-sgd was built without MPI (no --allreduce; install libopenmpi-dev)"
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# loopback only, no network probing
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
mpi() { timeout 120 mpirun --allow-run-as-root --oversubscribe "$@"; }

# A sparse logistic problem: 2000 binary features of Zipf-like frequency,
# ~15 active per example, labels drawn from the true model's probability.
gen() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(7); D = 2000
    for (j = 1; j <= D; j++) w[j] = (rand() * 2 - 1) * 1.5
    srand(seed)
    for (e = 0; e < n; e++) {
      delete x; m = -0.2; line = ""
      for (k = 0; k < 15; k++) {
        j = int(rand() * rand() * D) + 1
        if (!(j in x)) { x[j] = 1; m += w[j]; line = line " " j ":1" }
      }
      print (rand() < 1 / (1 + exp(-m)) ? "1" : "-1") line
    }
  }'
}
gen 100000 1 >train.svm
gen 10000 2 >test.svm
split -n l/4 -d --additional-suffix=.svm train.svm piece.

logloss() {  # MODEL: held-out logloss on test.svm
  grist-predict --metrics -i "$1" test.svm 2>&1 >/dev/null | sed -n 's/.*logloss \([0-9.]*\).*/\1/p'
}
# within MODEL_LOSS BASE_LOSS PCT: MODEL_LOSS <= BASE_LOSS * (1 + PCT/100)
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { exit !(a != "" && a <= b * (1 + p / 100)) }'; }

opts=(-j1 --passes 5)
run_cmd out.txt err1.txt grist-train-sgd "${opts[@]}" train.svm -f single.gsgd
check_status "single process" 0 "$rc"
base=$(logloss single.gsgd)
echo "single process: held-out logloss $base"

for np in 2 4; do
  tol=$([ $np -eq 2 ] && echo 2 || echo 5)
  # one file: lines split by rank
  run_cmd out.txt err.txt mpi -np $np grist-train-sgd --allreduce "${opts[@]}" train.svm -f "lines$np.gsgd"
  check_status "np $np, one file" 0 "$rc"
  [ $rc -eq 0 ] || cat err.txt >&2
  l=$(logloss "lines$np.gsgd")
  echo "np $np, lines split: held-out logloss $l"
  within "$l" "$base" "$tol" && pass || fail "np $np (lines): logloss $l vs $base (+$tol% allowed)"
  # the summary counts every rank's examples, printed once (by rank 0)
  check_grep "np $np: global example count" '^grist-train-sgd: 100000 examples' err.txt
  check_status "np $np: one summary" 1 "$(grep -c '^grist-train-sgd: 100000 examples' err.txt)"
  # four files: files split by rank
  run_cmd out.txt err.txt mpi -np $np grist-train-sgd --allreduce "${opts[@]}" piece.0*.svm -f "files$np.gsgd"
  check_status "np $np, files" 0 "$rc"
  l=$(logloss "files$np.gsgd")
  echo "np $np, files split: held-out logloss $l"
  within "$l" "$base" "$tol" && pass || fail "np $np (files): logloss $l vs $base (+$tol% allowed)"
done

# mixing every N examples as well (-j1 per rank: rounds at block boundaries)
run_cmd out.txt err.txt mpi -np 2 grist-train-sgd --allreduce --allreduce-every 20000 "${opts[@]}" \
  train.svm -f every.gsgd
check_status "--allreduce-every" 0 "$rc"
l=$(logloss every.gsgd)
within "$l" "$base" 2 && pass || fail "--allreduce-every: logloss $l vs $base"

# one rank fails (a bad line on rank 1's share): the job ends, non-zero
{ head -n 999 train.svm; echo "1 oops"; tail -n +1000 train.svm; } >bad.svm
run_cmd out.txt err.txt mpi -np 2 grist-train-sgd --allreduce "${opts[@]}" bad.svm -f bad.gsgd
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && pass || fail "failing rank: exit status $rc (124: hung)"
check_grep "the bad line named" 'bad\.svm:1000:' err.txt
check_no_file "no model from a failed job" bad.gsgd

# The best held-out pass's model, decided alike on every rank (the held-out
# loss is summed over the ranks): noisy labels and a constant rate make pass
# 2 of 10 the best; the model written is that of --passes 2, byte for byte,
# its example count global.
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"
gen_svm 2000 3 | awk 'BEGIN { srand(9) } { if (rand() < 0.15) $1 = ($1 == "+1" ? "-1" : "+1"); print }' >noisy.svm
rate=(-j1 --optimizer sgd -l 5 --power-t 0)
run_cmd out.txt err.txt mpi -np 2 grist-train-sgd --allreduce "${rate[@]}" noisy.svm --passes 10 --early-stop 0 -f best10.gsgd
check_status "best pass, np 2" 0 "$rc"
check_grep "np 2: model from pass 2" '^grist-train-sgd: model: from pass 2 of 10 \(the best held-out loss' err.txt
check_status "np 2: one report" 1 "$(grep -c 'model: from pass' err.txt)"
mpi -np 2 grist-train-sgd -q --allreduce "${rate[@]}" noisy.svm --passes 2 -f best2.gsgd
check_eq "np 2: the best pass's model" best2.gsgd best10.gsgd
check_grep "np 2: global count to pass 2" '^examples_trained=3600$' <(grep -a '^examples_trained=' best10.gsgd)
mpi -np 2 grist-train-sgd -q --allreduce "${rate[@]}" noisy.svm --passes 10 --early-stop 2 -f early.gsgd
check_eq "np 2, stopped early: the best pass's model" best2.gsgd early.gsgd

# stdin cannot be shared out
run_cmd out.txt err.txt grist-train-sgd --allreduce -f x.gsgd <train.svm
check_status "stdin refused" 2 "$rc"
check_grep "stdin message" 'not stdin' err.txt
run_cmd out.txt err.txt grist-train-sgd --allreduce-every 5 train.svm
check_status "--allreduce-every alone" 2 "$rc"

finish
