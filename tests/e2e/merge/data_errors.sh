#!/usr/bin/env bash
# Every data error of grist-merge names FILE:LINE: a --reduce sum value
# that is not an unsigned integer, a sum that overflows (across files,
# through intermediate runs, in partition directories: the record where
# the sum passes 2^64-1 and the key's first), a --numeric value that is not
# a finite number (the same error in either order). Exit 1, no output.
# --single without partition directories is a usage error.
. "$(dirname "$0")/../lib/common.sh"

expect() {  # NAME PATTERN ARGS...
  local name=$1 pattern=$2; shift 2
  rm -rf out
  run_cmd o.txt e.txt grist-merge -o out "$@"
  check_status "$name" 1 "$rc"
  check_grep "$name: message" "$pattern" e.txt
  check_no_file "$name: no output" out
}

printf 'a\t1\nb\tx\n' > bad.txt
expect "--reduce sum, a bad value" "^grist-merge: bad.txt:2: value is not an unsigned 64-bit integer: 'x'" \
  --reduce sum bad.txt
printf 'a\t18446744073709551615\nb\t1\n' > max.txt
printf 'a\t1\nc\t1\n' > one.txt
over="the sum of key 'a' overflows 64 bits \(its values from max.txt:1 to here add up to more than 18446744073709551615\)"
expect "overflow across files" "^grist-merge: one.txt:1: $over" --reduce sum max.txt one.txt
for i in 1 2 3 4 5; do printf 'b\t1\n' > b$i.txt; done
expect "overflow through intermediate runs (-S 1M: fan-in 2)" "^grist-merge: one.txt:1: $over" \
  -S 1M --reduce sum max.txt b1.txt b2.txt b3.txt b4.txt b5.txt one.txt
expect "overflow, stdin: the key" \
  "^grist-merge: \(stdin\): the sum of key 'a' overflows 64 bits \(its line is not known" \
  --reduce sum max.txt - < one.txt

# Partition directories: the part and its line.
grist-shuffle-sort -p 3 -o d1 max.txt
grist-shuffle-sort -p 3 -o d2 one.txt
p=$(for i in 0 1 2; do if zstd -dc d2/part-0000$i.zst | grep -q '^a'; then echo $i; fi; done)
expect "overflow in partition directories" \
  "^grist-merge: d2/part-0000$p.zst:1: the sum of key 'a' overflows 64 bits \(its values from d1/part-0000$p.zst:1 to here" \
  --reduce sum d1 d2
expect "overflow, --single" "^grist-merge: d2/part-0000$p.zst:1: the sum of key 'a'" --reduce sum --single d1 d2

for v in nan inf -inf infinity 1e999 1e-999 x ''; do
  for op in min max; do
    printf 'a\t1\n' > first.txt
    printf 'a\t%s\n' "$v" > second.txt
    expect "--reduce $op --numeric, '$v' second" \
      "^grist-merge: second.txt:1: value is not a finite decimal number: '$v'" --reduce $op --numeric first.txt second.txt
    expect "--reduce $op --numeric, '$v' first" \
      "^grist-merge: second.txt:1: value is not a finite decimal number: '$v'" --reduce $op --numeric second.txt first.txt
  done
done
printf 'a\t1e3\na\t-5\na\t2.5\n' > nums.txt
grist-merge --reduce min --numeric nums.txt > got.txt
printf 'a\t-5\n' > want.txt
check_eq "--numeric min" want.txt got.txt
grist-merge --reduce max --numeric nums.txt > got.txt
printf 'a\t1e3\n' > want.txt
check_eq "--numeric max" want.txt got.txt

run_cmd o.txt e.txt grist-merge --single one.txt
check_status "--single with files" 2 "$rc"
check_no_temps data_errors "$WORK"
finish
