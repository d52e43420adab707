#!/usr/bin/env bash
# A pipeline killed as a whole (SIGTERM to its process group, as make, a
# shell's Ctrl-C or a job scheduler do it) leaves no output: the consumer
# sees its producer's EOF at about the moment its own signal arrives, and
# must not take that EOF for the end of its input and commit. Repeated,
# because it is a race.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 2000; i++) print "w" i }' >words.txt
left=0
for round in $(seq 30); do
  mkfifo in.fifo
  exec 3<>in.fifo  # keeps the FIFO open for writing: the reader waits
  cat words.txt >&3
  out=(-o out.tsv)
  [ $((round % 2)) -eq 0 ] && out=(-p 2 -o out.d)  # a partition directory
  setsid bash -c 'cat in.fifo | grist-count -q "$@"' bash "${out[@]}" >/dev/null 2>&1 &
  pg=$!
  for _ in $(seq 200); do
    pgrep -g "$pg" -x grist-count >/dev/null && break
    sleep 0.01
  done
  sleep 0.05
  kill -TERM -- -"$pg" 2>/dev/null || true
  wait "$pg" || true
  # bash dies at once; its children may still be cleaning up
  for _ in $(seq 500); do
    pgrep -g "$pg" >/dev/null || break
    sleep 0.01
  done
  exec 3>&-
  rm in.fifo
  for f in out.tsv out.d; do
    if [ -e "$f" ]; then
      left=$((left + 1))
      echo "round $round: $f committed after SIGTERM" >&2
      rm -rf "$f"
    fi
  done
  if [ -n "$(find . -name '*.grist-tmp.*')" ]; then
    left=$((left + 1))
    echo "round $round: temporaries left: $(find . -name '*.grist-tmp.*')" >&2
    find . -name '*.grist-tmp.*' -exec rm -rf {} +
  fi
done
check_status "outputs or temporaries left in 30 killed pipelines" 0 "$left"
finish
