#!/bin/bash
# Bad input never crashes: invalid UTF-8, missing and corrupt files, a
# closed stdout.
. "$(dirname "$0")/../lib/common.sh"

# Invalid UTF-8 bytes split tokens and are counted.
printf 'ab\377cd caf\303 x\300\257y \355\240\200z ok\n\200\n' >bad.txt
printf 'ab\ncd\ncaf\nx\ny\nz\nok\n' >want
run_cmd got err grist-tokenize -v bad.txt
check_status "invalid UTF-8" 0 "$rc"
check_eq "invalid UTF-8 splits tokens" want got
check_grep "invalid bytes in the summary" ' 8 invalid UTF-8 bytes' err
run_cmd got err grist-tokenize --lower --mode whitespace bad.txt
check_status "invalid UTF-8, whitespace mode" 0 "$rc"
head -c 300000 /dev/urandom >random.bin
run_cmd got err grist-tokenize -j2 --lower random.bin
check_status "random bytes" 0 "$rc"
run_cmd got err grist-tokenize --json-field text random.bin
check_status "random bytes as JSON" 0 "$rc"

# A missing input: exit 1, named.
run_cmd out err grist-tokenize bad.txt no-such-file.txt
check_status "missing input" 1 "$rc"
check_grep "names the missing file" '^grist-tokenize: .*no-such-file.txt' err
if [ -s out ]; then fail "output before the missing input failed"; else pass; fi
run_cmd out err grist-tokenize -o out.txt no-such-file.txt
check_no_file "no output on error" out.txt
check_no_temps "no temporaries" .

# A truncated zstd input is an error, never silently short.
seq 1 200000 | sed 's/^/word /' | zstd -q -c >full.zst
head -c 20000 full.zst >cut.zst
run_cmd out err grist-tokenize cut.zst
check_status "truncated zstd" 1 "$rc"
check_grep "names the truncated file" 'cut.zst' err

# A directory.
mkdir adir
run_cmd out err grist-tokenize adir
check_status "directory input" 1 "$rc"

# A closed stdout ends the program quietly, as it ends cat.
seq 1 300000 | sed 's/^/some words on a line /' >big.txt
set +e
grist-tokenize big.txt 2>err | head -1 >first
set -e
printf 'some\n' >want
check_eq "head -1" want first
if [ -s err ]; then fail "closed stdout printed: $(cat err)"; else pass; fi

finish
