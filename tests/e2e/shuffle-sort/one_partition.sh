#!/usr/bin/env bash
# -p 1 means a one-part partition directory for every program that writes
# them (grist-count, grist-shuffle-sort, and grist-merge of one-part
# directories), never a plain file; without -p the output is a file.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { srand(9); for (i = 0; i < 3000; i++) printf "k%d\t1\n", int(rand() * 500) }' > kv.txt
LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 kv.txt > sorted.txt

check_one_part_dir() {
  local name=$1 d=$2
  if [ -d "$d" ] && [ -f "$d/part-00000.zst" ] && [ -f "$d/_SUCCESS" ] && [ ! -e "$d/part-00001.zst" ]; then
    pass
  else
    fail "$name: $d is not a one-part partition directory: $(ls -ld "$d" 2>&1)"
  fi
  check_grep "$name: manifest" '"partitions": 1' "$d/_manifest.json"
}

grist-shuffle-sort -p 1 -o s.d kv.txt
check_one_part_dir "shuffle-sort -p 1" s.d
grist-merge --single s.d > got.txt
check_eq "shuffle-sort -p 1: the part" sorted.txt got.txt

grist-count -p 1 -o c.d kv.txt
check_one_part_dir "count -p 1" c.d
grist-count kv.txt > want.txt
grist-merge --single c.d > got.txt
check_eq "count -p 1: the part" want.txt got.txt

grist-merge --reduce sum -o m.d c.d c.d
check_one_part_dir "merge of one-part directories" m.d

grist-shuffle-sort -o s.txt kv.txt
[ -f s.txt ] && pass || fail "shuffle-sort without -p: not a file"
check_eq "shuffle-sort without -p" sorted.txt s.txt
finish
