#!/usr/bin/env bash
# Bytes from the input are escaped in every message (grist::escape_bytes):
# a CR, an ESC, a NUL or invalid UTF-8 in a value, a key, a label or a file
# name never reaches the terminal raw (a CR would rewrite the line, ESC
# starts a control sequence, NUL cut the message). A value that ends in CR
# gets a hint about CRLF files. Every program's data-error paths, failing
# and skipping.
. "$(dirname "$0")/../lib/common.sh"

# clean NAME: stderr holds nothing but printable ASCII and newlines (the
# messages here quote only ASCII and escaped bytes).
clean() {
  local raw
  raw=$(LC_ALL=C tr -d '\n\040-\176' < err.txt | wc -c)
  if [ "$raw" = 0 ]; then pass; else
    fail "$1: $raw raw byte(s) on stderr:"; od -c err.txt | head -5 >&2
  fi
}

# expect NAME STATUS PATTERN CMD...: exit STATUS, stderr matches PATTERN
# (grep -E), and is clean.
expect() {
  local name=$1 status=$2 pattern=$3; shift 3
  run_cmd out.txt err.txt "$@"
  check_status "$name" "$status" "$rc"
  check_grep "$name: message" "$pattern" err.txt
  clean "$name"
}

hint='CRLF line ends\? convert it with dos2unix'
printf 'a\t1\nb\t7\r\n' > cr.tsv
printf 'a\t1\nb\t\033[2Jx\n' > esc.tsv
printf 'a\t1\nb\tx\000y\n' > nul.tsv
printf 'a\t1\nb\t\377\376\n' > utf.tsv
printf 'b\t1\na\033]0;pwned\007\t1\n' > disorder.tsv
printf 'b\r\na\r\n' > disorder_cr.txt

# grist-count: a bad count, failing and skipped.
expect "count CR" 1 "^grist-count: cr.tsv:2: .*'7\\\\r' \\(a file with $hint" grist-count cr.tsv
expect "count ESC" 1 "^grist-count: esc.tsv:2: .*'\\\\x1b\\[2Jx'\$" grist-count esc.tsv
expect "count NUL" 1 "^grist-count: nul.tsv:2: .*'x\\\\x00y'\$" grist-count nul.tsv
expect "count UTF-8" 1 "^grist-count: utf.tsv:2: .*'\\\\xff\\\\xfe'\$" grist-count utf.tsv
expect "count skip CR" 0 "warning: skipped 1 bad line \\(first: cr.tsv:2: .*'7\\\\r'\\) \\(a file with $hint" \
  grist-count --on-error skip cr.tsv
expect "count skip ESC" 0 "warning: .*'\\\\x1b\\[2Jx'" grist-count --on-error skip esc.tsv

# grist-shuffle-sort: --combine sum, --numeric, --check.
expect "sort sum ESC" 1 "'\\\\x1b\\[2Jx'" grist-shuffle-sort --combine sum esc.tsv
expect "sort sum NUL" 1 "'x\\\\x00y'" grist-shuffle-sort --combine sum nul.tsv
expect "sort min numeric UTF-8" 1 "'\\\\xff\\\\xfe'" grist-shuffle-sort --combine min --numeric utf.tsv
expect "sort --check ESC" 1 "^grist-shuffle-sort: disorder.tsv:2: disorder: a\\\\x1b\\]0;pwned\\\\x07\\\\t1\$" \
  grist-shuffle-sort --check disorder.tsv
expect "sort --check CR" 1 "disorder_cr.txt:2: disorder: a\\\\r \\(a file with $hint" \
  grist-shuffle-sort --check disorder_cr.txt

# grist-merge: disorder, --reduce sum.
expect "merge disorder ESC" 1 "disorder.tsv:2: disorder: 'a\\\\x1b\\]0;pwned\\\\x07' after 'b'" \
  grist-merge disorder.tsv
expect "merge disorder CR" 1 "disorder: 'a\\\\r' after 'b\\\\r'.*\\(a file with $hint" \
  grist-merge disorder_cr.txt
expect "merge sum CR" 1 "'7\\\\r'.*\\(a file with $hint" grist-merge --reduce sum cr.tsv
expect "merge sum UTF-8" 1 "'\\\\xff\\\\xfe'" grist-merge --reduce sum utf.tsv

# grist-tokenize: a file name with control bytes, a record without text.
expect "tokenize file name" 1 "^grist-tokenize: x\\\\x1b\\[31m\\\\r.txt: " grist-tokenize $'x\e[31m\r.txt'
printf '{"t":"a"}\n{"u":"\033[2J"}\n' > j.json
expect "tokenize JSON" 1 "^grist-tokenize: j.json:2: " \
  grist-tokenize --json-field t --on-error fail j.json

# grist-train-sgd and grist-predict: labels and values.
printf '1 1:1\n\033[31m 1:2\n' > label.svm
printf '1 1:1\n1 1:x\000y\n' > value.svm
printf '1 1:1\n1 1:\377\n' > utf.svm
printf '1 1:1\n-1 1:2\n' > good.svm
grist-train-sgd -q good.svm -f m.gsgd
for f in label value utf; do
  expect "train $f" 1 "^grist-train-sgd: $f.svm:2: " grist-train-sgd -q $f.svm -f x.gsgd
  expect "predict $f" 1 "^grist-predict: $f.svm:2: " grist-predict -i m.gsgd $f.svm
  expect "predict skip $f" 0 "warning: .*first: $f.svm:2: " grist-predict --on-error skip -i m.gsgd $f.svm
done
check_grep "train label escaped" "'\\\\x1b\\[31m'" <(grist-train-sgd -q label.svm -f x.gsgd 2>&1 || true)
check_grep "predict value escaped" "'1:x\\\\x00y'" <(grist-predict -i m.gsgd value.svm 2>&1 >/dev/null || true)
finish
