#!/usr/bin/env bash
# -j has a documented maximum (256, grist::cli::kMaxThreads): above it a
# usage error, at it every program finishes on a tiny input as quickly as
# with -j 1 (with -j 10000 oneTBB started thousands of spinning workers on
# two CPUs and grist-count did not end in minutes), and gives the same
# bytes. tests/e2e/cli/options.sh checks -j 257 for every program.
. "$(dirname "$0")/../lib/common.sh"

max=256
printf 'b\na\n' > two.txt
printf '1 1:1\n-1 1:2\n' > two.svm
grist-train-sgd -q -j1 two.svm -f ref.gsgd

# run_max NAME EXPECTED_OUTPUT_FILE CMD...: at -j max, within 60 s, exit 0,
# the output of -j 1.
run_max() {
  local name=$1 want=$2; shift 2
  local start=$SECONDS
  set +e
  timeout 60 "$@" -j "$max" >out.txt 2>err.txt
  rc=$?
  set -e
  check_status "$name -j $max" 0 "$rc"
  [ "$rc" = 0 ] || head -3 err.txt >&2
  if [ $((SECONDS - start)) -le 30 ]; then pass; else
    fail "$name -j $max took $((SECONDS - start)) s on two lines"
  fi
  [ -n "$want" ] && check_eq "$name -j $max output" "$want" out.txt
  return 0
}

for cmd in "grist-count two.txt" "grist-tokenize two.txt" "grist-shuffle-sort two.txt" \
           "grist-shuffle-sort --random two.txt" "grist-predict -i ref.gsgd two.svm"; do
  read -r -a argv <<<"$cmd"
  "${argv[@]}" -j 1 > want.txt
  run_max "$cmd" want.txt "${argv[@]}"
done
grist-shuffle-sort two.txt > sorted.txt
grist-merge sorted.txt sorted.txt -j 1 > want.txt
run_max "grist-merge" want.txt grist-merge sorted.txt sorted.txt
run_max "grist-train-sgd" "" grist-train-sgd -q two.svm -f max.gsgd
check_eq "grist-train-sgd -j $max on one example per thread" ref.gsgd max.gsgd
run_max "grist-count -p 4" "" grist-count -p 4 -o parts two.txt

# Many threads on a small budget: each thread's table would be a sliver of
# -S and spill every few keys (thousands of runs, out of file descriptors);
# grist-count gives a small budget fewer threads, the bytes are the same.
# (128 descriptors: the old way made hundreds of runs here.)
awk 'BEGIN { for (i = 0; i < 60000; i++) print "key" i "\t" (i % 7) }' > many.txt
grist-count -j 1 many.txt > want.txt
run_max "grist-count -S 1M, 128 descriptors" want.txt \
  sh -c 'ulimit -n 128 && exec "$@"' sh grist-count -S 1M many.txt

run_cmd out.txt err.txt grist-count -j 257 two.txt
check_status "-j 257" 2 "$rc"
check_grep "-j 257 message" "^grist-count: invalid argument '257' for '--threads': expected a whole number from 0 to 256\$" err.txt
check_no_temps "threads" "$WORK"
finish
