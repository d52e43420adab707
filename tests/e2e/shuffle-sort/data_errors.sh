#!/usr/bin/env bash
# Every data error of grist-shuffle-sort names FILE:LINE: a bad --combine
# sum value, a sum that overflows (in memory, across spills, from a file or
# from standard input), a --numeric value that is not a finite number (nan,
# inf, 1e999, 1e-999: the same error in either order of the lines). Exit 1,
# no output. --check writes nothing: options about an output are usage
# errors with it; so is --seed without --random.
. "$(dirname "$0")/../lib/common.sh"

# expect NAME PATTERN ARGS...: exit 1, PATTERN on stderr, no output file.
expect() {
  local name=$1 pattern=$2; shift 2
  run_cmd o.txt e.txt grist-shuffle-sort -o out.txt "$@"
  check_status "$name" 1 "$rc"
  check_grep "$name: message" "$pattern" e.txt
  check_no_file "$name: no output" out.txt
}
# expect_stdin NAME PATTERN FILE ARGS...: the same, FILE on standard input.
expect_stdin() {
  local name=$1 pattern=$2 file=$3; shift 3
  run_cmd o.txt e.txt grist-shuffle-sort -o out.txt "$@" < "$file"
  check_status "$name" 1 "$rc"
  check_grep "$name: message" "$pattern" e.txt
  check_no_file "$name: no output" out.txt
}

printf 'a\t1\nb\tx\n' > bad.txt
expect "--combine sum, a bad value" "^grist-shuffle-sort: bad.txt:2: value is not an unsigned 64-bit integer: 'x'" \
  --combine sum bad.txt
expect_stdin "--combine sum, a bad value on stdin" "^grist-shuffle-sort: \(stdin\):2: value is not an unsigned" \
  bad.txt --combine sum
printf 'a\t1\nb\n' > notab.txt
expect "--combine sum, no value" "^grist-shuffle-sort: notab.txt:2: value is not an unsigned 64-bit integer: ''" \
  --combine sum notab.txt

# Overflow: named at the record where the sum passes 2^64-1, with the key's
# first record.
printf 'a\t18446744073709551615\nb\t1\n' > max.txt
printf 'c\t1\na\t1\n' > one.txt
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "k%06d\t1\n", i }' > many.txt
over="the sum of key 'a' overflows 64 bits \(its values from max.txt:1 to here"
expect "overflow, in memory" "^grist-shuffle-sort: one.txt:2: $over" --combine sum max.txt one.txt
expect "overflow, across spills" "^grist-shuffle-sort: one.txt:2: $over" \
  -S 1M --combine sum max.txt many.txt one.txt
cat max.txt one.txt > both.txt
expect_stdin "overflow on stdin, in memory" \
  "^grist-shuffle-sort: \(stdin\):4: the sum of key 'a' overflows 64 bits \(its values from \(stdin\):1 to here" \
  both.txt --combine sum
cat max.txt many.txt one.txt > spilled.txt
expect_stdin "overflow on stdin, across spills: the key" \
  "^grist-shuffle-sort: \(stdin\): the sum of key 'a' overflows 64 bits \(its line is not known" \
  spilled.txt -S 1M --combine sum
cat max.txt one.txt many.txt > early.txt
expect_stdin "overflow on stdin, within one spilled batch" \
  "^grist-shuffle-sort: \(stdin\):4: the sum of key 'a' overflows" early.txt -S 1M --combine sum

# --numeric: one rule, whatever the order of the lines.
for v in nan NaN inf -inf infinity 1e999 -1e999 1e-999 0x10 ' 1' ''; do
  for op in min max; do
    printf 'a\t1\na\t%s\n' "$v" > v1.txt
    printf 'a\t%s\na\t1\n' "$v" > v2.txt
    q=$(printf '%s' "$v" | sed 's/[+.]/\\&/g')
    expect "--combine $op --numeric, '$v' second" \
      "^grist-shuffle-sort: v1.txt:2: value is not a finite decimal number: '$q'" --combine $op --numeric v1.txt
    expect "--combine $op --numeric, '$v' first" \
      "^grist-shuffle-sort: v2.txt:1: value is not a finite decimal number: '$q'" --combine $op --numeric v2.txt
  done
done
printf 'a\t1e3\nb\t2\na\t-5\nb\t+2\na\t2.5e-300\nb\t.5e1\n' > nums.txt
grist-shuffle-sort --combine min --numeric nums.txt > got.txt
printf 'a\t-5\nb\t2\n' > want.txt
check_eq "--numeric min (first of equal values)" want.txt got.txt
grist-shuffle-sort --combine max --numeric nums.txt > got.txt
printf 'a\t1e3\nb\t.5e1\n' > want.txt
check_eq "--numeric max" want.txt got.txt

# --check writes nothing.
printf 'a\t1\nb\t2\n' > sorted.txt
for opt in "-o x.txt" "-o -" "-p 2" "--combine sum" "--zstd" "--level 3"; do
  # shellcheck disable=SC2086
  run_cmd o.txt e.txt grist-shuffle-sort --check $opt sorted.txt
  check_status "--check $opt" 2 "$rc"
  check_grep "--check $opt: message" "^grist-shuffle-sort: --check writes no output: " e.txt
done
check_no_file "--check -o: nothing written" x.txt
run_cmd o.txt e.txt grist-shuffle-sort --check --by line sorted.txt
check_status "--check --by line" 0 "$rc"
run_cmd o.txt e.txt grist-shuffle-sort --seed 3 sorted.txt
check_status "--seed without --random" 2 "$rc"
check_no_temps data_errors "$WORK"
finish
