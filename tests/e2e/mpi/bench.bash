#!/usr/bin/env bash
# Benchmark (not a CTest test): grist-train-sgd --allreduce with 2 MPI
# ranks against one process (-j1 each), on a generated sparse logistic
# problem: examples/s of pass 1 (what the program reports, all ranks'
# examples over rank 0's time), wall time, and held-out logloss.
#   bash tests/e2e/mpi/bench.bash [BIN_DIR] [EXAMPLES] [PASSES]
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/../../.." && pwd)
bin=$(cd "${1:-$src/build/bin}" && pwd)
n=${2:-1000000}
passes=${3:-3}
export PATH=$bin:$PATH
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
W=$(mktemp -d "${TMPDIR:-/tmp}/grist-mpi-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
gen() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(7); D = 200000
    for (j = 1; j <= D; j++) w[j] = (rand() * 2 - 1) * 1.5
    srand(seed)
    for (e = 0; e < n; e++) {
      delete x; m = -0.2; line = ""
      for (k = 0; k < 30; k++) {
        j = int(rand() * rand() * rand() * D) + 1
        if (!(j in x)) { x[j] = 1; m += w[j] * 0.5; line = line " " j ":1" }
      }
      print (rand() < 1 / (1 + exp(-m)) ? "1" : "-1") line
    }
  }'
}
gen "$n" 1 >"$W/train.svm"
gen 50000 2 >"$W/test.svm"
echo "train: $n examples ($(($(wc -c <"$W/train.svm") / 1000000)) MB), test: 50000; $passes passes"
run() {  # LABEL CMD...
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" -j1 --passes "$passes" "$W/train.svm" -f "$W/m.gsgd" 2>"$W/err"
  t1=$(date +%s.%N)
  local eps loss
  eps=$(sed -n 's/.* \([0-9]*\) examples\/s in pass 1.*/\1/p' "$W/err")
  loss=$(grist-predict --metrics -i "$W/m.gsgd" "$W/test.svm" 2>&1 >/dev/null |
    sed -n 's/.*logloss \([0-9.]*\).*/\1/p')
  printf '%-10s pass 1: %8d examples/s   wall %6.2f s   held-out logloss %s\n' \
    "$label" "$eps" "$(echo "$t1 - $t0" | bc)" "$loss"
}
run "1 process" grist-train-sgd
run "2 ranks" mpirun --oversubscribe -np 2 grist-train-sgd --allreduce
