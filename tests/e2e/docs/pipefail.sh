#!/usr/bin/env bash
# Every documented pipeline that writes a file runs under pipefail: a
# pipeline's status is its last program's, so without it a failed producer
# (grist-tokenize on a truncated file) lets grist-count commit a partial
# result with exit 0 (README, "Pipelines"). Checked in the code blocks of
# README.md and docs/*.md, the EXAMPLES and NOTES of man/*.1, the scripts
# of contrib/ and scripts/demo.sh: a command line with a pipe and a file
# output (-o, --output, -f, > FILE) must follow a `set ... pipefail` in the
# same block (script). examples/Makefile must run its recipes under
# SHELL := /bin/bash and .SHELLFLAGS := -o pipefail. And a Hadoop Streaming
# mapper that is grist-tokenize has --pairs (else Hadoop hands the reducer
# "key<TAB>" and every reduce task fails).
. "$(dirname "$0")/../lib/common.sh"
cd "$GRIST_SRC"

# A logical command line (continuations joined) that pipes and writes a
# file; $0 is the line. Used by every awk program below.
COMMON='
function writes_through_pipe(l,   t) {
  t = l
  gsub(/\|\|/, " ", t)                  # "a || b" is not a pipe
  if (t !~ /\|/) return 0
  if (t !~ /grist-/) return 0
  return t ~ /(^|[ \t])(-o|--output|-f)([ \t=]|$)/ || t ~ /[^0-9&>]>[ \t]*[^ \t&>]/
}
function bad_mapper(l) {
  return l ~ /-mapper[ \t]+.?grist-tokenize/ && l !~ /--pairs/
}
'

# Markdown: indented (4 spaces) or fenced code blocks.
lint_markdown() {
  awk "$COMMON"'
    function flush_block() { pipefail = 0; cont = "" }
    /^```/ { fenced = !fenced; flush_block(); next }
    {
      code = fenced || /^(    |\t)/
      if (!code) { if ($0 !~ /^[ \t]*$/) flush_block(); next }
      line = cont $0
      if (line ~ /(\\|\|)[ \t]*$/) { sub(/\\[ \t]*$/, "", line); cont = line " "; next }
      cont = ""
      if (line ~ /set[ \t].*pipefail/) pipefail = 1
      if (writes_through_pipe(line) && !pipefail)
        printf "%s:%d: a pipeline writing a file without set -o pipefail before it: %s\n", FILENAME, FNR, line
      if (bad_mapper(line))
        printf "%s:%d: a Hadoop mapper grist-tokenize without --pairs: %s\n", FILENAME, FNR, line
    }' "$1"
}

# Man pages: the .nf ... .fi blocks of "$ " lines.
lint_man() {
  awk "$COMMON"'
    /^\.nf/ { inblock = 1; pipefail = 0; next }
    /^\.fi/ { inblock = 0; next }
    inblock && /^\$ / {
      line = $0
      gsub(/\\-/, "-", line); gsub(/\\&/, "", line); gsub(/\\e/, "\\", line)
      if (line ~ /set[ \t].*pipefail/) pipefail = 1
      if (writes_through_pipe(line) && !pipefail)
        printf "%s:%d: an example pipeline writing a file without set -o pipefail before it: %s\n", FILENAME, FNR, line
      if (bad_mapper(line))
        printf "%s:%d: a Hadoop mapper grist-tokenize without --pairs: %s\n", FILENAME, FNR, line
    }' "$1"
}

# Shell scripts: a `set ... pipefail` line before any such pipeline.
lint_script() {
  awk "$COMMON"'
    /^[ \t]*#/ { next }
    {
      line = cont $0
      if (line ~ /(\\|\|)[ \t]*$/) { sub(/\\[ \t]*$/, "", line); cont = line " "; next }
      cont = ""
      if (line ~ /^[ \t]*set[ \t].*pipefail/) pipefail = 1
      if (writes_through_pipe(line) && !pipefail)
        printf "%s:%d: a pipeline writing a file before set -o pipefail: %s\n", FILENAME, FNR, line
    }' "$1"
}

problems=$WORK/problems.txt
: >"$problems"
n=0
for f in README.md docs/*.md; do lint_markdown "$f" >>"$problems"; n=$((n + 1)); done
for f in man/*.1; do lint_man "$f" >>"$problems"; n=$((n + 1)); done
for f in contrib/slurm/* scripts/demo.sh; do lint_script "$f" >>"$problems"; n=$((n + 1)); done
if grep -q '|' <(grep -E '^	' examples/Makefile); then
  grep -Eq '^SHELL[ \t]*:?=[ \t]*/bin/bash' examples/Makefile ||
    echo "examples/Makefile: recipes pipe but SHELL is not /bin/bash" >>"$problems"
  grep -Eq '^\.SHELLFLAGS[ \t]*:?=.*-o pipefail' examples/Makefile ||
    echo "examples/Makefile: recipes pipe but .SHELLFLAGS has no -o pipefail" >>"$problems"
fi
n=$((n + 1))
if [ -s "$problems" ]; then
  fail "$(wc -l <"$problems") pipeline(s) without pipefail or mappers without --pairs:"
  cat "$problems" >&2
else
  pass
fi
# The lint finds what it looks for: one bad example of each kind.
printf '    grist-tokenize a.gz | grist-count -o c.tsv\n' >"$WORK/bad.md"
printf '    set -o pipefail\n    grist-tokenize a.gz | grist-count -o c.tsv\n' >"$WORK/good.md"
printf '    hadoop jar h.jar -mapper grist-tokenize -reducer grist-count\n' >"$WORK/mapper.md"
[ -n "$(lint_markdown "$WORK/bad.md")" ] && pass || fail "the lint misses a pipeline without pipefail"
[ -z "$(lint_markdown "$WORK/good.md")" ] && pass || fail "the lint flags a pipeline under pipefail"
[ -n "$(lint_markdown "$WORK/mapper.md")" ] && pass || fail "the lint misses a mapper without --pairs"
printf '.nf\n$ grist\\-tokenize a | grist\\-count \\-o c\n.fi\n' >"$WORK/bad.1"
[ -n "$(lint_man "$WORK/bad.1")" ] && pass || fail "the lint misses a man page pipeline"
echo "$n files checked"
finish
