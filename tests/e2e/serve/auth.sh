#!/usr/bin/env bash
# Listening anywhere but loopback needs a token or an explicit --no-auth;
# with a token, a missing or wrong one gets 401 (the probes excepted) and
# the token never reaches the log.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grist-train-sgd -q -b 16 -f m.gsgd data.svm
secret=tok-$RANDOM$RANDOM-s3cret
printf '%s\n' "$secret" > token.txt

for addr in 0.0.0.0 :: 192.0.2.1; do
  set +e; timeout 10 grist-serve -i m.gsgd -p 0 --listen "$addr" > out.txt 2> err.txt; rc=$?; set -e
  check_status "--listen $addr without a token" 2 "$rc"
  check_grep "--listen $addr: message" "is not a loopback address: give --token-file" err.txt
done
set +e; timeout 10 grist-serve -i m.gsgd -p 0 --listen 0.0.0.0 --no-auth --token-file token.txt \
  2> err.txt; rc=$?; set -e
check_status "--no-auth with --token-file" 2 "$rc"
set +e; timeout 10 grist-serve -i m.gsgd -p 0 --listen localhost 2> err.txt; rc=$?; set -e
check_status "--listen a name" 2 "$rc"
: > empty.txt
set +e; timeout 10 grist-serve -i m.gsgd -p 0 --token-file empty.txt 2> err.txt; rc=$?; set -e
check_status "empty token file" 1 "$rc"

start_server log.txt -i m.gsgd --token-file token.txt -v
code() { http -o /dev/null -w '%{http_code}' "$@"; }
for path in /v1/model /metrics; do
  check_status "$path without a token" 401 "$(code "localhost:$PORT$path")"
  check_status "$path with a wrong token" 401 "$(code -H "Authorization: Bearer ${secret}x" "localhost:$PORT$path")"
  check_status "$path with the token" 200 "$(code -H "Authorization: Bearer $secret" "localhost:$PORT$path")"
done
check_status "predict without a token" 401 "$(code --data-binary @data.svm "localhost:$PORT/v1/predict")"
check_status "predict, a prefix of the token" 401 \
  "$(code -H "Authorization: Bearer ${secret%?}" --data-binary @data.svm "localhost:$PORT/v1/predict")"
check_status "predict, Basic" 401 \
  "$(code -u "user:$secret" --data-binary @data.svm "localhost:$PORT/v1/predict")"
check_status "predict with the token" 200 \
  "$(code -H "Authorization: Bearer $secret" --data-binary @data.svm "localhost:$PORT/v1/predict")"
check_status "healthz without a token" 200 "$(code "localhost:$PORT/healthz")"
check_status "readyz without a token" 200 "$(code "localhost:$PORT/readyz")"
http -D head.txt -o /dev/null "localhost:$PORT/metrics"
check_grep "401 names the scheme" "^WWW-Authenticate: Bearer" head.txt
# A reload (SIGHUP) logs too.
kill -HUP "$SERVER_PID"
sleep 0.5
stop_server
check_status "exit after SIGTERM" 0 "$rc"
check_grep "the log says a token is required" "bearer token required" log.txt
if grep -qF "s3cret" log.txt; then fail "the token is in the log"; else pass; fi
finish
