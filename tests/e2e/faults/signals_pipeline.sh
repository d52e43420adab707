#!/usr/bin/env bash
# A pipeline killed as a whole (SIGTERM or SIGINT to its process group, as
# make, a shell's Ctrl-C or a job scheduler do it) leaves no output: the
# consumer sees its producer's EOF at about the moment its own signal
# arrives, and must not take that EOF for the end of its input and commit.
# The worst moment is made certain with a stop point
# (lib/grist/io/test_hook.hpp): grist-count has read all its producer wrote
# and stops just before it would commit (-o FILE; -p: the first part's and
# the directory's rename); only then is the group signalled.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 2000; i++) print "w" i }' >words.txt
# stopped PID: the process is stopped (state T)
stopped() { [ "$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" = T ]; }

for sig in TERM INT; do
  # POINT|OUTPUT OPTIONS; commit:5 with -p 2: two parts, the manifest and
  # _SUCCESS, then the directory
  for c in "commit:1|-o out.tsv" "commit:1|-p 2 -o out.d" "commit:5|-p 2 -o out.d"; do
    point=${c%%|*}
    read -ra out <<<"${c#*|}"
    what="SIG$sig to the pipeline, grist-count ${out[*]} at $point"
    $SIGDFL setsid bash -c 'cat words.txt | GRIST_TEST_STOP_AT=$0 grist-count -q "$@"' \
      "$point" "${out[@]}" >/dev/null 2>&1 &
    pg=$!
    cpid=
    for _ in $(seq 12000); do
      cpid=$(pgrep -g "$pg" -x grist-count || true)
      if [ -n "$cpid" ] && stopped "$cpid"; then break; fi
      if ! kill -0 "$pg" 2>/dev/null; then cpid=; break; fi
      sleep 0.01
    done
    if [ -z "$cpid" ] || ! stopped "$cpid"; then
      fail "$what: grist-count never reached $point"
      kill -KILL -- -"$pg" 2>/dev/null || true
    else
      kill -s "$sig" -- -"$pg" 2>/dev/null || true
      kill -CONT "$cpid"
      pass
    fi
    wait "$pg" || true
    # bash may die first; its children may still be cleaning up
    for _ in $(seq 1000); do
      pgrep -g "$pg" >/dev/null || break
      sleep 0.01
    done
    check_no_file "$what: no file" out.tsv
    check_no_file "$what: no directory" out.d
    check_no_temps "$what" "$WORK"
    rm -rf out.tsv out.d
  done
done
finish
