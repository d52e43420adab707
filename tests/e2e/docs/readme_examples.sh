#!/usr/bin/env bash
# The README's pipelines, run as written (extracted from README.md):
#   - the word count of books.txt.gz: with a truncated books.txt.gz the
#     pipeline fails (pipefail) and the previous counts.tsv.zst is kept;
#     with a good one it writes the counts a single grist-count run gives;
#   - the MapReduce script: on a truncated day file it stops there (exit
#     1, the message names the file), keeps the shards made before it,
#     removes that file's partial shard and makes nothing after it; on good
#     data it runs to the end (totals/, a model, predictions).
. "$(dirname "$0")/../lib/common.sh"

# block FIRST_LINE: the README code block whose first line is FIRST_LINE,
# unindented.
block() {
  awk -v first="    $1" '
    !on && $0 == first { on = 1 }
    on && /^$/ { exit }
    on { print substr($0, 5) }' "$GRIST_SRC/README.md"
}
block 'set -o pipefail' | grep -v -- '--json-field' >wordcount.sh
block '#!/bin/bash' >mapreduce.sh
[ -s wordcount.sh ] && [ -s mapreduce.sh ] && pass || fail "README blocks not found"

words() {  # SEED LINES
  awk -v seed="$1" -v n="$2" 'BEGIN { srand(seed)
    for (i = 0; i < n; i++) { l = ""; for (k = 0; k < 8; k++) l = l (k ? " " : "") "w" int(rand() * rand() * 500); print l } }'
}

# ---- 1. the word count
words 1 20000 | gzip -c >good.gz
head -c $(($(stat -c %s good.gz) / 2)) good.gz >books.txt.gz
echo "previous counts" >counts.tsv.zst
run_cmd out.txt err.txt bash wordcount.sh
check_status "truncated books.txt.gz: the pipeline fails" 1 "$rc"
check_grep "the cause named" 'grist-tokenize: books\.txt\.gz' err.txt
check_status "the previous counts kept" "previous counts" "$(cat counts.tsv.zst)"
cp good.gz books.txt.gz
run_cmd out.txt err.txt bash wordcount.sh
check_status "good books.txt.gz" 0 "$rc"
grist-tokenize good.gz | grist-count >want.tsv
grist-count counts.tsv.zst >got.tsv
check_eq "the counts" want.tsv got.tsv

# ---- 2. the MapReduce script
mkdir mr && cd mr
for d in 1 2 3; do
  words $((d + 10)) 3000 | awk '{ printf "{\"text\": \"%s\"}\n", $0 }' | zstd -q -o "day-$d.jsonl.zst"
done
awk 'BEGIN { srand(5); for (i = 0; i < 2000; i++) { y = rand() < 0.5; print (y ? "1" : "-1") "\t" (y ? "good fine" : "bad poor") " w" int(rand() * 50) } }' |
  zstd -q -o train.tsv.zst
cp train.tsv.zst test.tsv.zst
mv day-2.jsonl.zst full-2.zst
head -c $(($(stat -c %s full-2.zst) / 2)) full-2.zst >day-2.jsonl.zst
run_cmd out.txt err.txt bash ../mapreduce.sh
check_status "a truncated day: the script fails" 1 "$rc"
check_grep "the failed file named" '^day-2\.jsonl\.zst: failed' err.txt
check_grep "the cause named" 'grist-tokenize: day-2\.jsonl\.zst' err.txt
[ -f shards/day-1/_SUCCESS ] && pass || fail "the shard made before the failure is gone"
check_no_file "no partial shard of the failed day" shards/day-2
check_no_file "nothing after the failed day" shards/day-3
check_no_file "no totals" totals
check_no_file "no model" model.gsgd
mv full-2.zst day-2.jsonl.zst
rm -rf shards
run_cmd out.txt err.txt bash ../mapreduce.sh
check_status "good days: the script succeeds" 0 "$rc"
[ $rc -eq 0 ] || cat err.txt >&2
[ -f totals/_SUCCESS ] && pass || fail "no totals/_SUCCESS"
zstd -dc day-*.jsonl.zst | grist-tokenize --json-field text | grist-count >want.tsv
grist-merge --single totals >got.tsv
check_eq "totals: the word count of all days" want.tsv got.tsv
[ -s model.gsgd ] && pass || fail "no model"
check_status "one prediction per test line" 2000 "$(wc -l <preds.txt)"
cd ..
finish
