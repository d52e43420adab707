#!/usr/bin/env bash
# An output directory that is missing, is a file, is read-only (a tmpfs
# remounted read-only: chmod does not stop root), or disappears while the
# program runs: exit status 1, a message naming the output, no output and
# no temporary file anywhere.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

printf 'b\t1\na\t2\nc\t3\n' > small.txt
printf '1 1:1 2:1\n-1 3:1\n' > small.svm
grist-train-sgd -q -b 8 -f model.bin small.svm
echo file > afile

# Every writer with OUT as its output. (train-sgd --readable-model into a bad
# directory: see regressions.sh.)
writers() {
  local out=$1
  W=("count -o:grist-count -o $out small.txt"
     "count -p:grist-count -p 2 -o $out small.txt"
     "shuffle-sort:grist-shuffle-sort -o $out small.txt"
     "shuffle-sort -p:grist-shuffle-sort -p 2 -o $out small.txt"
     "merge:grist-merge -o $out small.txt"
     "tokenize:grist-tokenize -o $out small.txt"
     "train-sgd -f:grist-train-sgd -q -b 8 -f $out small.svm"
     "predict:grist-predict -i model.bin -o $out small.svm")
}

ro=
mount_tmpfs rodir 64k ro && ro=rodir
for parent in nodir/sub afile $ro; do
  writers "$parent/out"
  for w in "${W[@]}"; do
    name="${w%%:*} -> $parent"
    # shellcheck disable=SC2086
    run_cmd o.txt e.txt ${w#*:}
    check_failed "$name" "$rc" e.txt "$parent/out"
    check_clean "$name" .
  done
done

# The directory vanishes while the program runs (removed with its
# temporary file, while the program is stopped with its output partly
# written or about to be committed: lib/grist/io/test_hook.hpp): the rename
# fails, no output appears anywhere.
awk 'BEGIN { srand(1); for (i = 0; i < 400000; i++) print "k" int(rand() * 100000000) "\t" i }' > big.txt
awk 'BEGIN { srand(2); for (i = 0; i < 100000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 1000); print "" } }' > big.svm
for w in "count:output:1:grist-count -S 1M -o gone/out big.txt" \
         "shuffle-sort:output:1:grist-shuffle-sort -S 1M -o gone/out big.txt" \
         "shuffle-sort -p:output:1:grist-shuffle-sort -S 1M -p 4 -o gone/out big.txt" \
         "tokenize:output:2:grist-tokenize -j1 --lower -o gone/out big.txt big.txt big.txt big.txt" \
         "train-sgd:commit:1:grist-train-sgd -q -f gone/out big.svm"; do
  name="${w%%:*}, directory removed"
  point=${w#*:}
  point=${point%:*}
  mkdir gone
  # shellcheck disable=SC2086
  if stop_at "$point" ${w#*:*:*:} 2> e.txt; then
    rm -rf gone
    kill -CONT "$pid"
    set +e; wait "$pid"; rc=$?; set -e
    check_failed "$name" "$rc" e.txt "gone/"
  else
    fail "$name: the run ended (exit status $rc) before $point"
  fi
  check_no_file "$name: no directory" gone
  check_clean "$name" .
done
finish
