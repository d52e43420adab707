#!/usr/bin/env bash
# SIGTERM (and SIGINT) during load: no new connection is accepted, the
# request in flight (its body half sent when the signal comes) is answered
# whole, and the server exits 0; a request that never completes is cut off
# after --drain and the exit is still 0.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grist-train-sgd -q -b 16 -f m.gsgd data.svm
grist-predict -i m.gsgd data.svm > want.txt

for sig in TERM INT; do
  start_server log.txt -i m.gsgd -j 2 --drain 10
  rm -f ready go got.txt
  python3 "$CLIENT" inflight "$PORT" data.svm ready go got.txt & client=$!
  for i in $(seq 200); do [ -e ready ] && break; sleep 0.05; done
  # Keep-alive load next to it.
  python3 "$CLIENT" load "$PORT" 1 data.svm - > /dev/null 2>&1 & loader=$!
  sleep 0.3
  kill -"$sig" "$SERVER_PID"
  sleep 0.5
  if kill -0 "$SERVER_PID" 2>/dev/null; then pass; else fail "SIG$sig: exited with a request in flight"; fi
  # No new connection is accepted while draining.
  if curl -s --max-time 2 "localhost:$PORT/healthz" > /dev/null; then
    fail "SIG$sig: a new connection was accepted while draining"
  else pass; fi
  touch go
  set +e; wait "$client"; crc=$?; wait "$loader"; set -e
  check_status "SIG$sig: the request in flight" 0 "$crc"
  check_eq "SIG$sig: its answer" want.txt got.txt
  for i in $(seq 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
  set +e; wait "$SERVER_PID"; rc=$?; set -e
  SERVER_PID=
  check_status "SIG$sig: exit status" 0 "$rc"
  check_grep "SIG$sig: logged" "^grist-serve: stopped$" log.txt
done

# A request that never completes holds the exit for --drain seconds only.
start_server log.txt -i m.gsgd --drain 1
rm -f ready go
python3 "$CLIENT" inflight "$PORT" data.svm ready go got.txt > /dev/null 2>&1 & client=$!
for i in $(seq 200); do [ -e ready ] && break; sleep 0.05; done
start=$SECONDS
stop_server
check_status "cut off after --drain: exit status" 0 "$rc"
if [ $((SECONDS - start)) -le 5 ]; then pass; else fail "--drain 1 took $((SECONDS - start)) s"; fi
check_grep "cut off: logged" "still in flight after --drain" log.txt
touch go
wait "$client" || true
finish
