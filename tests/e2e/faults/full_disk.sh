#!/usr/bin/env bash
# A full disk, for the output (-o, -f, partition directories) and for the
# spill directory (-T), for every program that writes: exit status 1, a
# message naming the file and "No space left on device", the previous
# output untouched, nothing left in -T or beside the output.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

if ! mount_tmpfs full 256k; then finish; exit; fi  # finish: skipped (77)
mount_tmpfs spill 256k || true

# Inputs whose outputs are well over 256 KiB.
# (Random digits: even zstd outputs, as partition parts are, do not fit.)
awk 'BEGIN { srand(1); for (i = 0; i < 100000; i++) printf "k%08d%08d\t%d\n", rand() * 1e8, rand() * 1e8, i }' > kv.txt
cut -f1 kv.txt > keys.txt
LC_ALL=C sort kv.txt > sorted.txt
awk 'BEGIN { srand(2); for (i = 0; i < 20000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 1000000); print "" } }' > train.svm

fill_and_check() {  # NAME OUT ERR RC
  check_failed "$1" "$4" "$3" "No space left on device"
  check_grep "$1: names the file" "full/" "$3"
  check_untouched "$1" full/prev.out
  check_clean "$1" full spill
  local extra
  extra=$(find full -mindepth 1 ! -name prev.out ! -name prev.out.saved | head -3)
  [ -z "$extra" ] && pass || fail "$1: left in the output directory: $extra"
}
# A partition directory's message names the part file where the user will
# look for it, not the temporary directory it was being written in.
names_part() {  # NAME ERR
  check_grep "$1: names the part file" "full/parts/part-0" "$2"
  grep -q 'grist-tmp' "$2" && fail "$1: names a temporary: $(cat "$2")" || pass
}

cd full && save_previous prev.out && cd ..
# Writing over a previous file: the new version does not fit.
run_cmd o e grist-count -o full/prev.out keys.txt;                fill_and_check "count -o" o e "$rc"
run_cmd o e grist-count -o full/prev.out.zst --level 1 kv.txt;    fill_and_check "count -o .zst" o e "$rc"
run_cmd o e grist-count -p 4 -o full/parts keys.txt;              fill_and_check "count -p" o e "$rc"
names_part "count -p" e
run_cmd o e grist-shuffle-sort -o full/prev.out kv.txt;           fill_and_check "shuffle-sort -o" o e "$rc"
run_cmd o e grist-shuffle-sort --random -o full/prev.out kv.txt;  fill_and_check "shuffle-sort --random -o" o e "$rc"
run_cmd o e grist-shuffle-sort -p 3 -o full/parts kv.txt;         fill_and_check "shuffle-sort -p" o e "$rc"
names_part "shuffle-sort -p" e
run_cmd o e grist-merge -o full/prev.out sorted.txt sorted.txt;   fill_and_check "merge -o" o e "$rc"
run_cmd o e grist-tokenize -o full/prev.out kv.txt;               fill_and_check "tokenize -o" o e "$rc"
run_cmd o e grist-train-sgd -b 20 -f full/prev.out train.svm;     fill_and_check "train-sgd -f" o e "$rc"
run_cmd o e grist-train-sgd -b 20 -f m.bin --readable-model full/prev.out train.svm
fill_and_check "train-sgd --readable-model" o e "$rc"
grist-train-sgd -q -b 20 -f model.bin train.svm
for i in 1 2 3 4 5 6; do cat train.svm; done > predict.svm
run_cmd o e grist-predict -i model.bin -o full/prev.out predict.svm
fill_and_check "predict -o" o e "$rc"

# A full spill directory (-T): the output is not written at all.
if mountpoint -q spill; then
  spill_check() {  # NAME RC ERR
    check_failed "$1" "$2" "$3" "No space left on device"
    check_no_file "$1: no output" out.txt
    [ -z "$(ls -A spill)" ] && pass || fail "$1: files left in -T: $(ls -A spill | head -3)"
    check_clean "$1" . spill
  }
  awk 'BEGIN { srand(5); for (i = 0; i < 400000; i++) print "s" int(rand() * 1000000) }' > many.txt
  run_cmd o e grist-count -S 1M -T spill -o out.txt many.txt;             spill_check "count -T" "$rc" e
  run_cmd o e grist-shuffle-sort -S 1M -T spill -o out.txt many.txt;      spill_check "shuffle-sort -T" "$rc" e
  run_cmd o e grist-shuffle-sort --random -S 1M -T spill -o out.txt many.txt
  spill_check "shuffle-sort --random -T" "$rc" e
  # More inputs than -S allows merging at once: intermediate runs in -T.
  LC_ALL=C sort many.txt > sorted1.txt
  for i in 2 3 4 5 6 7 8; do cp sorted1.txt sorted$i.txt; done
  run_cmd o e grist-merge -S 4M -T spill -o out.txt sorted?.txt;          spill_check "merge -T" "$rc" e
  for i in 1 2 3 4 5 6 7 8 9 10; do cat train.svm; done > bigtrain.svm
  run_cmd o e grist-train-sgd --passes 2 -b 20 -T spill -f out.txt bigtrain.svm
  spill_check "train-sgd --passes -T" "$rc" e
fi
finish
