#!/usr/bin/env bash
# Throughput of grist-shuffle-sort and grist-merge against GNU sort, sort -m
# + awk, shuf and decorate-sort-undecorate, on the same inputs, in one run.
#
#   bench/sort.sh [MB] [MEMORY] [THREADS] [REPS]   (defaults: 1024 256M 2 3)
#
# Inputs (made with ../shared/bench/zipfgen.c, high-cardinality Zipf keys):
# MB megabytes of `key\tcount` records and MB megabytes of text lines.
#   sort:    grist-shuffle-sort -S MEMORY -j THREADS -T DIR   vs
#            LC_ALL=C sort -s -t TAB -k1,1 -S MEMORY --parallel=THREADS
#                 --compress-program=zstd -T DIR
#   merge:   16 sorted zstd runs: grist-merge --reduce sum   vs
#            sort -m (runs decoded by zstd -dc) | awk (sum per key)
#   shuffle: text lines: grist-shuffle-sort --random -S MEMORY   vs
#            shuf, and awk (random prefix) | sort -S MEMORY | cut
# Each command runs REPS times, the commands of one comparison taking turns
# (so that a shared machine's load hits them alike); the figures are
# medians: MB/s, wall seconds, CPU seconds (user + system, children
# included), peak RSS, and the ratio of wall times. Outputs are checked to
# agree. GRIST_BIN: the built programs (default build/bin); GRIST_BASE_BIN:
# other builds of them (before a change) to run in the same rounds;
# GRIST_BENCH: the comparisons to run, of "sort merge shuffle" (default all).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${GRIST_BIN:-$here/build/bin}
base=${GRIST_BASE_BIN:-}
mb=${1:-1024}
mem=${2:-256M}
threads=${3:-2}
reps=${4:-3}
sections=${GRIST_BENCH:-sort merge shuffle}
want() { [[ " $sections " == *" $1 "* ]]; }
zipf_src="$(dirname "$0")/../../shared/bench/zipfgen.c"
work=$(mktemp -d "${TMPDIR:-/tmp}/grist-bench-sort.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"

cc -O2 -o "$work/zipfgen" "$zipf_src" -lm
bytes=0 tbytes=0
if want sort || want merge; then
  "$work/zipfgen" kv 5000000 1.0 $((mb * 1000000)) 1 > "$work/kv.txt"
  bytes=$(stat -c %s "$work/kv.txt")
  echo "input: kv $((bytes / 1000000)) MB ($(wc -l < "$work/kv.txt") lines)"
fi
if want shuffle; then
  "$work/zipfgen" text 2000000 1.0 $((mb * 1000000)) 2 > "$work/text.txt"
  tbytes=$(stat -c %s "$work/text.txt")
  echo "input: text $((tbytes / 1000000)) MB ($(wc -l < "$work/text.txt") lines)"
fi
echo "-S $mem, $threads threads, $(nproc) CPUs"

# run NAME CMD: runs the shell command CMD once, output to $work/out.NAME,
# and appends "wall cpu rss_kb" to $work/times.NAME.
run() {
  local name=$1 cmd=$2
  sync
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" bash -c "$cmd" > "$work/out.$name"
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time" >> "$work/times.$name"
}
# compare NAME CMD [NAME CMD]...: REPS rounds, each running every command once.
compare() {
  local i j
  for ((j = 1; j < $#; j += 2)); do rm -f "$work/times.${!j}"; done
  for ((i = 0; i < reps; ++i)); do
    for ((j = 1; j < $#; j += 2)); do
      local k=$((j + 1))
      run "${!j}" "${!k}"
    done
  done
}
# median NAME FIELD (1 wall, 2 cpu, 3 rss_kb)
median() {
  cut -d' ' -f"$2" "$work/times.$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
report() {  # LABEL NAME BYTES [BASE_NAME]
  local secs cpu rss mbs ratio=""
  secs=$(median "$2" 1); cpu=$(median "$2" 2); rss=$(( $(median "$2" 3) / 1024 ))
  mbs=$(echo "$3 / 1000000 / $secs" | bc -l)
  [ -n "${4:-}" ] && ratio=$(printf '  %5.2fx' "$(echo "$(median "$4" 1) / $secs" | bc -l)")
  printf '  %-34s %7.1f MB/s %7.2f s  cpu %6.2f s  peak RSS %5d MB%s\n' "$1" "$mbs" "$secs" "$cpu" "$rss" "$ratio"
}

echo "medians of $reps runs each, taking turns"
if want sort; then
echo "external sort (ratio: speed relative to GNU sort)"
compare gnusort "sort -s -t\$'\\t' -k1,1 -S $mem --parallel=$threads --compress-program=zstd -T $work/tmp $work/kv.txt" \
        grsort "$bin/grist-shuffle-sort -S $mem -j $threads -T $work/tmp $work/kv.txt" \
        ${base:+basesort "$base/grist-shuffle-sort -S $mem -j $threads -T $work/tmp $work/kv.txt"}
report "GNU sort" gnusort "$bytes"
report "grist-shuffle-sort" grsort "$bytes" gnusort
[ -n "$base" ] && report "grist-shuffle-sort (GRIST_BASE_BIN)" basesort "$bytes" gnusort
cmp -s "$work/out.gnusort" "$work/out.grsort" || echo "  WARNING: sort outputs differ"
rm -f "$work/out.gnusort"
elif want merge; then
  "$bin/grist-shuffle-sort" -S "$mem" -j "$threads" -T "$work/tmp" "$work/kv.txt" > "$work/out.grsort"
fi

if want merge; then
echo "merge of 16 sorted zstd runs with a sum (ratio: relative to sort -m + awk)"
runs=()
for i in $(seq 0 15); do  # 16 sorted runs: every 16th line of the sorted output
  awk -v i="$i" 'NR % 16 == i' "$work/out.grsort" | zstd -q -1 -o "$work/run$i.zst"
  runs+=("$work/run$i.zst")
done
rm -f "$work/out.grsort"
subst=""
for r in "${runs[@]}"; do subst="$subst <(zstd -dc $r)"; done
compare awkmerge "sort -m -t\$'\\t' -k1,1 $subst | awk -F'\\t' 'NR > 1 && \$1 != k { print k \"\\t\" s; s = 0 } { k = \$1; s += \$2 } END { if (NR) print k \"\\t\" s }'" \
        grmerge "$bin/grist-merge --reduce sum -S $mem -j $threads ${runs[*]}" \
        ${base:+basemerge "$base/grist-merge --reduce sum -S $mem -j $threads ${runs[*]}"}
report "sort -m | awk" awkmerge "$bytes"
report "grist-merge --reduce sum" grmerge "$bytes" awkmerge
[ -n "$base" ] && report "grist-merge (GRIST_BASE_BIN)" basemerge "$bytes" awkmerge
cmp -s "$work/out.awkmerge" "$work/out.grmerge" || echo "  WARNING: merge outputs differ"
fi
rm -f "$work"/run*.zst "$work/out.awkmerge" "$work/out.grmerge" "$work/kv.txt" "$work/out.grsort"

want shuffle || exit 0
echo "random shuffle of text lines (ratio: relative to decorate-sort-undecorate / shuf)"
compare dsu "awk 'BEGIN { srand(1) } { printf \"%.17f\\t%s\\n\", rand(), \$0 }' $work/text.txt | sort -S $mem --parallel=$threads -T $work/tmp | cut -f2-" \
        shuf "shuf --random-source=$work/text.txt $work/text.txt" \
        grshuf "$bin/grist-shuffle-sort --random --seed 1 -S $mem -j $threads -T $work/tmp $work/text.txt" \
        ${base:+baseshuf "$base/grist-shuffle-sort --random --seed 1 -S $mem -j $threads -T $work/tmp $work/text.txt"}
report "decorate-sort-undecorate" dsu "$tbytes"
report "shuf (whole input in memory)" shuf "$tbytes"
report "grist-shuffle-sort --random" grshuf "$tbytes" dsu
printf '  grist-shuffle-sort --random speed / shuf speed: %.2f\n' "$(echo "$(median shuf 1) / $(median grshuf 1)" | bc -l)"
if [ -n "$base" ]; then
  report "grist-shuffle-sort --random (BASE)" baseshuf "$tbytes" dsu
  printf '  (GRIST_BASE_BIN) speed / shuf speed: %.2f\n' "$(echo "$(median shuf 1) / $(median baseshuf 1)" | bc -l)"
fi
for o in dsu shuf; do
  cmp -s <(sort "$work/out.$o") <(sort "$work/out.grshuf") || echo "  WARNING: $o and grist hold different lines"
done
