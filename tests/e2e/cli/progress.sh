#!/usr/bin/env bash
# --progress (grist::cli::Progress):
#   - on a non-terminal: plain lines (no CR, no escape codes), each starting
#     with the program's name and the phase, every GRIST_PROGRESS_INTERVAL
#     seconds (5 by default), and a "PHASE done" line;
#   - the merge of spilled runs is a phase of its own ("merging N runs");
#   - without --progress, nothing on a non-terminal;
#   - on a terminal (a pty made by script(1)), two programs of one pipeline
#     never draw over each other: one draws at a time, each line names it.
. "$(dirname "$0")/../lib/common.sh"

# plain NAME: stderr has no CR and no ESC.
plain() {
  if LC_ALL=C grep -q "$(printf '[\r\033]')" err.txt; then
    fail "$1: CR or ESC on a non-terminal:"; od -c err.txt | head -5 >&2
  else
    pass
  fi
}

# A slow producer: 12 pieces 0.1 s apart.
slow() { for i in $(seq 12); do seq 1 2000; sleep 0.1; done; }

export GRIST_PROGRESS_INTERVAL=0.2
slow | grist-count --progress -o counts.tsv 2>err.txt
plain "count, slow input"
n=$(grep -c '^grist-count: reading ' err.txt || true)
if [ "$n" -ge 3 ]; then pass; else fail "count: $n progress lines in 1.2 s at 0.2 s"; cat err.txt >&2; fi
check_grep "count: done line" '^grist-count: reading done: [0-9.]+ [KMG]?i?B in [0-9.]+ s$' err.txt
if grep -v '^grist-count: ' err.txt | grep -q .; then fail "count: a line without the program name"; else pass; fi

# The merge phase: many distinct keys in a small budget spill runs.
awk 'BEGIN { for (i = 0; i < 200000; i++) print "key" (i * 7919 % 200003) }' > keys.txt
run_cmd out.txt err.txt grist-count --progress -S 1M keys.txt
check_status "count spilling" 0 "$rc"
plain "count, merge phase"
check_grep "count: merge phase" '^grist-count: merging [0-9]+ runs done: ' err.txt
run_cmd sorted.txt err.txt grist-shuffle-sort --progress -S 1M keys.txt
check_status "shuffle-sort spilling" 0 "$rc"
plain "shuffle-sort"
check_grep "shuffle-sort: reading phase" '^grist-shuffle-sort: reading done: ' err.txt
check_grep "shuffle-sort: merge phase" '^grist-shuffle-sort: merging [0-9]+ runs done: ' err.txt
run_cmd out.txt err.txt grist-merge --progress sorted.txt sorted.txt
check_status "merge" 0 "$rc"
plain "merge"
check_grep "merge: phase" '^grist-merge: merging 2 inputs done: ' err.txt
run_cmd out.txt err.txt grist-tokenize --progress keys.txt
plain "tokenize"
check_grep "tokenize: phase" '^grist-tokenize: reading done: ' err.txt
awk '{ print (NR % 2 ? 1 : -1), "1:" NR % 7, "2:1" }' keys.txt > ex.svm
grist-train-sgd -q ex.svm -f ex.gsgd
run_cmd out.txt err.txt grist-predict --progress -i ex.gsgd ex.svm
check_status "predict --progress" 0 "$rc"
check_grep "predict: phase" '^grist-predict: reading done: [0-9.]+ [KMG]?i?B in [0-9.]+ s$' err.txt
check_eq "predict: the same predictions" out.txt <(grist-predict -i ex.gsgd ex.svm)

# Without --progress a non-terminal gets none.
run_cmd out.txt err.txt grist-count -S 1M keys.txt
if [ -s err.txt ]; then fail "progress without --progress:"; head -3 err.txt >&2; else pass; fi

# A terminal shared by two programs of a pipeline.
if script -qec true /dev/null </dev/null >/dev/null 2>&1; then
  # shellcheck disable=SC2016
  script -qec 'sh -c "for i in \$(seq 12); do seq 1 2000; sleep 0.1; done |
    grist-tokenize --progress | grist-count --progress -o tty-counts.tsv"' tty.log \
    </dev/null >/dev/null
  # The drawn lines, in order: split at CR, drop the clear-line codes.
  LC_ALL=C tr '\r' '\n' < tty.log | LC_ALL=C sed 's/\x1b\[K//g' | grep -v '^$' |
    grep -v '^Script ' > drawn.txt || true
  if [ "$(wc -l < drawn.txt)" -ge 3 ]; then pass; else
    fail "terminal: fewer than 3 progress lines drawn"; od -c tty.log | head >&2
  fi
  if grep -vE '^grist-(tokenize|count): (reading|merging)' drawn.txt | grep -q .; then
    fail "terminal: a line not starting with a program name and phase (drawn over?):"
    grep -vE '^grist-(tokenize|count): ' drawn.txt | head -3 >&2
  else
    pass
  fi
  # One program draws at a time: the owner of the line changes at most
  # once (the first to take the terminal, then the other if it outlives it).
  switches=$(cut -d: -f1 drawn.txt | uniq | wc -l)
  if [ "$switches" -le 2 ]; then pass; else
    fail "terminal: the two programs took turns $switches times:"; head -20 drawn.txt >&2
  fi
  check_eq "terminal: counts" <(slow | grist-count) tty-counts.tsv
else
  echo "note: script(1) cannot make a pty here; the terminal case is not checked"
fi
finish
