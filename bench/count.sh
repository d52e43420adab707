#!/usr/bin/env bash
# Throughput of grist-count against its peers on one input, in one run.
#
#   bench/count.sh [INPUT] [MB]
#
# INPUT: a token-per-line file (plain or compressed: it is decoded once into
# a temporary plain file so that every program reads the same bytes). Without
# it, one is made from ../shared/data/text/*.zst ($GRIST_DATA) (`tr -cs A-Za-z '\n'`),
# repeated to about MB megabytes (default 200). Prints MB/s, the ratio to
# grist-count and the peak RSS of each program; all outputs are checked to
# hold the same counts. GRIST_BIN: the built programs (default build/bin).
# DISTINCT=N (default 20000000; 0 skips it): also counts N distinct keys
# with -S 256M (spills) and checks the result against -S 2G.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")/.." && pwd)
data=${GRIST_DATA:-$here/../shared/data/text}
bin=${GRIST_BIN:-$here/build/bin}
mb=${2:-200}
work=$(mktemp -d "${TMPDIR:-/tmp}/grist-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

input=$work/input.txt
if [ $# -ge 1 ] && [ -n "$1" ]; then
  "$bin/grist-count" --help >/dev/null
  case $(head -c4 "$1" | od -An -tx1 | tr -d ' ') in
    28b52ffd) zstd -dc "$1" > "$input" ;;
    1f8b*) gzip -dc "$1" > "$input" ;;
    *) cp "$1" "$input" ;;
  esac
else
  zstd -dc "$data"/*.zst | tr -cs A-Za-z '\n' > "$work/one.txt"
  one=$(stat -c %s "$work/one.txt")
  : > "$input"
  while [ "$(stat -c %s "$input")" -lt $((mb * 1000000)) ]; do cat "$work/one.txt" >> "$input"; done
  [ "$one" -gt 0 ] || { echo "no input" >&2; exit 1; }
fi
bytes=$(stat -c %s "$input")
lines=$(wc -l < "$input")
echo "input: $((bytes / 1000000)) MB, $lines lines, $(nproc) CPUs"
cat "$input" > /dev/null  # into the page cache

have_time=0
[ -x /usr/bin/time ] && have_time=1

# run NAME CMD: runs CMD (a shell string reading $input, writing counts to
# stdout as "key<TAB>count" in any order), sets secs and rss_kb.
run() {
  local name=$1 cmd=$2
  local start end
  start=$(date +%s.%N)
  if [ $have_time = 1 ]; then
    /usr/bin/time -f %M -o "$work/rss" bash -c "$cmd" > "$work/out.$name"
    rss_kb=$(tail -1 "$work/rss")
  else
    bash -c "$cmd" > "$work/out.$name" &
    local pid=$! peak=0 r
    while kill -0 $pid 2>/dev/null; do
      for p in $pid $(pgrep -P $pid 2>/dev/null); do
        r=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$peak" ] && peak=$r
      done
      sleep 0.05
    done
    wait $pid
    rss_kb=$peak
  fi
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  LC_ALL=C sort "$work/out.$name" > "$work/sorted.$name"
}

declare -A speed
report() {
  local name=$1
  local rate
  rate=$(echo "$bytes / 1000000 / $secs" | bc -l)
  speed[$name]=$rate
  local ratio
  ratio=$(echo "${speed[grist-count]:-$rate} / $rate" | bc -l)
  printf '%-28s %7.2f s  %8.1f MB/s  time x%5.2f of grist-count  peak RSS %6d MiB\n' \
    "$name" "$secs" "$rate" "$ratio" $((rss_kb / 1024))
  if [ "$name" != grist-count ] && [ -s "$work/sorted.grist-count" ] && ! cmp -s "$work/sorted.grist-count" "$work/sorted.$name"; then
    echo "  WARNING: $name counts differ from grist-count" >&2
  fi
}

run grist-count "'$bin/grist-count' '$input'"; report grist-count
run grist-count-j1 "'$bin/grist-count' -j1 '$input'"; report grist-count-j1
run grist-count-S64M "'$bin/grist-count' -S 64M '$input'"; report grist-count-S64M
if command -v mawk >/dev/null; then
  run mawk "mawk '{c[\$0]++} END {for (k in c) print k \"\\t\" c[k]}' '$input'"; report mawk
fi
run sort-uniq "sort -S 50% '$input' | uniq -c | mawk '{n = \$1; sub(/^ *[0-9]+ /, \"\"); print \$0 \"\\t\" n}'"
report sort-uniq

# The word-count pipeline, measured in MB/s of input text.
tok=${GRIST_TOKENIZE:-$bin/grist-tokenize}
if [ -x "$tok" ] && [ -d "$data" ]; then
  text=$work/text.txt
  zstd -dc "$data"/*.zst > "$work/one-text.txt"
  : > "$text"
  while [ "$(stat -c %s "$text")" -lt $((mb * 1000000)) ]; do cat "$work/one-text.txt" >> "$text"; done
  bytes=$(stat -c %s "$text")
  echo "text: $((bytes / 1000000)) MB"
  cat "$text" > /dev/null
  run tokenize-only "'$tok' '$text' > /dev/null"
  printf '%-28s %7.2f s  %8.1f MB/s of text\n' "grist-tokenize alone" "$secs" "$(echo "$bytes / 1000000 / $secs" | bc -l)"
  run word-count "'$tok' '$text' | '$bin/grist-count'"
  printf '%-28s %7.2f s  %8.1f MB/s of text  peak RSS (count) %d MiB\n' "tokenize | count" "$secs" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)" $((rss_kb / 1024))
fi

# High cardinality: N distinct keys (i * 7919 mod a prime > N: a bijection)
# within -S 256M, so that tables spill and runs are merged.
distinct=${DISTINCT:-20000000}
if [ "$distinct" -gt 0 ]; then
  keys=$work/keys.txt
  seq 1 "$distinct" | mawk '{ printf "key%d\n", ($1 * 7919) % 20000003 }' > "$keys"
  bytes=$(stat -c %s "$keys")
  echo "distinct keys: $distinct, $((bytes / 1000000)) MB"
  run count-S256M "'$bin/grist-count' -S 256M '$keys'"
  printf '%-28s %7.2f s  %8.1f MB/s  peak RSS %6d MiB\n' "grist-count -S 256M" "$secs" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)" $((rss_kb / 1024))
  run count-S2G "'$bin/grist-count' -S 2G '$keys'"
  printf '%-28s %7.2f s  %8.1f MB/s  peak RSS %6d MiB\n' "grist-count -S 2G" "$secs" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)" $((rss_kb / 1024))
  cmp -s "$work/out.count-S256M" "$work/out.count-S2G" || echo "  WARNING: -S 256M and -S 2G differ" >&2
fi
