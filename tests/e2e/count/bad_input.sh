#!/usr/bin/env bash
# Bad inputs: exit 1, a message naming the file (and line), no output file,
# no temporary files.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 200000; i++) print "b" (i % 5000) }' > good.txt
zstd -q -c good.txt > good.zst
head -c $(( $(wc -c < good.zst) / 2 )) good.zst > truncated.zst
gzip -c good.txt > good.gz
# Flip bytes in the middle of the deflate stream.
python3 - <<'PY'
data = bytearray(open("good.gz", "rb").read())
for i in range(len(data) // 2, len(data) // 2 + 16):
    data[i] ^= 0x5a
open("corrupt.gz", "wb").write(data)
PY
printf 'a\nb\t2\nc\tfive\n' > nonnumeric.txt
printf 'x\t18446744073709551615\nx\t1\n' > overflow.txt
printf 'x\t18446744073709551616\n' > toolarge.txt
awk 'BEGIN { for (i = 0; i < 300000; i++) print "distinct" i }' > many.txt

expect_error() {  # NAME PATTERN ARGS...
  local name=$1 pattern=$2; shift 2
  run_cmd out.txt err.txt grist-count -o result.txt "$@"
  check_status "$name: exit" 1 "$rc"
  check_grep "$name: message" "$pattern" err.txt
  check_no_file "$name: no output" result.txt
  check_no_temps "$name" "$WORK"
}

expect_error "truncated zstd" '^grist-count: truncated.zst: ' truncated.zst
expect_error "corrupt gzip" '^grist-count: corrupt.gz: ' corrupt.gz
expect_error "non-numeric count" '^grist-count: nonnumeric.txt:3: .*five' nonnumeric.txt
expect_error "overflowing sum" '^grist-count: overflow.txt:2: .*overflows' overflow.txt
expect_error "count above 2^64-1" '^grist-count: toolarge.txt:1: ' toolarge.txt
expect_error "missing file" '^grist-count: missing.txt: ' good.txt missing.txt
expect_error "overflow across spills" 'overflows' -S 1M overflow.txt good.txt overflow.txt
# A key's count split over spills and tables: the overflow is found while
# merging them, and named by reading the inputs again.
printf 'x\t18446744073709551615\n' > max.txt
printf 'y\nx\n' > one.txt
for j in 1 2; do
  expect_error "overflow found in the merge, -j$j" \
    "^grist-count: one.txt:2: the count of key 'x' overflows 64 bits \(its values from max.txt:1 to here" \
    -j$j -S 1M max.txt many.txt one.txt
done

# Unwritable output directory. (As root, chmod stops nothing: there
# faults/output_dir.sh checks a read-only tmpfs instead.)
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
  run_cmd out.txt err.txt grist-count -o ro/counts.txt good.txt
  check_status "unwritable dir: exit" 1 "$rc"
  check_grep "unwritable dir: message" '^grist-count: ro/counts.txt: ' err.txt
fi
run_cmd out.txt err.txt grist-count -o no/such/dir/counts.txt good.txt
check_status "missing dir: exit" 1 "$rc"
check_grep "missing dir: message" '^grist-count: no/such/dir/counts.txt: ' err.txt
run_cmd out.txt err.txt grist-count -T no/such/dir -S 1M -o result.txt many.txt
check_status "bad temp dir: exit" 1 "$rc"
check_grep "bad temp dir: message" '^grist-count: no/such/dir' err.txt
check_no_file "bad temp dir: no output" result.txt

# --on-error skip: a counted warning.
run_cmd out.txt err.txt grist-count --on-error skip nonnumeric.txt
check_status "skip: exit" 0 "$rc"
printf 'a\t1\nb\t2\n' > want.txt
check_eq "skip: output" want.txt out.txt
check_grep "skip: warning" 'warning: skipped 1 bad line .*nonnumeric.txt:3' err.txt
check_no_temps bad_input "$WORK"
finish
