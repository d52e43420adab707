#!/usr/bin/env bash
# --level: the help text and the check come from one table of codecs. For
# every program with --level, a level no codec has, a level outside the
# range of the output's codec, and a level for an uncompressed output are
# usage errors (exit 2) naming the range, before any output or temporary
# file is made; every level in the range is taken.
. "$(dirname "$0")/../lib/common.sh"

ranges='zstd 1-22, gzip 1-9, bzip2 1-9, xz 0-9'
printf 'b\t1\na\t2\n' > kv.txt
printf 'a\t2\nb\t1\n' > sorted.txt
printf '1 1:1 2:1\n-1 3:1\n' > t.svm
grist-train-sgd -q -b 8 -f model.bin t.svm
mkdir out

# run_prog PROG ARGS...: PROG on its kind of input, the extra ARGS first.
run_prog() {
  local p=$1; shift
  case $p in
    grist-predict) run_cmd o.txt e.txt $p -i model.bin "$@" t.svm ;;
    grist-merge) run_cmd o.txt e.txt $p "$@" sorted.txt ;;
    *) run_cmd o.txt e.txt $p "$@" kv.txt ;;
  esac
}

# check_usage NAME PATTERN: exit 2, PATTERN in the message, no output made.
check_usage() {
  check_status "$1" 2 "$rc"
  check_grep "$1: message" "$2" e.txt
  if [ -z "$(ls -A out)" ]; then pass; else fail "$1: left $(ls -A out)"; fi
}

for p in grist-tokenize grist-count grist-shuffle-sort grist-merge grist-predict; do
  $p --help > help.txt
  check_grep "$p --help shows every codec's range" "--level N +Level \($ranges\)" help.txt
  for bad in -1 23 abc; do
    run_prog $p --level $bad -o out/x.zst
    check_usage "$p --level $bad" "invalid argument '$bad' for '--level': $bad is not a (level of any codec|whole number)"
  done
  run_prog $p --level 23 -o out/x.zst
  check_grep "$p --level 23 lists the ranges" "$ranges" e.txt
  for case in "gz 10 gzip 1-9" "bz2 0 bzip2 1-9" "xz 10 xz 0-9" "zst 0 zstd 1-22"; do
    set -- $case
    run_prog $p --level $2 -o out/x.$1
    check_usage "$p --level $2 -o x.$1" "--level $2: $3, the codec of out/x.$1, takes levels $4\$"
  done
  run_prog $p --level 0 --zstd -o out/x.txt
  check_usage "$p --zstd --level 0" "zstd, the codec of out/x.txt, takes levels 1-22"
  run_prog $p --level 5 -o out/x.txt
  check_usage "$p --level 5 -o plain" "out/x.txt is not compressed"
  run_prog $p --level 5
  check_usage "$p --level 5 to stdout" "\(stdout\) is not compressed"
  # (Both ends of every range: tests/unit/test_codecs.cpp; xz 9 and zstd 22
  # take hundreds of MiB to set up.)
  for ok in "xz 0" "bz2 9" "gz 1" "zst 1"; do
    set -- $ok
    run_prog $p --level $2 -o out/x.$1
    check_status "$p --level $2 -o x.$1" 0 "$rc"
    rm -f out/x.$1
  done
done
# A partition directory's parts are zstd: the level is checked against zstd
# before any work.
run_cmd o.txt e.txt grist-count -p 2 --level 0 -o out/parts kv.txt
check_usage "count -p --level 0" "zstd, the codec of the parts of out/parts, takes levels 1-22"
run_cmd o.txt e.txt grist-shuffle-sort -p 2 --level 0 -o out/parts kv.txt
check_usage "shuffle-sort -p --level 0" "zstd, the codec of the parts of out/parts, takes"
check_no_temps levels "$WORK"
finish
