#!/usr/bin/env bash
# Benchmark (not a CTest test): the Slurm word count over 8 input files on
# a one-node cluster (this machine) against the single-process pipeline
# grist-tokenize FILES | grist-count, end to end, same bytes.
#   bash tests/e2e/slurm/bench.bash [BIN_DIR] [COPIES]
# Inputs: the texts of ../shared/data/text, decompressed and concatenated
# COPIES times (default 4) into each of 8 zstd files, in rotated orders.
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/../../.." && pwd)
bin=$(cd "${1:-$src/build/bin}" && pwd)
copies=${2:-4}
data_src=${GRIST_DATA:-$src/../shared/data/text}
export PATH=$bin:$PATH
W=$(mktemp -d "${TMPDIR:-/tmp}/grist-slurm-bench.XXXXXX")
. "$src/tests/e2e/slurm/cluster.bash"
trap 'stop_slurm_cluster; rm -rf "$W"' EXIT
start_slurm_cluster "$W/slurm"

mapfile -t texts < <(ls "$data_src"/*.txt.zst)
mkdir "$W/data"
for i in $(seq 0 7); do
  for ((c = 0; c < copies; c++)); do
    for ((k = 0; k < ${#texts[@]}; k++)); do
      zstd -dc "${texts[$(((k + i) % ${#texts[@]}))]}"
    done
  done | zstd -q -1 -T2 -o "$W/data/part$i.txt.zst"
done
bytes=$(for f in "$W"/data/*; do zstd -dc "$f"; done | wc -c)
echo "input: 8 files, $((bytes / 1000000)) MB of text ($(du -sm "$W/data" | cut -f1) MB zstd)"

t0=$(date +%s.%N)
grist-tokenize "$W"/data/*.zst | grist-count >"$W/single.tsv"
t1=$(date +%s.%N)
"$src/contrib/slurm/grist-slurm-wordcount" -W -r 2 -b "$bin" -o "$W/out" "$W/data" 2>"$W/slurm.err"
t2=$(date +%s.%N)
grist-merge --single "$W/out" >"$W/slurm.tsv"
cmp "$W/single.tsv" "$W/slurm.tsv" && same=yes || same=NO
awk -v a="$t0" -v b="$t1" -v c="$t2" -v mb="$bytes" -v same="$same" 'BEGIN {
  s = b - a; d = c - b
  printf "single process : %6.2f s  %6.1f MB/s\n", s, mb / 1e6 / s
  printf "slurm (8 maps, 2 reduces, final): %6.2f s  %6.1f MB/s  = %.2fx the single-process time\n", d, mb / 1e6 / d, d / s
  printf "same bytes: %s\n", same
}'
