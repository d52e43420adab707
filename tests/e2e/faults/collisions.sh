#!/usr/bin/env bash
# Files of one run that collide, compared as files (symlinks, hard links,
# /dev/stdout), not as strings:
#   - two outputs naming one file: usage error (exit 2) naming both
#     options, nothing written, the file untouched;
#   - an output naming an input: allowed for every program, as in sort -o
#     (the input is read whole before the output replaces it), and the
#     result is the one a separate output gets; not for a FIFO;
#   - an output inside an input directory, an input inside an output
#     directory, -T equal to an output or inside an output directory:
#     usage errors.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

awk 'BEGIN { srand(3); for (i = 0; i < 5000; i++) printf "k%d\t%d\n", int(rand() * 1e6), i % 7 }' > kv.txt
LC_ALL=C sort kv.txt > sorted.txt
awk 'BEGIN { srand(4); for (i = 0; i < 2000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 4; j++) printf " %d:1", 1 + int(rand() * 3000); print "" } }' > train.svm
mkdir spill

# check_usage NAME PATTERN CMD...: exit 2, a message matching PATTERN.
check_usage() {
  local name=$1 pat=$2; shift 2
  run_cmd o.txt e.txt "$@"
  check_status "$name: usage error" 2 "$rc"
  check_grep "$name: message" "^grist-[a-z-]+: .*($pat)" e.txt
}

# Two outputs, one file: every way of naming it twice.
save_previous m.bin
ln m.bin m.hard
ln -s m.bin m.link
for pair in "m.bin m.bin" "m.bin ./m.bin" "m.bin m.link" "m.bin m.hard" "m.link $PWD/m.hard" \
            "new.bin new.bin" "new.bin ./sub/../new.bin"; do
  set -- $pair
  mkdir -p sub
  check_usage "-f $1 --readable-model $2" "-f $1 and --readable-model $2 name the same file" \
    grist-train-sgd -q -f "$1" --readable-model "$2" train.svm
  check_untouched "-f $1 --readable-model $2: model untouched" m.bin
  check_no_file "-f $1 --readable-model $2: nothing new" new.bin
done
check_usage "-f - --readable-model -" "both write to standard output" \
  grist-train-sgd -q -f - --readable-model - train.svm
# /dev/stdout is standard output: the same pipe.
set +e
grist-train-sgd -q -f /dev/stdout --readable-model - train.svm 2> e.txt | cat > /dev/null
rc=${PIPESTATUS[0]}
set -e
check_status "-f /dev/stdout --readable-model -: usage error" 2 "$rc"
check_grep "-f /dev/stdout --readable-model -: message" "name the same file" e.txt
# Standard output redirected to the -f file.
set +e
grist-train-sgd -q -f m.bin --readable-model - train.svm 2> e.txt >> m.bin
rc=$?
set -e
check_status "--readable-model - > the -f file: usage error" 2 "$rc"
# A character device may take both (a dry run). As root, a node of our
# own: a program that replaced its output would not touch the system's.
null=/dev/null
if [ "$(id -u)" = 0 ] && mknod devnull c 1 3 2>/dev/null; then null=devnull; fi
run_cmd o.txt e.txt grist-train-sgd -q -f $null --readable-model $null train.svm
check_status "-f /dev/null --readable-model /dev/null" 0 "$rc"
[ -c $null ] && pass || fail "-f /dev/null --readable-model /dev/null: replaced"
check_clean "two outputs" . spill

# An output naming an input: every program, the result of a separate output.
# name|COMMAND with IN for the input (and output) file
cases=(
  "count|grist-count -o OUT IN|kv.txt"
  "count, two inputs|grist-count -o OUT IN kv.txt|sorted.txt"
  "shuffle-sort|grist-shuffle-sort -S 1M -T spill -o OUT IN|kv.txt"
  "shuffle-sort --random|grist-shuffle-sort --random -o OUT IN|kv.txt"
  "merge|grist-merge -o OUT IN sorted.txt|sorted.txt"
  "tokenize|grist-tokenize -o OUT IN|kv.txt"
  "train-sgd -f = -i|grist-train-sgd -q -j1 -i IN -f OUT train.svm|model.bin"
  "predict -o = the examples|grist-predict -i model.bin -o OUT IN|train.svm"
  "predict -o = -i|grist-predict -i IN -o OUT train.svm|model.bin"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name cmd in <<< "$c"
  grist-train-sgd -q -j1 -f model.bin train.svm
  cp "$in" in.copy
  c1=${cmd//OUT/want.out}; c1=${c1//IN/in.copy}
  $c1 2> e.txt
  cp "$in" in.copy
  c2=${cmd//OUT/in.copy}; c2=${c2//IN/in.copy}
  run_cmd o.txt e.txt $c2
  check_status "$name: -o is an input" 0 "$rc"
  check_eq "$name: -o is an input: the output" want.out in.copy
  check_clean "$name: -o is an input" . spill
done
# ... through a symlink, too.
cp kv.txt in.copy; ln -sf in.copy in.link
grist-count -o want.out kv.txt
run_cmd o.txt e.txt grist-count -o in.link in.copy
check_eq "count -o LINK-TO-INPUT" want.out in.copy
[ -L in.link ] && pass || fail "count -o LINK-TO-INPUT: the link was replaced"

# A FIFO is written in place: it cannot be an input as well.
mkfifo f.fifo
check_usage "count -o FIFO FIFO" "-o f.fifo is also an input" grist-count -o f.fifo f.fifo

# Partition directories.
grist-count -p 2 -o d1 kv.txt
grist-count -p 2 -o d2 sorted.txt
check_usage "merge --single -o in an input directory" "-o d1/part-00000.zst is inside the input directory d1" \
  grist-merge --single -o d1/part-00000.zst d1 d2
check_usage "merge -o an input directory" "-o d1 and the input d1 overlap" grist-merge -o d1 d1 d2
mkdir e; cp kv.txt e/in.txt
check_usage "count -p -o DIR holding the input" "-o e and the input e/in.txt overlap" \
  grist-count -p 2 -o e e/in.txt
grist-merge --single d1 > want.out
grist-merge --single d1 -o d1.txt
check_eq "merge --single: unaffected" want.out d1.txt

# -T and the outputs.
for p in "count|grist-count -T spill -o spill kv.txt" \
         "shuffle-sort|grist-shuffle-sort -T spill -o spill kv.txt" \
         "merge|grist-merge -T spill -o spill sorted.txt" \
         "train-sgd|grist-train-sgd -q --passes 2 -T spill -f spill train.svm"; do
  IFS='|' read -r name cmd <<< "$p"
  check_usage "$name: -o = -T" "and -T spill name the same directory" $cmd
done
rm -rf empty; mkdir empty
check_usage "count -p -o DIR -T DIR" "-o empty and -T empty name the same directory" \
  grist-count -p 2 -T empty -o empty kv.txt
check_usage "shuffle-sort -p -o DIR -T DIR/sub" "-T empty/sub is inside the output directory empty" \
  grist-shuffle-sort -p 2 -T empty/sub -o empty kv.txt
[ -d empty ] && [ -z "$(ls -A empty)" ] && pass || fail "-T DIR: the directory changed"
# An output inside -T is fine (spill files have no names there).
run_cmd o.txt e.txt grist-count -S 1M -T spill -o spill/counts.tsv kv.txt
check_status "count -o inside -T" 0 "$rc"
grist-count kv.txt > want.out
check_eq "count -o inside -T: output" want.out spill/counts.tsv
rm spill/counts.tsv
check_clean "collisions" . spill
finish
