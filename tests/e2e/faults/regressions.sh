#!/usr/bin/env bash
# Regression checks for findings of the fault-injection and fuzzing work
# (docs/reliability.md lists them), one check each, stating what grist
# must do.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

# 1. A plain directory among grist-merge's input files: the message must name
#    it.
printf 'a\t1\n' > sorted.txt
mkdir adir
run_cmd o.txt e.txt grist-merge sorted.txt adir sorted.txt
case $rc in 1|2) pass ;; *) fail "merge with a directory: exit status $rc" ;; esac
check_grep "merge with a directory: names it" "adir" e.txt

# 2. grist-train-sgd -f M --readable-model BAD: the readable dump is opened
#    only after the model is saved, so the run fails (exit 1) after training
#    with M written. Outputs should be opened (as temporaries) before
#    training and committed together at the end: then a bad path fails
#    before any work and leaves no M.
printf '1 1:1 2:1\n-1 3:1\n' > small.svm
run_cmd o.txt e.txt grist-train-sgd -q -b 8 -f m.bin --readable-model nodir/r.txt small.svm
check_status "train-sgd, bad --readable-model" 1 "$rc"
check_no_file "train-sgd, bad --readable-model: no model written" m.bin
finish
