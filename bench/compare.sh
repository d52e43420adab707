#!/bin/bash
# Two builds of grist side by side on the same generated inputs, in one
# run: each step alternates old and new, REPS times, and prints the median
# seconds of each and new/old (above 1: slower). For refactors, whose
# output bytes must not change: each step's outputs are compared too.
#
#   bench/compare.sh OLD_BIN_DIR NEW_BIN_DIR [WORKDIR] [MB] [REPS]
# MB: size of the text input (default 200); REPS: default 3.
set -euo pipefail
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
work=${3:-${TMPDIR:-/tmp}/grist-bench-compare}
mb=${4:-200}
reps=${5:-3}
mkdir -p "$work"
cd "$work"

if [ ! -s "text-$mb.txt" ]; then
  echo "generating $mb MB of text and $((mb / 4)) MB of svmlight..." >&2
  awk -v bytes=$((mb << 20)) 'BEGIN { s = 7; n = 0
    while (n < bytes) { line = ""
      for (j = 0; j < 12; j++) { s = (s * 1103515245 + 12345) % 2147483648
        w = "w" int((s / 65536) % 50000) % (1 + (s % 997)); line = line (j ? " " : "") w }
      print line; n += length(line) + 1 } }' >"text-$mb.txt"
  awk -v n=$((mb * 2500)) 'BEGIN { s = 11
    for (i = 0; i < n; i++) { line = ""; score = 0
      for (f = 1; f <= 20; f++) { s = (s * 1103515245 + 12345) % 2147483648
        idx = 1 + s % 100000; v = (s % 1000) / 1000; score += (idx % 7 - 3) * v
        line = line " " idx ":" v }
      print (score > 0 ? "1" : "-1") line } }' >"svm-$mb.svm"
fi
text=text-$mb.txt
svm=svm-$mb.svm

# step NAME OUTPUT CMD...: CMD names programs as BIN/grist-x; OUTPUT is
# the file it writes (compared between the builds).
step() {
  local name=$1 out=$2
  shift 2
  local to=() tn=()
  for ((r = 0; r < reps; r++)); do
    for side in old new; do
      local bin=$old
      [ $side = new ] && bin=$new
      local cmd=("${@//BIN/$bin}")
      local t0 t1
      t0=$(date +%s.%N)
      "${cmd[@]}" >/dev/null 2>&1
      t1=$(date +%s.%N)
      local dt
      dt=$(echo "$t1 - $t0" | bc -l)
      [ $side = old ] && to+=("$dt") || tn+=("$dt")
      cp "$out" "out.$side"
    done
  done
  local mo mn same=same
  mo=$(printf '%s\n' "${to[@]}" | sort -n | sed -n "$(((reps + 1) / 2))p")
  mn=$(printf '%s\n' "${tn[@]}" | sort -n | sed -n "$(((reps + 1) / 2))p")
  cmp -s out.old out.new || same=DIFFERENT
  printf '%-28s old %7.2fs  new %7.2fs  new/old %.3f  output %s\n' "$name" "$mo" "$mn" \
    "$(echo "$mn / $mo" | bc -l)" "$same"
}

echo "old: $old"
echo "new: $new"
echo "input: $text ($(du -m "$text" | cut -f1) MB), $svm; median of $reps"
step "tokenize" tok.txt BIN/grist-tokenize -o tok.txt "$text"
step "tokenize | count" counts.tsv bash -c "set -o pipefail; BIN/grist-tokenize $text | BIN/grist-count -o counts.tsv"
step "count -S 64M (spills)" counts64.tsv bash -c "set -o pipefail; BIN/grist-tokenize --pairs $text | BIN/grist-count -S 64M -o counts64.tsv"
step "shuffle-sort -S 256M" sorted.txt BIN/grist-shuffle-sort -S 256M -o sorted.txt tok.txt
step "shuffle-sort --random" random.txt BIN/grist-shuffle-sort --random -o random.txt "$text"
step "merge --reduce sum" merged.tsv BIN/grist-merge --reduce sum -o merged.tsv counts.tsv counts64.tsv
step "train-sgd -j1" model.j1 BIN/grist-train-sgd -q -j1 -f model.j1 "$svm"
step "train-sgd --passes 3" model.p3 BIN/grist-train-sgd -q -j1 --passes 3 -f model.p3 "$svm"
step "predict" pred.txt BIN/grist-predict -i model.j1 -o pred.txt "$svm"
