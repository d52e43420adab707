#!/usr/bin/env bash
# stdout closed early (`| head -c 10`) for every program that writes to
# stdout: the program ends quietly, as cat does (exit status 0, or death by
# SIGPIPE, 141), prints no error, and leaves no temporary file.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

awk 'BEGIN { srand(1); for (i = 0; i < 200000; i++) print "k" int(rand() * 1000000) "\t1" }' > kv.txt
LC_ALL=C sort kv.txt > sorted.txt
awk 'BEGIN { srand(2); for (i = 0; i < 50000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 5; j++) printf " %d:1", 1 + int(rand() * 1000); print "" } }' > train.svm
grist-train-sgd -q -b 10 -f model.bin train.svm
mkdir spill

for w in "count:grist-count -S 1M -T spill kv.txt" \
         "count --top:grist-count --top 100000 kv.txt" \
         "shuffle-sort:grist-shuffle-sort -S 1M -T spill kv.txt" \
         "shuffle-sort --random:grist-shuffle-sort --random -S 1M -T spill kv.txt" \
         "merge:grist-merge --reduce sum sorted.txt sorted.txt" \
         "tokenize:grist-tokenize -j2 kv.txt" \
         "tokenize --zstd:grist-tokenize --zstd kv.txt" \
         "train-sgd --readable-model -:grist-train-sgd -q -b 16 -f m.bin --readable-model - train.svm" \
         "predict:grist-predict -i model.bin train.svm"; do
  name=${w%%:*}
  set +e
  # shellcheck disable=SC2086
  ${w#*:} 2> e.txt | head -c 10 > head.txt
  rc=${PIPESTATUS[0]}
  set -e
  case $rc in 0|141) pass ;; *) fail "$name: exit status $rc after stdout closed"; head -3 e.txt >&2 ;; esac
  if [ -s e.txt ]; then fail "$name: stderr not empty: $(head -c 200 e.txt)"; else pass; fi
  [ "$(wc -c < head.txt)" = 10 ] && pass || fail "$name: head got $(wc -c < head.txt) bytes"
  [ -z "$(ls -A spill)" ] && pass || fail "$name: left in -T"
  check_clean "$name" . spill
  rm -f m.bin
done
finish
