#!/usr/bin/env bash
# Reload under load: while three clients (two keep-alive, one connecting
# anew each time) send requests for 10 s, the model file is replaced 20
# times by a rename, alternating two models whose predictions differ, and
# once by a corrupt file. No request fails, and every response's
# X-Grist-Model names the model whose predictions it carries. The corrupt
# file is refused, logged and counted; SIGHUP reloads too.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grist-train-sgd -q -b 16 -f a.gsgd data.svm
# The other model learns the opposite labels: other predictions.
awk '/^-?1 / { $1 = -$1 } { print }' data.svm > flipped.svm
grist-train-sgd -q -b 16 -f b.gsgd flipped.svm
head -n 50 data.svm > body.svm
mkdir expect
for m in a b; do
  grist-predict -i $m.gsgd body.svm > $m.out
done
if cmp -s a.out b.out; then fail "the two models predict the same"; fi
cp a.gsgd model.gsgd
start_server log.txt -i model.gsgd -j 2 --poll 50
hash_of() { http "localhost:$PORT/v1/model" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/'; }
ha=$(hash_of)
cp a.out "expect/$ha"
# Learn b's hash from a second server (the running one must only ever see renames).
stop_a=$SERVER_PID; port_a=$PORT
start_server log_b.txt -i b.gsgd
hb=$(hash_of)
cp b.out "expect/$hb"
stop_server
SERVER_PID=$stop_a PORT=$port_a

python3 "$CLIENT" load "$PORT" 10 body.svm expect > load.txt 2>&1 & client=$!
sleep 0.5
for i in $(seq 20); do
  if [ $((i % 2)) = 1 ]; then src=b.gsgd; else src=a.gsgd; fi
  cp "$src" model.tmp && mv model.tmp model.gsgd
  sleep 0.35
  if [ "$i" = 10 ]; then
    head -c 300 a.gsgd > model.tmp && mv model.tmp model.gsgd   # corrupt (truncated)
    sleep 0.35
  fi
done
kill -HUP "$SERVER_PID"
set +e; wait "$client"; crc=$?; set -e
cat load.txt
check_status "load client: no failed request" 0 "$crc"
check_grep "load client saw both models" "2 models seen" load.txt
http "localhost:$PORT/metrics" > metrics.txt
check_grep "one refused reload" "^grist_serve_reload_failures_total 1$" metrics.txt
reloads=$(sed -n 's/^grist_serve_reloads_total //p' metrics.txt)
if [ "$reloads" -ge 15 ]; then pass; else fail "only $reloads reloads counted"; fi
check_grep "refusal logged" "refused the new model .*model.gsgd.*still serving hash" log.txt
check_grep "SIGHUP reload logged" "reloaded model.gsgd \(SIGHUP\)" log.txt
stop_server
check_status "exit after SIGTERM" 0 "$rc"
finish
