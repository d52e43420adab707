#!/usr/bin/env bash
# Every program checks its inputs and its spill directory before any work:
#   - a missing input anywhere in the list fails (exit 1, "FILE: cannot
#     open: REASON") before the first input is read: the first input here is
#     a FIFO nobody writes to, so a program that started reading would hang
#     (a 20 s watchdog turns that into a failure);
#   - so do a directory where a file is expected, a missing model, stopword
#     list or partition directory;
#   - -T (or $TMPDIR) that is missing, a file or read-only fails (exit 1,
#     "DIR: cannot create temporary file: REASON") even when nothing would
#     have spilled;
#   - standard input is always fine.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

printf 'a\t1\nc\t2\n' > kv.txt
printf '1 1:1\n-1 2:1\n' > train.svm
grist-train-sgd -q -f model.bin train.svm
grist-count -p 2 -o d1 kv.txt
mkfifo idle.fifo  # no writer: reading it would wait for ever
mkdir adir

# check_before_work NAME PATTERN CMD...: exit 1 at once, one line naming it.
check_before_work() {
  local name=$1 pat=$2; shift 2
  set +e
  timeout 20 "$@" > o.txt 2> e.txt
  rc=$?
  set -e
  check_failed "$name" "$rc" e.txt "$pat"
  [ "$(wc -l < e.txt)" = 1 ] && pass || fail "$name: work before the error: $(head -3 e.txt)"
  [ -s o.txt ] && fail "$name: output written" || pass
}

for p in "count|grist-count" "shuffle-sort|grist-shuffle-sort" "shuffle-sort --random|grist-shuffle-sort --random" \
         "shuffle-sort --check|grist-shuffle-sort --check" "merge|grist-merge" "tokenize|grist-tokenize" \
         "train-sgd|grist-train-sgd -f m.bin" "predict|grist-predict -i model.bin"; do
  IFS='|' read -r name cmd <<< "$p"
  # shellcheck disable=SC2086
  check_before_work "$name: the second input missing" "missing.txt: cannot open: No such file or directory" \
    $cmd idle.fifo missing.txt
  check_no_file "$name: no model" m.bin
  if [ "$name" != merge ]; then
    # shellcheck disable=SC2086
    check_before_work "$name: a directory as input" "adir: is a directory" $cmd idle.fifo adir
  fi
  if [ "$(id -u)" != 0 ]; then
    printf 'x\n' > unreadable.txt; chmod 000 unreadable.txt
    # shellcheck disable=SC2086
    check_before_work "$name: an unreadable input" "unreadable.txt: cannot open: Permission denied" \
      $cmd idle.fifo unreadable.txt
  fi
done
check_before_work "merge: a partition directory missing" "missing.d: cannot open: No such file or directory" \
  grist-merge -o out.d d1 missing.d
check_before_work "predict: the model missing" "missing.bin: cannot open" grist-predict -i missing.bin idle.fifo
check_before_work "train-sgd: -i missing" "missing.bin: cannot open" grist-train-sgd -i missing.bin -f m.bin idle.fifo
check_before_work "tokenize: --stopwords missing" "missing.txt: cannot open" grist-tokenize --stopwords missing.txt idle.fifo

# The spill directory, whether the run would spill or not.
printf 'a file\n' > afile
ro=
if mount_tmpfs rodir 1M ro; then ro=rodir; fi
for p in "count|grist-count" "shuffle-sort|grist-shuffle-sort" "shuffle-sort --random|grist-shuffle-sort --random" \
         "merge|grist-merge" "train-sgd --passes 2|grist-train-sgd --passes 2 -f m.bin"; do
  IFS='|' read -r name cmd <<< "$p"
  # shellcheck disable=SC2086
  check_before_work "$name -T missing" "/nonexistent: cannot create temporary file: No such file or directory" \
    $cmd -T /nonexistent idle.fifo
  # shellcheck disable=SC2086
  check_before_work "$name -T a file" "afile: cannot create temporary file: Not a directory" \
    $cmd -T afile idle.fifo
  if [ -n "$ro" ]; then
    # shellcheck disable=SC2086
    check_before_work "$name -T read-only" "rodir: cannot create temporary file: Read-only file system" \
      $cmd -T rodir idle.fifo
  fi
  # shellcheck disable=SC2086
  check_before_work "$name TMPDIR missing" "/nonexistent: cannot create temporary file" \
    env TMPDIR=/nonexistent $cmd idle.fifo
  check_no_file "$name: no model" m.bin
done
# The issue's example, exactly.
set +e
echo a | grist-count -T /nonexistent > o.txt 2> e.txt
rc=$?
set -e
check_failed "echo a | grist-count -T /nonexistent" "$rc" e.txt "/nonexistent: cannot create temporary file"

# Standard input, and a -T that works, are fine; train-sgd in one pass
# needs no -T (it has no cache), unless -T is given.
echo a | grist-count -T "$TMPDIR" - > o.txt
printf 'a\t1\n' > want.txt
check_eq "stdin is fine" want.txt o.txt
run_cmd o.txt e.txt env TMPDIR=/nonexistent grist-train-sgd -q -f m.bin train.svm
check_status "train-sgd, one pass: TMPDIR unused" 0 "$rc"
check_before_work "train-sgd, one pass, -T given" "/nonexistent: cannot create temporary file" \
  grist-train-sgd -q -T /nonexistent -f m2.bin idle.fifo
finish
