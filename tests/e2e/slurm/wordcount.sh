#!/usr/bin/env bash
# contrib/slurm/grist-slurm-wordcount on a one-node Slurm cluster started by
# this test on 127.0.0.1 (munged, slurmctld, slurmd; private socket, ports
# and state directories; stopped by PID on every exit path):
#   - map array over 8 compressed files + dependent reduce array + final
#     step: the result, read back with grist-merge --single, has the same
#     bytes as the single-process grist-tokenize | grist-count;
#   - a corrupt input: the map task fails, the job fails visibly (exit 1,
#     the task and its message named), and the output has no _SUCCESS.
# Needs root and scripts/install-deps.sh (slurm-wlm, munge); skipped
# (exit 77) otherwise.
. "$(dirname "$0")/../lib/common.sh"

for t in slurmctld slurmd munged sbatch squeue setpriv; do
  if ! command -v "$t" >/dev/null 2>&1; then
    skip "$t not installed (scripts/install-deps.sh installs Slurm and munge)"
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  skip "the one-node Slurm cluster of this test needs root"
fi
WRAPPER=$GRIST_SRC/contrib/slurm/grist-slurm-wordcount

# ---- the cluster ----
. "$GRIST_SRC/tests/e2e/slurm/cluster.bash"
trap 'stop_slurm_cluster; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
start_slurm_cluster "$WORK/slurm" || exit 1
pass

# ---- data: 8 compressed files ----
mkdir data
for i in $(seq 0 7); do
  awk -v seed="$i" 'BEGIN {
    srand(seed + 1)
    n = split("the of and to a in is it you that he was for on are with as I his they be at one have this from", w, " ")
    for (l = 0; l < 3000; l++) {
      line = ""
      for (k = 0; k < 12; k++) {
        r = rand()
        t = r < 0.5 ? w[int(rand() * n) + 1] : (r < 0.9 ? "word" int(rand() * 2000) : "Rare" int(rand() * 1000000))
        line = line (k ? " " : "") t
      }
      print line
    }
    print "naïve café 東京 don'\''t 3.14"
  }' | zstd -q -o "data/in$i.txt.zst"
done

grist-tokenize data/*.zst | grist-count >expected.tsv
[ -s expected.tsv ] && pass || fail "single-process word count is empty"

# ---- 1. the job ----
run_cmd out1.txt err1.txt timeout 120 "$WRAPPER" -W -r 4 -b "$GRIST_BIN" -o "$WORK/out1" data
check_status "slurm job" 0 "$rc"
[ $rc -eq 0 ] || { cat err1.txt >&2; tail -5 "$WORK"/out1.work/logs/*.log >&2 || true; }
check_grep "job ids reported" 'map job [0-9]+ \(8 tasks\), reduce job [0-9]+ \(4 tasks\)' err1.txt
[ -f out1/_SUCCESS ] && pass || fail "out1/_SUCCESS missing"
check_grep "manifest" '"partitions": 4' out1/_manifest.json
run_cmd got1.tsv merge_err.txt grist-merge --single out1
check_status "merge --single" 0 "$rc"
check_eq "slurm word count equals single process" expected.tsv got1.tsv
# every key in exactly the partition the stable partitioner gives it: the
# reduce tasks merged partition r of every shard
n=0
for r in 0 1 2 3; do n=$((n + $(grist-merge -q "out1/part-0000$r.zst" | wc -l))); done
check_status "records over partitions" "$(wc -l <expected.tsv)" "$n"
check_no_file "shards removed after success" out1.work/shards
check_no_temps "run 1" "$WORK/out1" "$WORK/out1.work"

# ---- 2. a corrupt input: visible failure, no _SUCCESS ----
cp -r data data2
head -c 300 data/in3.txt.zst >data2/in3.txt.zst  # truncated zstd frame
run_cmd out2.txt err2.txt timeout 120 "$WRAPPER" -W -r 4 -b "$GRIST_BIN" -o "$WORK/out2" data2
check_status "failing slurm job" 1 "$rc"
check_grep "failed task named" 'task map-3 failed' err2.txt
check_grep "the cause shown" 'in3\.txt\.zst' err2.txt
check_no_file "no result for a failed job" out2
check_no_file "no _SUCCESS for a failed job" out2/_SUCCESS
check_no_file "no shard for the failed map task" out2.work/shards/3
left=$(find "$WORK/out2.work/shards" -name '*.grist-tmp.*' | head -3)
[ -z "$left" ] && pass || fail "temporary shard left: $left"
# the dependent jobs were cancelled, not left pending forever
check_status "queue empty after the failure" "" "$(squeue -h -o %i)"

stop_slurm_cluster
finish
