# SIGINT and SIGTERM at named moments of one run (sourced by signals_*.sh).
#
# signal_sweep NAME OUT POINTS CMD...: runs CMD (which writes OUT, spilling
# to ./spill) once to completion for the reference output, then again for
# each stop point in POINTS (GRIST_TEST_STOP_AT, lib/grist/io/test_hook.hpp:
# "spill:2", "merge", "output:3", "commit"...) and each signal: the run
# stops itself at the point, gets the signal there and is continued. Each
# run must reach its point (so the signal comes mid-run, never after the
# end), die by the signal (130/143), leave the previous OUT byte-identical
# (a directory OUT: none at all), and leave nothing in ./spill, beside OUT
# or in $TMPDIR.
signal_sweep() {
  local name=$1 out=$2 points=$3; shift 3
  mkdir -p spill
  "$@" 2> e.txt || { fail "$name: reference run failed"; cat e.txt >&2; return; }
  local dir=0
  if [ -d "$out" ]; then dir=1; fi
  rm -rf "$out"
  local sig point killed=0
  for sig in INT TERM; do
    for point in $points; do
      local what="$name: SIG$sig at $point"
      if [ $dir = 1 ]; then rm -rf "$out"; else save_previous "$out"; fi
      if ! stop_at "$point" "$@" 2> e.txt; then
        fail "$what: the run ended (exit status $rc) without reaching $point"
        continue
      fi
      kill_stopped "$sig"
      killed=$((killed + 1))
      check_status "$what: killed by the signal" $((128 + $(kill -l "$sig"))) "$rc"
      if [ $dir = 1 ]; then check_no_file "$what: no directory" "$out"
      else check_untouched "$what" "$out"; fi
      # A message, if any, is about the signal, not a crash.
      if grep -Eq 'Sanitizer|terminate called|Aborted|Segmentation' e.txt; then
        fail "$what: crash report"; head -5 e.txt >&2
      else pass; fi
      [ -z "$(ls -A spill)" ] && pass || fail "$what: left in -T: $(ls -A spill | head -3)"
      check_clean "$what" . spill
    done
  done
  echo "$name: $killed runs killed mid-way"
  rm -rf "$out" "$out.saved"
}
