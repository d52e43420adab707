#!/usr/bin/env bash
# The memory oracle: each program's peak RSS, measured from outside (GNU
# time's %M: the child's rusage), stays within the bound
# docs/reliability.md ("Memory bounds") promises, on inputs at least 10
# times the budget so that every program spills, merges or streams:
#   - grist-count, grist-shuffle-sort (sort, --random, -p) and grist-merge
#     (files, partition directories): 1.25 x -S + the program's fixed
#     allowance, at -S 2M (-j1, 20 MB in) and -S 8M (-j2, 80 MB in); and
#     grist-merge's fan-in: 16 zstd inputs at -S 32M;
#   - grist-tokenize and grist-predict (no -S): their allowance, on 20 and
#     80 MB (predict: plus the model's weights);
#   - grist-train-sgd: the model ((2^b + 1) x 4 bytes x the optimiser's
#     floats per weight) + its allowance, at -b 16 and 20, two passes.
# A bound exceeded is a defect of the program, not of this test: find where
# the memory goes (heaptrack, or GRIST_TEST_STOP_AT and /proc/PID/smaps).
# ctest-labels: nosan
# (AddressSanitizer's shadow memory and quarantine are RSS too.)
. "$(dirname "$0")/../lib/common.sh"

TIME=/usr/bin/time
if ! "$TIME" -f %M true >/dev/null 2>&1; then
  skip "GNU time is not installed (scripts/install-deps.sh installs the package time)"
fi

# Fixed allowances in KiB (docs/reliability.md, "Memory bounds", says what
# each holds: code and shared libraries, I/O buffers, zstd contexts and
# windows; for the programs without -S, the blocks in flight per thread).
ALLOW_COUNT=$((20 * 1024))
ALLOW_SORT=$((20 * 1024))
ALLOW_MERGE=$((24 * 1024))
allow_tokenize() { echo $(((16 + 14 * $1) * 1024)); }  # THREADS
ALLOW_TRAIN=$((20 * 1024))                             # -j1, besides the model
allow_predict() { echo $(((8 + 8 * $1) * 1024)); }     # THREADS, besides the weights

table=()
# within NAME LIMIT_KIB CMD...: CMD succeeds with a peak RSS <= LIMIT_KIB.
within() {
  local name=$1 limit=$2 rss
  shift 2
  if ! "$TIME" -f %M -o rss.txt "$@" >/dev/null 2>err.txt; then
    fail "$name: exit status not 0: $(tail -3 err.txt)"
    return
  fi
  rss=$(tail -1 rss.txt)
  table+=("$(printf '%-44s %7d KiB  (bound %7d KiB, %3d%%)' "$name" "$rss" "$limit" $((rss * 100 / limit)))")
  if [ "$rss" -le "$limit" ]; then pass; else
    fail "$name: peak RSS $rss KiB > bound $limit KiB"
  fi
}
budget() { echo $(($1 * 1024 * 5 / 4 + $2)); }  # budget MiB ALLOWANCE_KIB

# ---- inputs: key<TAB>value lines with some non-ASCII text; sorted files
awk 'BEGIN { srand(11); for (i = 0; i < 4700000; i++) {
  if (i % 1000 == 0) print "naïve café 東京 Grüße " i; else print "k" int(rand() * 100000000) "\t" i } }' > in80.txt
head -c 20000000 in80.txt > in20.txt
zstd -q in80.txt -o in80.txt.zst
zstd -q in20.txt -o in20.txt.zst
for f in 0 1 2 3 4 5 6 7; do
  awk -v f=$f 'BEGIN { for (i = 0; i < 600000; i++) printf "k%09d\t%d\n", i * 8 + f, i }' |
    zstd -q -o "sorted$f.zst"
done
mkdir spill

for run in "2 1 in20" "8 2 in80"; do
  read -r S j in <<<"$run"
  b=$(budget "$S" $ALLOW_COUNT)
  within "count -S ${S}M -j$j" "$b" grist-count -S ${S}M -j$j -T spill -o c.zst $in.txt
  within "count -S ${S}M -j$j -p 4, zstd input" "$b" \
    grist-count -S ${S}M -j$j -T spill -p 4 -o cd$S $in.txt.zst
  b=$(budget "$S" $ALLOW_SORT)
  within "shuffle-sort -S ${S}M -j$j" "$b" grist-shuffle-sort -S ${S}M -j$j -T spill -o s.zst $in.txt
  within "shuffle-sort -S ${S}M -j$j --random" "$b" \
    grist-shuffle-sort -S ${S}M -j$j --random -T spill -o r.txt $in.txt.zst
  within "shuffle-sort -S ${S}M -j$j -p 4" "$b" \
    grist-shuffle-sort -S ${S}M -j$j -T spill -p 4 -o sd$S $in.txt
  rm -f c.zst s.zst r.txt
done
b=$(budget 2 $ALLOW_MERGE)
within "merge -S 2M -j1, 2 zstd files" "$b" grist-merge -S 2M -j1 -T spill -o m.txt sorted0.zst sorted1.zst
within "merge -S 2M -j1, 2 directories" "$b" grist-merge -S 2M -j1 -T spill -o md2 sd2 sd2
b=$(budget 8 $ALLOW_MERGE)
within "merge -S 8M -j2, 8 zstd files" "$b" grist-merge -S 8M -j2 -T spill -o m.txt sorted?.zst
within "merge -S 8M -j2, 2 directories" "$b" grist-merge -S 8M -j2 -T spill -o md8 sd2 sd8
# The fan-in: 16 zstd inputs (170 MB) at -S 32M, where 16 open inputs would
# cost 62 MiB (an input is 4 MiB: its read buffer, a 2 MiB window).
within "merge -S 32M -j1, 16 zstd files" "$(budget 32 $ALLOW_MERGE)" \
  grist-merge -S 32M -j1 -T spill -o m.txt sorted?.zst sorted?.zst
rm -rf cd2 cd8 sd2 sd8 md2 md8 m.txt

for run in "1 in20" "2 in80"; do
  read -r j in <<<"$run"
  within "tokenize -j$j --lower, $in" "$(allow_tokenize $j)" \
    grist-tokenize -j$j --lower -o t.zst $in.txt.zst
done
rm -f t.zst

# ---- training: 250,000 examples of 10 features among 10 million
awk 'BEGIN { srand(6); for (i = 0; i < 250000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 10; j++) printf " %d:1", 1 + int(rand() * 10000000); print "" } }' > train.svm
for bits in 16 20; do
  model=$(( ((1 << bits) + 1) * 3 * 4 / 1024 ))  # AdaGrad: weight, gradient sum, max |x|
  within "train-sgd -b $bits --passes 2 (model $model KiB)" $((model + ALLOW_TRAIN)) \
    grist-train-sgd -q -j1 -b $bits --passes 2 -T spill -f m$bits.gsgd train.svm
  weights=$(( ((1 << bits) + 1) * 4 / 1024 ))
  within "predict -b $bits -j2 (weights $weights KiB)" $((weights + $(allow_predict 2))) \
    grist-predict -j2 -i m$bits.gsgd -o p.txt train.svm
done

printf '%s\n' "${table[@]}"
check_no_temps "memory" "$WORK"
finish
