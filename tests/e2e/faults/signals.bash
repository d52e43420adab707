# SIGINT and SIGTERM at many moments of one run (sourced by signals_*.sh).
#
# signal_sweep NAME OUT CMD...: runs CMD (which writes OUT, spilling to
# ./spill) once to completion for the reference output, then again for each
# delay in $DELAYS and each signal, killed after that delay. A killed run
# exits by the signal (130/143) or with status 1, leaves the previous OUT
# byte-identical (or, killed between the rename and the exit, the complete
# new one), and leaves nothing in ./spill, beside OUT or in $TMPDIR. A
# run that finished before the signal has written exactly the reference.
DELAYS=${DELAYS:-"0 0.01 0.03 0.06 0.1 0.15 0.2 0.3 0.45 0.7"}

signal_sweep() {
  local name=$1 out=$2; shift 2
  mkdir -p spill
  "$@" 2> e.txt || { fail "$name: reference run failed"; cat e.txt >&2; return; }
  if [ -d "$out" ]; then tar -C "$out" -cf ref.tar --sort=name --mtime=0 --owner=0 --group=0 . && rm -rf "$out"
  else mv "$out" ref.out; fi
  local sig d rc killed=0 done=0 late=0
  for sig in INT TERM; do
    for d in $DELAYS; do
      if [ -d ref.tar ] || [ -f ref.tar ]; then rm -rf "$out"; else save_previous "$out"; fi
      set +e
      $SIGDFL "$@" 2> e.txt &
      local pid=$!
      sleep "$d"
      kill -s "$sig" "$pid" 2>/dev/null
      wait "$pid"
      rc=$?
      set -e
      local what="$name SIG$sig after ${d}s"
      if [ "$rc" = 0 ]; then
        done=$((done + 1))
        if [ -f ref.tar ]; then
          tar -C "$out" -cf got.tar --sort=name --mtime=0 --owner=0 --group=0 .
          check_eq "$what: finished" ref.tar got.tar
        else
          check_eq "$what: finished" ref.out "$out"
        fi
      else
        killed=$((killed + 1))
        check_signalled "$what" "$rc" "$sig"
        # The signal may come after the rename into place, just before the
        # exit: then the output is the complete new one. Never anything else.
        if [ -f ref.tar ]; then
          if [ -e "$out" ]; then
            tar -C "$out" -cf got.tar --sort=name --mtime=0 --owner=0 --group=0 .
            check_eq "$what: killed after the rename" ref.tar got.tar
            late=$((late + 1))
          else pass; fi
        elif cmp -s "$out" ref.out; then
          pass; late=$((late + 1))
        else
          check_untouched "$what" "$out"
        fi
        # A message, if any, is about the signal, not a crash.
        if grep -Eq 'Sanitizer|terminate called|Aborted|Segmentation' e.txt; then
          fail "$what: crash report"; head -5 e.txt >&2
        else pass; fi
      fi
      [ -z "$(ls -A spill)" ] && pass || fail "$what: left in -T: $(ls -A spill | head -3)"
      check_clean "$what" . spill
    done
  done
  echo "$name: $killed runs killed ($late of them after the rename), $done finished before the signal"
  rm -rf "$out" ref.out ref.tar got.tar
}
