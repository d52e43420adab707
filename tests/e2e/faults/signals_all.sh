#!/usr/bin/env bash
# Every signal whose default action ends a process, sent to a spilling run
# of each writer while it waits in the middle of its input (stdin is a FIFO
# the test keeps open: no sleep decides when the signal lands): death by
# that very signal (status 128+N), no output, and no temporary beside the
# output, in -T or in $TMPDIR. Then: a signal inherited as ignored (nohup,
# a background job's SIGINT) stays ignored and the run completes; a FIFO
# output whose reader goes away ends the run quietly by SIGPIPE, without
# leftovers; with SIGPIPE ignored that is an error, as for cat.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"
ulimit -c 0  # SIGQUIT, SIGXCPU and SIGXFSZ dump core by default

SIGNALS="HUP INT QUIT USR1 USR2 PIPE ALRM TERM XCPU XFSZ VTALRM PROF IO PWR STKFLT RTMIN RTMAX"

# The input is a FIFO named as a file (a pipe of 64 KiB: stdin's would be
# widened to 1 MiB): when the feeding cat returns, the program has read all
# but 64 KiB of the 1.2 MB, more than its -S 1M, and spilled.
awk 'BEGIN { srand(3); for (i = 0; i < 90000; i++) printf "k%d\t1\n", int(rand() * 1e9) }' > kv.txt
LC_ALL=C sort kv.txt > sorted.txt
head -1000 sorted.txt > s1.txt
tail -1000 sorted.txt > s2.txt
awk 'BEGIN { srand(4); for (i = 0; i < 50000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 4; j++) printf " %d:1", 1 + int(rand() * 5000); print "" } }' > train.svm
grist-train-sgd -q -b 12 -f model.bin train.svm
mkdir spill

# writer: NAME|FEED|OUT|COMMAND (the command reads in.fifo, writes OUT)
writers=(
  "count|kv.txt|out.tsv|grist-count -q -S 1M -j2 -T spill -o out.tsv in.fifo"
  "count -p|kv.txt|out.d|grist-count -q -S 1M -j2 -T spill -p 3 -o out.d in.fifo"
  "shuffle-sort|kv.txt|out.tsv|grist-shuffle-sort -q -S 1M -j2 -T spill -o out.tsv in.fifo"
  "merge|sorted.txt|out.tsv|grist-merge -q -S 1M -T spill s1.txt s2.txt in.fifo -o out.tsv"
  "tokenize|kv.txt|out.txt|grist-tokenize -q -j2 -o out.txt in.fifo"
  "train-sgd|train.svm|out.model|grist-train-sgd -q -j1 --passes 2 -b 12 -T spill -f out.model in.fifo"
  "predict|train.svm|out.txt|grist-predict -q -i model.bin -o out.txt in.fifo"
)

# start_blocked FEED CMD...: starts CMD reading the FIFO in.fifo, feeds it
# FEED and keeps it open (fd 3), so that CMD waits for more; sets $pid.
start_blocked() {
  local feed=$1; shift
  rm -f in.fifo
  mkfifo in.fifo
  exec 3<>in.fifo
  # shellcheck disable=SC2086
  $SIGDFL "$@" 2> e.txt 3>&- &
  pid=$!
  cat "$feed" >&3
}

declare -A signum
for sig in $SIGNALS; do signum[$sig]=$(kill -l "$sig"); done

# One find per run (the matrix makes 119 of them): temporaries anywhere
# under the work directory, or anything in -T or $TMPDIR.
leftovers() {
  find . \( -name '*.grist-tmp.*' -o -name '.grist-spill.*' -o -path './spill/*' \
    -o -path "./${TMPDIR##*/}/*" \) -print 2>/dev/null | head -3
}

killed=0
for w in "${writers[@]}"; do
  IFS='|' read -r name feed out cmd <<< "$w"
  for sig in $SIGNALS; do
    what="$name SIG$sig"
    # shellcheck disable=SC2086
    start_blocked "$feed" $cmd
    set +e
    kill -s "$sig" "$pid"
    { wait "$pid"; } 2> /dev/null  # bash's own report of the death
    rc=$?
    set -e
    exec 3>&-
    want=$((128 + signum[$sig]))
    if [ "$rc" = "$want" ]; then pass; killed=$((killed + 1)); else
      fail "$what: exit status $rc, expected $want"; head -3 e.txt >&2
    fi
    if [ -e "$out" ]; then fail "$what: $out exists"; else pass; fi
    left=$(leftovers)
    if [ -n "$left" ]; then
      fail "$what: left: $left"
      find . -name '*.grist-tmp.*' -prune -exec rm -rf {} +
      rm -rf spill/* "${TMPDIR:?}"/*
    else pass; fi
    case $(< e.txt) in
      *Sanitizer*|*"terminate called"*|*Aborted*|*Segmentation*) fail "$what: crash report"; head -5 e.txt >&2 ;;
      *) pass ;;
    esac
  done
done
echo "$killed runs killed mid-run"

# A signal inherited as ignored stays ignored: nohup's SIGHUP, and SIGINT
# and SIGQUIT of a background job of a non-interactive shell. The run
# completes with the right output.
grist-count -q -S 1M -T spill kv.txt > ref.tsv
for how in "HUP:nohup" "INT:" "QUIT:"; do
  sig=${how%%:*} wrap=${how#*:}
  rm -f in.fifo; mkfifo in.fifo; exec 3<>in.fifo
  # shellcheck disable=SC2086
  $wrap grist-count -q -S 1M -T spill -o out.tsv < in.fifo 2> e.txt 3>&- &
  pid=$!
  cat kv.txt >&3
  kill -s "$sig" "$pid"
  exec 3>&-  # end of input
  set +e; wait "$pid"; rc=$?; set -e
  check_status "SIG$sig inherited as ignored: the run completes" 0 "$rc"
  check_eq "SIG$sig inherited as ignored: output" ref.tsv out.tsv
  rm -f out.tsv nohup.out
done

# A FIFO output whose reader leaves, while another output's temporary
# exists (the readable model, over 1 MiB, is written before -f is
# committed): SIGPIPE ends the run quietly, as it ends cat, after the
# temporaries are removed. With SIGPIPE inherited as ignored it is an
# error instead (exit 1, a message), as for cat, and no temporary is left.
awk 'BEGIN { srand(5); for (i = 0; i < 20000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 6; j++) printf " %d:1", 1 + int(rand() * 200000); print "" } }' > wide.svm
for how in default ignored; do
  rm -f out.fifo; mkfifo out.fifo
  (head -c 10 out.fifo > head.txt) &
  reader=$!
  set +e
  if [ $how = default ]; then
    $SIGDFL grist-train-sgd -q -b 18 -f m.bin --readable-model out.fifo wide.svm 2> e.txt
  else
    (trap '' PIPE; exec grist-train-sgd -q -b 18 -f m.bin --readable-model out.fifo wide.svm) 2> e.txt
  fi
  rc=$?
  set -e
  wait $reader
  if [ $how = default ]; then
    check_status "FIFO output, reader gone: SIGPIPE" 141 "$rc"
    if [ -s e.txt ]; then fail "FIFO output, reader gone: a message: $(head -c 200 e.txt)"; else pass; fi
  else
    check_failed "FIFO output, reader gone, SIGPIPE ignored" "$rc" e.txt 'out.fifo: write error: Broken pipe'
  fi
  check_no_file "FIFO output, reader gone ($how): -f not committed" m.bin
  check_clean "FIFO output, reader gone ($how)" . spill
done
finish
