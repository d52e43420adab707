#!/usr/bin/env bash
# A file size limit (`ulimit -f`, SIGXFSZ) reached by every writer, on its
# output and on its spill files: exit 1 and "grist-TOOL: FILE: file size
# limit exceeded" naming the file being written, never death by SIGXFSZ;
# no output, and no temporary beside it, in -T or in $TMPDIR.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
ulimit -c 0

awk 'BEGIN { srand(3); for (i = 0; i < 150000; i++) printf "k%d\t1\n", int(rand() * 1e9) }' > kv.txt
LC_ALL=C sort kv.txt > sorted.txt
awk 'BEGIN { srand(5); for (i = 0; i < 20000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 6; j++) printf " %d:1", 1 + int(rand() * 200000); print "" } }' > train.svm
grist-train-sgd -q -b 18 -f model.bin train.svm
mkdir spill

# case: NAME|LIMIT (KiB)|FILE the message names|OUTPUT that must not exist|COMMAND
cases=(
  "count -o|64|out.tsv|out.tsv|grist-count -j2 -o out.tsv kv.txt"
  "count -o .zst|16|out.tsv.zst|out.tsv.zst|grist-count -j2 -o out.tsv.zst kv.txt"
  "count -p|64|out.d/part-0000[01].zst|out.d|grist-count -j2 -p 2 -o out.d kv.txt"
  "count, a spill|64|\\(spill file\\)|out.tsv|grist-count -j2 -S 1M -T spill -o out.tsv kv.txt"
  "shuffle-sort -o|64|out.tsv|out.tsv|grist-shuffle-sort -o out.tsv kv.txt"
  "shuffle-sort, a spill|64|\\(spill file\\)|out.tsv|grist-shuffle-sort -S 1M -T spill -o out.tsv kv.txt"
  "shuffle-sort -p 1|64|out.d/part-00000.zst|out.d|grist-shuffle-sort -p 1 -o out.d kv.txt"
  "shuffle-sort --random|64|out.tsv|out.tsv|grist-shuffle-sort --random -o out.tsv kv.txt"
  "merge -o|64|out.tsv|out.tsv|grist-merge -o out.tsv sorted.txt sorted.txt"
  "tokenize -o|64|out.txt|out.txt|grist-tokenize -j2 -o out.txt kv.txt"
  "train-sgd -f|16|out.model|out.model|grist-train-sgd -q -b 18 -f out.model train.svm"
  "train-sgd --readable-model|64|out.txt|out.txt|grist-train-sgd -q -b 18 -f m.bin --readable-model out.txt train.svm"
  "train-sgd, the cache|64|spill|out.model|grist-train-sgd -q -b 18 --passes 2 -T spill -f out.model train.svm"
  "predict -o|64|out.txt|out.txt|grist-predict -i model.bin -o out.txt train.svm"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name limit file out cmd <<< "$c"
  set +e
  # shellcheck disable=SC2086
  (ulimit -f "$limit"; exec $cmd) > /dev/null 2> e.txt
  rc=$?
  set -e
  check_status "$name: exit 1, not death by SIGXFSZ" 1 "$rc"
  check_grep "$name: message" "^grist-[a-z-]+: $file: file size limit exceeded\$" e.txt
  check_no_file "$name: no output" "$out"
  check_no_file "$name: -f not committed either" m.bin
  [ -z "$(ls -A spill)" ] && pass || fail "$name: left in -T: $(ls -A spill | head -3)"
  check_clean "$name" . spill
done

# Standard output redirected to a file: the same error, named (stdout).
set +e
(ulimit -f 64; exec grist-count kv.txt) > out.tsv 2> e.txt
rc=$?
set -e
check_status "stdout: exit 1" 1 "$rc"
check_grep "stdout: message" '^grist-count: \(stdout\): file size limit exceeded$' e.txt
check_clean "stdout" . spill
finish
