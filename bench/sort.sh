#!/usr/bin/env bash
# Throughput of grist-shuffle-sort and grist-merge against GNU sort, sort -m
# + awk, shuf and decorate-sort-undecorate, on the same inputs, in one run.
#
#   bench/sort.sh [MB] [MEMORY] [THREADS]      (defaults: 1024 256M 2)
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
# Prints MB/s, the ratio grist/other and peak RSS; outputs are checked to
# agree. GRIST_BIN: the built programs (default build/bin).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${GRIST_BIN:-$here/build/bin}
mb=${1:-1024}
mem=${2:-256M}
threads=${3:-2}
zipf_src="$(dirname "$0")/../../shared/bench/zipfgen.c"
work=$(mktemp -d "${TMPDIR:-/tmp}/grist-bench-sort.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"

cc -O2 -o "$work/zipfgen" "$zipf_src" -lm
"$work/zipfgen" kv 5000000 1.0 $((mb * 1000000)) 1 > "$work/kv.txt"
"$work/zipfgen" text 2000000 1.0 $((mb * 1000000)) 2 > "$work/text.txt"
bytes=$(stat -c %s "$work/kv.txt")
tbytes=$(stat -c %s "$work/text.txt")
echo "inputs: kv $((bytes / 1000000)) MB ($(wc -l < "$work/kv.txt") lines), text $((tbytes / 1000000)) MB; -S $mem, $threads threads, $(nproc) CPUs"

# run NAME CMD: runs the shell command CMD, output to $work/out.NAME; sets secs, rss_mb.
run() {
  local name=$1 cmd=$2 start end
  sync
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/rss" bash -c "$cmd" > "$work/out.$name"
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  rss_mb=$(( $(tail -1 "$work/rss") / 1024 ))
}
report() {  # NAME BYTES SECS RSS [BASE_SECS]
  local mbs ratio=""
  mbs=$(echo "$2 / 1000000 / $3" | bc -l)
  [ -n "${5:-}" ] && ratio=$(printf '  %5.2fx' "$(echo "$5 / $3" | bc -l)")
  printf '  %-34s %7.1f MB/s %7.2f s  peak RSS %5d MB%s\n' "$1" "$mbs" "$3" "$4" "$ratio"
}

echo "external sort (ratio: speed relative to GNU sort)"
run gnusort "sort -s -t\$'\\t' -k1,1 -S $mem --parallel=$threads --compress-program=zstd -T $work/tmp $work/kv.txt"
gnu=$secs; gnu_rss=$rss_mb
run grsort "$bin/grist-shuffle-sort -S $mem -j $threads -T $work/tmp $work/kv.txt"
report "GNU sort" "$bytes" "$gnu" "$gnu_rss"
report "grist-shuffle-sort" "$bytes" "$secs" "$rss_mb" "$gnu"
cmp -s "$work/out.gnusort" "$work/out.grsort" || echo "  WARNING: sort outputs differ"
rm -f "$work/out.gnusort"

echo "merge of 16 sorted zstd runs with a sum (ratio: relative to sort -m + awk)"
split -n l/16 -d "$work/out.grsort" "$work/piece."  # sorted pieces; shuffle them into 16 runs
runs=()
for i in $(seq 0 15); do
  awk -v i="$i" 'NR % 16 == i' "$work/out.grsort" | zstd -q -1 -o "$work/run$i.zst"
  runs+=("$work/run$i.zst")
done
rm -f "$work"/piece.* "$work/out.grsort"
subst=""
for r in "${runs[@]}"; do subst="$subst <(zstd -dc $r)"; done
run awkmerge "sort -m -t\$'\\t' -k1,1 $subst | awk -F'\\t' 'NR > 1 && \$1 != k { print k \"\\t\" s; s = 0 } { k = \$1; s += \$2 } END { if (NR) print k \"\\t\" s }'"
awk_secs=$secs; awk_rss=$rss_mb
run grmerge "$bin/grist-merge --reduce sum -S $mem -j $threads ${runs[*]}"
report "sort -m | awk" "$bytes" "$awk_secs" "$awk_rss"
report "grist-merge --reduce sum" "$bytes" "$secs" "$rss_mb" "$awk_secs"
cmp -s "$work/out.awkmerge" "$work/out.grmerge" || echo "  WARNING: merge outputs differ"
rm -f "$work"/run*.zst "$work/out.awkmerge" "$work/out.grmerge" "$work/kv.txt"

echo "random shuffle of text lines (ratio: relative to decorate-sort-undecorate / shuf)"
run dsu "awk 'BEGIN { srand(1) } { printf \"%.17f\\t%s\\n\", rand(), \$0 }' $work/text.txt | sort -S $mem --parallel=$threads -T $work/tmp | cut -f2-"
dsu=$secs; dsu_rss=$rss_mb
run shuf "shuf --random-source=$work/text.txt $work/text.txt"
shuf_secs=$secs; shuf_rss=$rss_mb
run grshuf "$bin/grist-shuffle-sort --random --seed 1 -S $mem -j $threads -T $work/tmp $work/text.txt"
report "decorate-sort-undecorate" "$tbytes" "$dsu" "$dsu_rss"
report "shuf (whole input in memory)" "$tbytes" "$shuf_secs" "$shuf_rss"
report "grist-shuffle-sort --random" "$tbytes" "$secs" "$rss_mb" "$dsu"
printf '  grist-shuffle-sort --random speed / shuf speed: %.2f\n' "$(echo "$shuf_secs / $secs" | bc -l)"
for o in dsu shuf; do
  cmp -s <(sort "$work/out.$o") <(sort "$work/out.grshuf") || echo "  WARNING: $o and grist hold different lines"
done
