#!/bin/bash
# Benchmark grist-serve with wrk (keep-alive, on the same machine):
#  - one example per request: requests/s and p99 latency;
#  - batches of 1000 examples per request: examples/s, against
#    grist-predict's examples/s on the same lines (the ratio);
#  - vw --daemon on the same examples when vw is on the PATH (one at a
#    time over one connection, and streamed);
#  - peak RSS of the server against the model's size.
# Synthetic svmlight data: 200,000 examples of 30 features out of 2^20,
# a -b 20 model (4 MiB of weights).
#
#   bench/serve.sh [SECONDS] [THREADS] [CONNECTIONS]   (default 10 2 8)
# Env: GRIST_BIN (default build/bin), WORKDIR (default $TMPDIR/grist-bench-serve).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${GRIST_BIN:-$here/../build/bin}
secs=${1:-10}
threads=${2:-2}
conns=${3:-8}
work=${WORKDIR:-${TMPDIR:-/tmp}/grist-bench-serve}
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
PATH=$bin:$PATH

if [ ! -s test.svm ]; then
  awk 'BEGIN { srand(11); for (i = 0; i < 200000; i++) {
    printf "%d", (rand() < 0.5 ? 1 : -1)
    for (j = 0; j < 30; j++) printf " %d:%.3f", 1 + int(rand() * 1048575), rand()
    print "" } }' > test.svm
  grist-train-sgd -q -b 20 -f model.gsgd test.svm
fi
head -n 1 test.svm > one.svm
head -n 1000 test.svm > batch.svm
model_bytes=$(( (1048576 + 1) * 4 ))

# grist-predict on the same lines: examples/s (best of 3).
best=0
for i in 1 2 3; do
  s=$(date +%s.%N)
  grist-predict -j "$threads" -i model.gsgd test.svm > /dev/null
  e=$(date +%s.%N)
  r=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%d", 200000 / (e - s) }')
  [ "$r" -gt "$best" ] && best=$r
done
predict_eps=$best

cat > post.lua <<'LUA'
local f = io.open(os.getenv("BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain"
LUA

grist-serve -i model.gsgd -p 0 -j "$threads" --max-connections 1024 2> serve.log &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for i in $(seq 100); do
  port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' serve.log)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat serve.log >&2; exit 1; }
url=http://127.0.0.1:$port/v1/predict

# wrk_run BODY: prints "REQ/S P99_MS"
wrk_run() {
  BODY=$1 wrk -t 2 -c "$conns" -d "${secs}s" --latency -s post.lua "$url" > wrk.txt
  local rps p99
  rps=$(awk '/^Requests\/sec/ { print $2 }' wrk.txt)
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
                           else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                           else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' wrk.txt)
  if grep -q "Non-2xx" wrk.txt; then echo "bench/serve.sh: wrk saw errors:" >&2; cat wrk.txt >&2; fi
  echo "$rps $p99"
}
read -r single_rps single_p99 < <(wrk_run one.svm)
read -r batch_rps batch_p99 < <(wrk_run batch.svm)
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status)
kill -TERM "$pid"; wait "$pid" || true
trap - EXIT
batch_eps=$(awk -v r="$batch_rps" 'BEGIN { printf "%d", r * 1000 }')

echo "grist-serve -j $threads, wrk -t2 -c$conns, ${secs}s per run, $(nproc) CPUs"
printf 'one example per request:   %10.0f req/s, p99 %.2f ms (target >= 20000 req/s, p99 <= 5 ms)\n' \
  "$single_rps" "$single_p99"
printf 'batches of 1000 examples:  %10d examples/s (%.0f req/s, p99 %.2f ms)\n' \
  "$batch_eps" "$batch_rps" "$batch_p99"
printf 'grist-predict -j %s:        %10d examples/s; batch ratio %.2f (target >= 0.60)\n' \
  "$threads" "$predict_eps" "$(awk -v a="$batch_eps" -v b="$predict_eps" 'BEGIN { print a / b }')"
printf 'peak RSS %d MiB; model weights %d MiB; RSS - model %d MiB (target <= 64)\n' \
  $((hwm_kib / 1024)) $((model_bytes >> 20)) $(( (hwm_kib * 1024 - model_bytes) >> 20 ))

if command -v vw >/dev/null; then
  # The same examples as VW input ("LABEL | INDEX:VALUE ..."), a VW model.
  sed 's/^\([-0-9]*\) /\1 | /' test.svm > test.vw
  vw --quiet -b 20 -d test.vw -f model.vw --loss_function logistic
  vport=$((port + 1))
  vw --quiet --daemon --port "$vport" --num_children 1 -t -i model.vw --foreground &
  vpid=$!
  sleep 1
  python3 - "$vport" "$secs" <<'PY'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
lines = open("test.vw", "rb").read().split(b"\n")[:1000]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
n = 0; t0 = time.time()
while time.time() - t0 < secs / 2:
    s.sendall(lines[n % 1000] + b"\n"); f.readline(); n += 1
one = n / (time.time() - t0)
body = b"\n".join(lines) + b"\n"
n = 0; t0 = time.time()
while time.time() - t0 < secs / 2:
    s.sendall(body)
    for _ in range(1000): f.readline()
    n += 1000
print("vw --daemon: %.0f round trips/s one at a time; %.0f examples/s streamed in 1000s"
      % (one, n / (time.time() - t0)))
PY
  kill "$vpid" 2>/dev/null || true
else
  echo "vw --daemon: not run (vw is not on the PATH)"
fi
