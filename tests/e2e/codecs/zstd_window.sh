#!/usr/bin/env bash
# A zstd frame with a window larger than zstd's default decoder limit
# (`zstd --long=30`: 1 GiB) is read when the memory budget allows it
# (default -S, and programs without -S); under a smaller -S the message
# names the -S that would read it.
. "$(dirname "$0")/../lib/common.sh"
command -v zstd >/dev/null || { echo "skipped: no zstd program"; exit 77; }

awk 'BEGIN { for (i = 0; i < 5000; i++) print "w" (i % 97) "\t1" }' > kv.txt
LC_ALL=C sort -s -t$'\t' -k1,1 kv.txt > sorted.txt
# From a pipe the size is unknown, so the frame keeps its 1 GiB window.
zstd -q --long=30 -c < kv.txt > long.zst
zstd -q --long=30 -c < sorted.txt > sorted-long.zst
run_cmd out err zstd -dc long.zst
check_grep "the zstd program needs --long=30 for it too" 'long|memory|Window' err

grist-count kv.txt > want.txt
grist-count long.zst > out.txt
check_eq "count, default -S" want.txt out.txt
grist-count -S 1G long.zst > out.txt
check_eq "count -S 1G" want.txt out.txt
grist-tokenize kv.txt > tok-want.txt
grist-tokenize long.zst > out.txt
check_eq "tokenize (no -S)" tok-want.txt out.txt
grist-shuffle-sort long.zst > out.txt
check_eq "shuffle-sort" sorted.txt out.txt
grist-merge sorted-long.zst sorted.txt > out.txt
check_eq "merge" <(LC_ALL=C sort -m -s -t$'\t' -k1,1 sorted.txt sorted.txt) out.txt

for p in grist-count grist-shuffle-sort grist-merge; do
  in=long.zst; [ $p = grist-merge ] && in=sorted-long.zst
  run_cmd out err $p -S 200M -o res.txt $in
  check_status "$p -S 200M" 1 "$rc"
  check_grep "$p -S 200M: message" \
    "^$p: $in: zstd window of 1.0 GiB exceeds the memory budget of 200.0 MiB; raise -S to at least 1G$" err
  check_no_file "$p -S 200M: no output" res.txt
done
check_no_temps zstd_window "$WORK"
finish
