#!/usr/bin/env bash
# grist-merge against sort -m (+ awk reductions); order checking; partition
# directories, incomplete or mismatched ones; a truncated part; SIGINT.
. "$(dirname "$0")/../lib/common.sh"

for i in 1 2 3 4 5; do
  awk -v s=$i 'BEGIN { srand(s); for (j = 0; j < 40000; j++) {
    k = (rand() < 0.1) ? "\303\251t\303\251" int(rand() * 50) : "w" int(rand() * 3000)
    if (rand() < 0.05) print k; else print k "\t" int(rand() * 100) } }' |
    sort -s -t$'\t' -k1,1 > in$i.txt
done
zstd -q in5.txt -o in5.txt.zst && rm in5.txt
sort -m -s -t$'\t' -k1,1 in1.txt in2.txt in3.txt in4.txt <(zstd -dc in5.txt.zst) > want.txt
grist-merge in1.txt in2.txt in3.txt in4.txt in5.txt.zst > out.txt
check_eq "plain merge" want.txt out.txt
grist-merge -S 1M in1.txt - in3.txt in4.txt in5.txt.zst < in2.txt > out.txt
check_eq "stdin, small -S" want.txt out.txt

# Reductions = sort -m then awk.
grep -P '\t' want.txt > kv.txt || true
for i in 1 2 3 4; do grep -P '\t' in$i.txt > kv$i.txt || true; done
awk -F'\t' 'NR > 1 && $1 != k { print k "\t" s; s = 0 } { k = $1; s += $2 } END { print k "\t" s }' kv.txt > sum.txt
grist-merge --reduce sum kv1.txt kv2.txt kv3.txt kv4.txt > out.txt
sort -m -s -t$'\t' -k1,1 kv1.txt kv2.txt kv3.txt kv4.txt |
  awk -F'\t' 'NR > 1 && $1 != k { print k "\t" s; s = 0 } { k = $1; s += $2 } END { print k "\t" s }' > sum.txt
check_eq "--reduce sum" sum.txt out.txt
sort -m -s -t$'\t' -k1,1 in1.txt in2.txt | awk -F'\t' '
  NR > 1 && $1 != k { print k "\t" n; n = 0 } { k = $1; n++ } END { print k "\t" n }' > count.txt
grist-merge --reduce count in1.txt in2.txt > out.txt
check_eq "--reduce count" count.txt out.txt
sort -m -s -t$'\t' -k1,1 in1.txt in2.txt | awk -F'\t' '$1 != k { print } { k = $1 }' > first.txt
grist-merge --reduce first in1.txt in2.txt > out.txt
check_eq "--reduce first" first.txt out.txt

# An unsorted input: file and line.
printf 'a\t1\nc\t1\nb\t1\n' > bad.txt
run_cmd o.txt e.txt grist-merge in1.txt bad.txt -o merged.txt
check_status "unsorted input" 1 "$rc"
check_grep "disorder message" "^grist-merge: bad.txt:3: disorder: 'b' after 'c'" e.txt
check_no_file "no output after an error" merged.txt
run_cmd o.txt e.txt grist-merge --reduce sum in1.txt
check_status "sum of an empty value" 1 "$rc"
check_grep "sum message" '^grist-merge: in1.txt:[0-9]+: value is not an unsigned' e.txt

# Partition directories.
for i in 1 2 3; do grist-shuffle-sort -S 1M -p 4 -o shard$i kv$i.txt; done
grist-merge --reduce sum -j2 shard1 shard2 shard3 -o total/
[ -e total/_SUCCESS ] && pass || fail "no total/_SUCCESS"
check_grep "manifest" '"tool": "grist-merge"' total/_manifest.json
for p in 0 1 2 3; do zstd -dc total/part-0000$p.zst; done | sort > got.txt
sort -m -s -t$'\t' -k1,1 kv1.txt kv2.txt kv3.txt |
  awk -F'\t' 'NR > 1 && $1 != k { print k "\t" s; s = 0 } { k = $1; s += $2 } END { print k "\t" s }' | sort > want3.txt
check_eq "directories merged" want3.txt got.txt
grist-merge --single shard1 shard2 shard3 > single.txt
sort -m -s -t$'\t' -k1,1 kv1.txt kv2.txt kv3.txt | sort -s -t$'\t' -k1,1 > want-single.txt
sort -s -t$'\t' -k1,1 single.txt | cmp -s - single.txt && pass || fail "--single not sorted"
sort single.txt | cmp -s - <(sort want-single.txt) && pass || fail "--single records differ"
run_cmd o.txt e.txt grist-merge shard1 shard2
check_status "directories without -o" 2 "$rc"
run_cmd o.txt e.txt grist-merge shard1 kv1.txt -o x.d
check_status "mixing files and directories" 2 "$rc"
grist-shuffle-sort -p 3 -o three kv1.txt
run_cmd o.txt e.txt grist-merge shard1 three -o x.d
check_status "different partition counts" 1 "$rc"
check_grep "count message" 'three: has 3 partitions but shard1 has 4' e.txt
check_no_file "no output directory" x.d
cp -r shard2 nosuccess && rm nosuccess/_SUCCESS
run_cmd o.txt e.txt grist-merge shard1 nosuccess -o x.d
check_status "no _SUCCESS" 1 "$rc"
check_grep "_SUCCESS message" 'nosuccess: no _SUCCESS' e.txt
cp -r shard2 trunc && f=trunc/part-00001.zst && head -c $(( $(stat -c %s $f) / 2 )) $f > t && mv t $f
run_cmd o.txt e.txt grist-merge shard1 trunc -o x.d
check_status "truncated part" 1 "$rc"
check_grep "truncated message" 'trunc/part-00001.zst' e.txt
check_no_file "no output directory after errors" x.d

# SIGINT/SIGTERM in the middle of a merge: stopped with the output partly
# written (lib/grist/io/test_hook.hpp), then signalled.
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "k%09d\t1\n", i }' > long.txt
for sig in INT TERM; do
  if stop_at output:2 grist-merge --reduce sum long.txt long.txt long.txt -o out.zst 2> err.txt; then
    kill_stopped "$sig"
    check_status "SIG$sig: killed by it" $((128 + $(kill -l "$sig"))) "$rc"
  else
    fail "SIG$sig: the run ended (exit status $rc) with less than 2 MiB written"
  fi
  check_no_file "SIG$sig: no output" out.zst
  check_no_temps "SIG$sig" "$WORK"
done
check_no_temps merge "$WORK"
finish
