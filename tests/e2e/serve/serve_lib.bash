# Helpers for the grist-serve tests (sourced after ../lib/common.sh).
# Loopback only; each server picks a free port (-p 0) and is killed on exit.
command -v python3 >/dev/null || skip "python3 is not installed"
command -v curl >/dev/null || skip "curl is not installed"
CLIENT=$GRIST_SRC/tests/e2e/serve/client.py
SERVER_PID=
trap 'if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT

# start_server LOG ARGS...: starts grist-serve -p 0 ARGS (stderr to LOG),
# waits until it listens; sets SERVER_PID and PORT. Fails the test if it
# does not start within 10 s.
start_server() {
  local log=$1; shift
  $SIGDFL grist-serve -p 0 "$@" 2>"$log" &
  SERVER_PID=$!
  PORT=
  local i
  for i in $(seq 200); do
    PORT=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log")
    [ -n "$PORT" ] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "grist-serve did not start:" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.05
  done
  echo "grist-serve did not listen within 10 s" >&2; cat "$log" >&2; exit 1
}

# stop_server: SIGTERM, then its exit status in $rc (killed after 20 s).
stop_server() {
  kill -TERM "$SERVER_PID"
  local i
  for i in $(seq 400); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  set +e; wait "$SERVER_PID"; rc=$?; set -e
  SERVER_PID=
}

# http ARGS...: curl, bounded in time, against the server.
http() { curl -sS --max-time 20 "$@"; }

# Example data: svmlight, VW and text, labelled, with blanks and comments.
make_data() {
  awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) {
    if (i % 97 == 5) { print ""; continue }
    if (i % 101 == 7) { print "# a comment"; continue }
    printf "%d", (rand() < 0.5 ? 1 : -1)
    for (j = 0; j < 8; j++) printf " %d:%.3f", 1 + int(rand() * 300), rand()
    print "" } }' > data.svm
  awk 'BEGIN { srand(8); for (i = 0; i < 3000; i++) {
    if (i % 97 == 5) { print ""; continue }
    y = (rand() < 0.5 ? 1 : -1)
    printf "%s %s|a", (i % 3 ? y : ""), (i % 5 ? "t" i : "")
    for (j = 0; j < 5; j++) printf " w%d", int(rand() * 200)
    printf " |b x:%.2f\n", rand() } }' > data.vw
  awk 'BEGIN { srand(9); for (i = 0; i < 3000; i++) {
    printf "%d\t", (rand() < 0.5 ? 1 : -1)
    for (j = 0; j < 7; j++) printf "%s ", "word" int(rand() * 500)
    print "" } }' > data.txt
}
