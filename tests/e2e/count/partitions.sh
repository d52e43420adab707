#!/usr/bin/env bash
# -p N -o DIR: a partition directory; every key in exactly one sorted part.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(6); for (i = 0; i < 200000; i++) print "p" int(rand() * 30000) }' > in.txt
grist-count in.txt > plain.txt
grist-count -S 1M -p 7 -o out.d in.txt
check_status "exit" 0 $?
for f in _SUCCESS _manifest.json part-00000.zst part-00006.zst; do
  [ -e "out.d/$f" ] && pass || fail "out.d/$f missing"
done
check_no_file "no extra part" out.d/part-00007.zst
check_grep "manifest tool" '"tool": "grist-count"' out.d/_manifest.json
check_grep "manifest hash" '"hash": "xxh3_64 seed 0 mod N"' out.d/_manifest.json
check_grep "manifest partitions" '"partitions": 7' out.d/_manifest.json
: > union.txt
total=0
for part in out.d/part-*.zst; do
  zstd -dc "$part" > part.txt
  sort -c part.txt 2>/dev/null && pass || fail "$part is not sorted"
  n=$(wc -l < part.txt)
  grep -q "\"file\": \"$(basename "$part")\", \"records\": $n," out.d/_manifest.json \
    && pass || fail "$part: manifest records differ from $n"
  total=$((total + n))
  cat part.txt >> union.txt
done
sort union.txt > union-sorted.txt
check_eq "union of parts equals plain output" plain.txt union-sorted.txt
[ "$(wc -l < plain.txt)" -eq "$total" ] && pass || fail "records: $total"
# The same directory again: refused, as Hadoop does.
run_cmd o.txt e.txt grist-count -p 7 -o out.d in.txt
check_status "existing directory" 1 "$rc"
check_grep "message" 'out.d: .*not empty' e.txt
# Without -o: a usage error.
run_cmd o.txt e.txt grist-count -p 3 in.txt
check_status "no -o" 2 "$rc"
# The same keys land in the same parts whatever -S and -j.
grist-count -j1 -p 7 -o out2.d in.txt
for i in 0 3 6; do
  cmp -s <(zstd -dc out.d/part-0000$i.zst) <(zstd -dc out2.d/part-0000$i.zst) && pass \
    || fail "part $i differs across -S/-j"
done
check_no_temps partitions "$WORK"
finish
