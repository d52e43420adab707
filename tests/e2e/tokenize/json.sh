#!/bin/bash
# --json-field (nested paths, escapes, bad lines) and --column.
. "$(dirname "$0")/../lib/common.sh"

cat >in.jsonl <<'J'
{"id": 1, "meta": {"lang": "en", "body": "First line\nsecond \"quoted\" line"}, "text": "top"}
{"id": 2, "meta": {"body": "caf\u00e9 \u6771\u4eac \ud83d\ude00 end"}}

{"id": 3, "meta": {"title": "no body"}}
{"id": 4, "meta": {"body": 42}}
{"id": 5, "meta": {"body": "trunc
{"id": 6, "meta": {"body": "last one"}}
J

printf 'First\nline\nsecond\nquoted\nline\ncafé\n東京\nend\nlast\none\n' >want
run_cmd got err grist-tokenize --json-field meta.body in.jsonl
check_status "skip mode" 0 "$rc"
check_eq "nested field" want got
check_grep "warning counts the skipped" "^grist-tokenize: warning: skipped 3 of 7 records .*first: in.jsonl:4: missing field 'meta.body'" err

run_cmd got err grist-tokenize -q --json-field meta.body in.jsonl
check_eq "-q output" want got
if [ -s err ]; then fail "-q printed: $(cat err)"; else pass; fi

printf 'top\n' >want
run_cmd got err grist-tokenize --json-field text in.jsonl
check_eq "top-level field" want got
check_grep "5 skipped" "skipped 5 of 7" err

# --on-error fail: exit 1, FILE:LINE, no partial -o output, no temporaries.
run_cmd out err grist-tokenize --on-error fail --json-field meta.body -o out.txt in.jsonl
check_status "--on-error fail" 1 "$rc"
check_grep "fail message" "^grist-tokenize: in.jsonl:4: missing field 'meta.body'" err
check_no_file "no partial output" out.txt
check_no_temps "no temporaries" .
head -4 in.jsonl | sed 4d >ok.jsonl
sed -n 6p in.jsonl >bad.jsonl
run_cmd out err grist-tokenize --on-error fail --json-field meta.body ok.jsonl bad.jsonl
check_status "invalid JSON fails" 1 "$rc"
check_grep "invalid JSON message" "^grist-tokenize: bad.jsonl:1: invalid JSON" err
sed -n 5p in.jsonl >num.jsonl
run_cmd out err grist-tokenize --on-error fail --json-field meta.body num.jsonl
check_grep "non-string message" "num.jsonl:1: field 'meta.body' is a number, not a string" err

# JSON through zstd, many lines (several blocks), two threads.
for i in $(seq 1 20000); do echo "{\"text\": \"word$((i % 7)) and more\", \"n\": $i}"; done >many.jsonl
zstd -q many.jsonl
grist-tokenize -j2 --json-field text many.jsonl.zst >got
for i in $(seq 1 20000); do printf 'word%d\nand\nmore\n' $((i % 7)); done >want
check_eq "many JSON lines" want got

# --column N (1-based) of TSV lines.
printf 'id1\tHello there\tx\nid2\tGeneral Kenobi\nid3\n' >in.tsv
printf 'Hello\nthere\nGeneral\nKenobi\n' >want
run_cmd got err grist-tokenize --column 2 in.tsv
check_eq "--column 2" want got
check_grep "missing column warned" "in.tsv:3: missing column 2" err
run_cmd got err grist-tokenize --column 2 --on-error fail in.tsv
check_status "--column fail" 1 "$rc"
printf 'id1\nid2\nid3\n' >want
grist-tokenize --column 1 in.tsv >got
check_eq "--column 1" want got

finish
