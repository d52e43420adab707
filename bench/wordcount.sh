#!/bin/bash
# Word count, grist against the classic Unix pipelines, on one corpus:
#
#   grist-tokenize --lower | grist-count
#   tr -cs A-Za-z '\n' | tr A-Z a-z | sort | uniq -c
#   tr -cs A-Za-z '\n' | tr A-Z a-z | mawk '{c[$0]++} ...'   (a hash count)
#
# and the tokenizers alone. Prints MB/s of input, the time relative to
# grist, the CPU seconds and the peak RSS (sums over the pipeline's processes).
#
#   bench/wordcount.sh [-s SIZE] [-j N] [-k] [CORPUS]
#
# CORPUS is a text file (any compression grist reads; the other pipelines
# get it decompressed). Without it, SIZE bytes (default 1G; 100M for a
# quick run) are made by repeating the English texts of ../shared/data/text
# into a temporary file. -j sets grist's threads (default: all CPUs); -k
# keeps the generated corpus. GRIST_BIN names the directory of the built
# programs (default: build/bin).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
data=${GRIST_DATA:-$repo/../shared/data}
bin=${GRIST_BIN:-$repo/build/bin}
size=1G
threads=$(nproc)
keep=0
while getopts "s:j:kh" opt; do
  case $opt in
    s) size=$OPTARG ;;
    j) threads=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
for p in grist-tokenize grist-count; do
  [ -x "$bin/$p" ] || { echo "wordcount.sh: $bin/$p not built (set GRIST_BIN)" >&2; exit 1; }
done
command -v mawk >/dev/null || { echo "wordcount.sh: mawk is needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/wordcount.XXXXXX")
cleanup() { if [ "$keep" = 1 ] && [ -f "$work/corpus.txt" ]; then
  echo "corpus kept: $work/corpus.txt"; rm -f "$work"/rss.* "$work"/out.*; else rm -rf "$work"; fi; }
trap cleanup EXIT

bytes=$(numfmt --from=iec "$size")
if [ $# -ge 1 ]; then
  corpus=$work/corpus.txt
  "$bin/grist-tokenize" --help >/dev/null  # the binary works
  case $(head -c 4 "$1" | od -An -tx1 | tr -d ' ') in
    28b52ffd) zstd -dcq "$1" >"$corpus" ;;
    1f8b*) gzip -dc "$1" >"$corpus" ;;
    *) corpus=$1 ;;
  esac
else
  corpus=$work/corpus.txt
  echo "making a $size corpus from $data/text ..." >&2
  src=$work/src.txt
  for f in austen bible-kjv brown devil debref-en fortunes-en; do
    zstd -dcq "$data/text/$f.txt.zst"
  done >"$src"
  : >"$corpus"
  while [ "$(stat -c %s "$corpus")" -lt "$bytes" ]; do cat "$src" >>"$corpus"; done
  truncate -s "$bytes" "$corpus"
  printf '\n' >>"$corpus"
  rm -f "$src"
fi
input_bytes=$(stat -L -c %s "$corpus")
cat "$corpus" >/dev/null  # warm the page cache

# run NAME PIPELINE: times the pipeline (reading $corpus); each process in
# it is wrapped by $T so that its peak RSS lands in a file.
declare -A secs rss cpu
order=()
run() {
  local name=$1 cmd=$2
  rm -f "$work"/rss.*
  local T="/usr/bin/time -f '%M %U %S' -o $work/rss.\$RANDOM\$RANDOM"
  local start end
  start=$(date +%s.%N)
  C=$corpus W=$work bash -c "set -o pipefail; ${cmd//\$T/$T}" >/dev/null
  end=$(date +%s.%N)
  secs[$name]=$(echo "$end - $start" | bc -l)
  rss[$name]=$(cat "$work"/rss.* | awk '{ s += $1 } END { print s }')
  cpu[$name]=$(cat "$work"/rss.* | awk '{ s += $2 + $3 } END { print s }')
  order+=("$name")
}

G="$bin/grist-tokenize -j$threads"
C_="$bin/grist-count -j$threads"
run "grist-tokenize --lower | grist-count" \
  "\$T $G --lower \"\$C\" | \$T $C_ -T \"\$W\" -o \"\$W/out.grist\""
run "tr | tr | sort | uniq -c" \
  "\$T tr -cs A-Za-z '\n' <\"\$C\" | \$T tr A-Z a-z | \$T sort -T \"\$W\" | \$T uniq -c >\"\$W/out.sort\""
run "tr | tr | mawk hash" \
  "\$T tr -cs A-Za-z '\n' <\"\$C\" | \$T tr A-Z a-z | \$T mawk '{ c[\$0]++ } END { for (w in c) print w \"\t\" c[w] }' >\"\$W/out.mawk\""
run "grist-tokenize --lower (alone)" "\$T $G --lower \"\$C\" >/dev/null"
run "grist-tokenize (alone)" "\$T $G \"\$C\" >/dev/null"
run "tr | tr (alone)" "\$T tr -cs A-Za-z '\n' <\"\$C\" | \$T tr A-Z a-z >/dev/null"

# The counts agree where they should: the number of distinct words of the
# oracles (the grist word definition differs: digits, apostrophes, Unicode).
distinct_sort=$(wc -l <"$work/out.sort")
distinct_grist=$(wc -l <"$work/out.grist")

mb=$(echo "$input_bytes / 1000000" | bc -l)
ref=${secs["grist-tokenize --lower | grist-count"]}
printf 'input: %s (%.0f MB), %s CPUs, grist -j%s\n' "$corpus" "$mb" "$(nproc)" "$threads"
printf '%-34s %8s %8s %10s %8s %9s\n' pipeline seconds "MB/s" "time/grist" "CPU s" "peak RSS"
for name in "${order[@]}"; do
  s=${secs[$name]}
  printf '%-34s %8.2f %8.1f %9.2fx %8.2f %6.0f MB\n' "$name" "$s" "$(echo "$mb / $s" | bc -l)" \
    "$(echo "$s / $ref" | bc -l)" "${cpu[$name]}" "$(echo "${rss[$name]} / 1024" | bc -l)"
done
echo "(CPU s: user + system seconds of all the pipeline's processes; on a busy"
echo " machine, MB/s of input per CPU second is the steadier figure)"
printf 'distinct words: grist %s, tr|sort|uniq %s\n' "$distinct_grist" "$distinct_sort"
