#!/usr/bin/env bash
# Requests no well-behaved client sends, over raw sockets: malformed request
# lines, oversized headers and bodies, wrong Content-Length, chunked bodies
# cut short or too long, connections closed mid-body, invalid UTF-8, JSON of
# every wrong shape, a slow client, more connections than allowed. Each gets
# a 4xx or a closed connection, the next good request is answered, and the
# server's memory stays bounded.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grist-train-sgd -q -b 16 -f m.gsgd data.svm
start_server log.txt -i m.gsgd -j 2 --max-body 100000 --max-header 8192 --timeout 1
# RSS may grow by 64 MiB at most; a sanitizer build keeps freed memory in
# quarantine (ASan) or shadow (TSan): its bound is only a leak detector.
bound=64
if ldd "$GRIST_BIN/grist-serve" 2>/dev/null | grep -Eq 'lib(asan|tsan)'; then bound=512; fi
if python3 "$CLIENT" bad "$PORT" 100000 "$SERVER_PID" "$bound"; then pass; else fail "bad requests"; fi
if python3 "$CLIENT" slow "$PORT" 1; then pass; else fail "slow clients"; fi

http "localhost:$PORT/metrics" > metrics.txt
check_grep "400s counted" 'grist_serve_requests_total\{endpoint="/v1/predict",code="400"\} [1-9]' metrics.txt
check_grep "413s counted" 'grist_serve_requests_total\{endpoint="/v1/predict",code="413"\} [1-9]' metrics.txt
stop_server
check_status "exit after SIGTERM" 0 "$rc"

start_server log.txt -i m.gsgd -j 2 --max-connections 8
# More connections than --max-connections: those past it are not accepted
# (they wait in the kernel's queue); once the others close, they are.
python3 - "$PORT" <<'PY' || fail "connection limit"
import socket, sys, time, http.client
port = int(sys.argv[1])
time.sleep(0.5)
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(12)]
time.sleep(0.3)
answered = 0
for s in held:
    s.settimeout(0.5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        if s.recv(100).startswith(b"HTTP/1.1 200"):
            answered += 1
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
for s in held:
    s.close()
print("%d of 12 connections answered with a limit of 8" % answered)
time.sleep(0.3)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("GET", "/healthz")
r = c.getresponse()
sys.exit(0 if answered == 8 and r.status == 200 else 1)
PY
stop_server
check_status "exit after SIGTERM" 0 "$rc"
finish
