#!/usr/bin/env python3
"""Clients for the grist-serve tests: http.client over keep-alive, and raw
sockets for requests no well-behaved client sends. Every socket has a
timeout; every mode exits 1 on the first wrong answer, naming it.

  client.py endpoints PORT DATA EXPECTED [TOKEN]
  client.py bad PORT MAX_BODY PID [RSS_BOUND_MIB]
  client.py load PORT SECONDS BODY EXPECT_DIR   (EXPECT_DIR/HASH: the answer of model HASH)
  client.py inflight PORT BODY READY GO OUT
"""
import gzip
import http.client
import json
import os
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def finish():
    sys.exit(1 if failures else 0)


def conn(port, timeout=20):
    return http.client.HTTPConnection(HOST, port, timeout=timeout)


def request(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


def endpoints(port, data, expected, token=None):
    body = open(data, "rb").read()
    want = open(expected, "rb").read()
    auth = {"Authorization": "Bearer " + token} if token else {}
    c = conn(port)  # one connection for everything: keep-alive
    st, h, info = request(c, "GET", "/v1/model", headers=auth)
    if st != 200:
        fail("/v1/model: %d" % st)
        return
    model = json.loads(info)
    hash_ = model["hash"]
    for key in ("file", "hash", "bytes", "loaded_at", "format", "options"):
        if key not in model:
            fail("/v1/model has no %r" % key)

    def check(name, st, h, want_status=200):
        if st != want_status:
            fail("%s: status %d, expected %d" % (name, st, want_status))
        if h.get("x-grist-model") != hash_:
            fail("%s: X-Grist-Model %r, expected %r" % (name, h.get("x-grist-model"), hash_))

    for path in ("/healthz", "/readyz"):
        st, h, b = request(c, "GET", path)
        check(path, st, h)
    st, h, b = request(c, "GET", "/metrics", headers=auth)
    check("/metrics", st, h)
    text = b.decode()
    for metric in ("grist_serve_requests_total{", "grist_serve_request_duration_seconds_bucket",
                   "grist_serve_reloads_total", "grist_serve_reload_failures_total",
                   "grist_serve_open_connections", 'grist_serve_model_info{hash="%s"' % hash_,
                   "grist_serve_model_load_timestamp_seconds", "grist_serve_examples_total"):
        if metric not in text:
            fail("/metrics lacks %s" % metric)
    st, h, b = request(c, "POST", "/v1/predict", body, dict(auth, **{"Content-Type": "text/plain"}))
    check("predict plain", st, h)
    if b != want:
        fail("predict plain: the body differs from grist-predict's")
    st, h, b = request(c, "POST", "/v1/predict", gzip.compress(body),
                       dict(auth, **{"Content-Encoding": "gzip"}))
    check("predict gzip", st, h)
    if b != want:
        fail("predict gzip: the body differs from grist-predict's")
    lines = body.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    st, h, b = request(c, "POST", "/v1/predict", json.dumps({"instances": lines}),
                       dict(auth, **{"Content-Type": "application/json"}))
    check("predict json", st, h)
    preds = json.loads(b)["predictions"]
    want_lines = want.decode().split("\n")[:-1]
    if len(preds) != len(want_lines):
        fail("predict json: %d predictions for %d lines" % (len(preds), len(want_lines)))
    for p, w in zip(preds, want_lines):
        word = w.split(" ")[0]
        if (p is None) != (word == "") or (p is not None and float(word) != p):
            fail("predict json: %r for line %r" % (p, w))
            break
    first = next(l for l in body.split(b"\n") if l.strip() and not l.startswith(b"#"))
    st, h, b = request(c, "POST", "/v1/predict", first + b"\nnot\ta line\n", auth)
    check("predict bad line", st, h, 400)
    if not b.startswith(b"line 2: "):
        fail("predict bad line: %r does not name line 2" % b)
    st, h, b = request(c, "GET", "/etc/passwd", headers=auth)
    check("/etc/passwd", st, h, 404)
    st, h, b = request(c, "GET", "/v1/predict", headers=auth)
    check("GET /v1/predict", st, h, 405)
    st, h, b = request(c, "GET", "/healthz")  # the connection still serves
    check("/healthz after errors", st, h)


def read_reply(s, limit=1 << 20):
    """Reads until the server closes or a full response (by Content-Length) is in."""
    buf = b""
    try:
        while len(buf) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v)
                if len(rest) >= n:
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    return buf


def status_of(reply):
    if not reply.startswith(b"HTTP/1."):
        return None
    return int(reply.split(b" ", 2)[1])


def raw(port, payload, name, ok=lambda st: st is None or 400 <= st < 500 or st == 505, pause=0.0,
        shut=False):
    s = socket.create_connection((HOST, port), timeout=10)
    try:
        for i, part in enumerate(payload if isinstance(payload, list) else [payload]):
            if i and pause:
                time.sleep(pause)
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        if shut:
            s.shutdown(socket.SHUT_WR)
        st = status_of(read_reply(s))
    finally:
        s.close()
    if not ok(st):
        fail("%s: status %r (expected a 4xx or a closed connection)" % (name, st))
    good(port, "after " + name)


def good(port, name):
    c = conn(port, 10)
    st, h, b = request(c, "POST", "/v1/predict", b"1 1:1\n")
    c.close()
    if st != 200 or "x-grist-model" not in h:
        fail("%s: a good request got %d" % (name, st))


def rss_kib(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bad(port, max_body, pid, rss_bound_mib="64"):
    max_body = int(max_body)
    P = "POST /v1/predict HTTP/1.1\r\nHost: x\r\n"
    J = P + "Content-Type: application/json\r\n"

    def post(head, body):
        return (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body

    cases = [
        ("malformed request line", b"GARBAGE\r\n\r\n"),
        ("request line without version", b"GET /healthz\r\n\r\n"),
        ("binary request line", b"\x00\xff\xfe\r\n\r\n"),
        ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("oversized header", (P + "X-Big: " + "a" * 200000 + "\r\n\r\n").encode()),
        ("many headers", (P + "".join("X-%d: v\r\n" % i for i in range(5000)) + "\r\n").encode()),
        ("oversized body (Content-Length)",
         (P + "Content-Length: %d\r\n\r\n" % (max_body + 1)).encode() + b"1 1:1\n" * 1000),
        ("negative Content-Length", (P + "Content-Length: -5\r\n\r\n1 1:1\n").encode()),
        ("non-numeric Content-Length", (P + "Content-Length: abc\r\n\r\n1 1:1\n").encode()),
        ("two Content-Lengths", (P + "Content-Length: 6\r\nContent-Length: 7\r\n\r\n1 1:1\n").encode()),
        ("Content-Length and chunked",
         (P + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n1 1:1\n\r\n0\r\n\r\n").encode()),
        ("Content-Length too short, garbage after",
         (P + "Content-Length: 3\r\n\r\n1 1:1\n\x00\x01junk\r\n\r\n").encode()),
        ("invalid UTF-8 line", post(P, b"1 1:1 \xff\xfe:1\n")),
        ("invalid UTF-8 in JSON", post(J, b'{"instances": ["1 1:1 \xff"]}')),
        ("JSON not an object", post(J, b"[1,2,3]")),
        ("JSON no instances", post(J, b'{"x": 1}')),
        ("JSON instances a number", post(J, b'{"instances": 1}')),
        ("JSON instances of numbers", post(J, b'{"instances": [1, 2]}')),
        ("JSON instances of objects", post(J, b'{"instances": [{"a": 1}]}')),
        ("JSON truncated", post(J, b'{"instances": ["1 1:1"')),
        ("JSON deep", post(J, b"[" * 50000)),
        ("JSON with a newline in an instance", post(J, b'{"instances": ["1 1:1\\n1 2:1"]}')),
        ("bad gzip", post(P + "Content-Encoding: gzip\r\n", b"\x1f\x8b\x08\x00garbage")),
        ("unknown encoding", post(P + "Content-Encoding: br\r\n", b"1 1:1\n")),
        ("chunked oversized", (P + "Transfer-Encoding: chunked\r\n\r\n").encode()
         + b"".join(b"%x\r\n%s\r\n" % (60000, b"1 1:1\n" * 10000) for _ in range(max_body // 60000 + 2))
         + b"0\r\n\r\n"),
    ]
    before = rss_kib(pid)
    for rnd in range(3):
        for name, payload in cases:
            raw(port, payload, name)
    # Cut short: the client stops sending (and shuts its side) mid-body, or
    # mid-chunk; closes without waiting.
    raw(port, (P + "Content-Length: 1000\r\n\r\n1 1:1\n").encode(), "body cut short", shut=True)
    raw(port, (P + "Transfer-Encoding: chunked\r\n\r\n10\r\n1 1:").encode(), "chunked cut short",
        shut=True)
    for _ in range(20):
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall((P + "Content-Length: 100000\r\n\r\n").encode() + b"1 1:1\n" * 100)
        s.close()  # mid-body
    good(port, "after connections closed mid-body")
    after = rss_kib(pid)
    print("RSS before %d KiB, after %d KiB" % (before, after))
    if after - before > int(rss_bound_mib) * 1024:
        fail("RSS grew by %d KiB over the bad requests" % (after - before))


def slow(port, timeout_s):
    """A client that sends a byte now and then: closed within about --timeout."""
    timeout_s = float(timeout_s)
    t0 = time.time()
    for name, parts in (("slow headers", [b"POST /v1/predict HTTP/1.1\r\n", b"Host: x\r\n"]),
                        ("slow body", [b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: 100000\r\n\r\n"] + [b"1 1:1\n"] * 100)):
        s = socket.create_connection((HOST, port), timeout=3 * timeout_s + 5)
        closed = False
        start = time.time()
        try:
            for p in parts + [b""] * 100:
                if p:
                    s.sendall(p)
                time.sleep(0.3)
                # Nothing to read until the server gives up on us.
                s.setblocking(False)
                try:
                    if s.recv(65536) == b"":
                        closed = True
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
                if time.time() - start > 3 * timeout_s + 3:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        s.close()
        took = time.time() - start
        if not closed:
            fail("%s: still open after %.1f s (--timeout %s)" % (name, took, timeout_s))
        else:
            print("%s: closed after %.1f s" % (name, took))
        good(port, "after " + name)


def load(port, seconds, body, expect_dir):
    body = open(body, "rb").read()
    expect = {}  # "-": any answer will do (load next to another test)
    for name in os.listdir(expect_dir) if expect_dir != "-" else []:
        expect[name] = open(os.path.join(expect_dir, name), "rb").read()
    stop = time.time() + float(seconds)
    counts = {"ok": 0, "hashes": set()}
    lock = threading.Lock()

    def worker(keepalive):
        c = conn(port)
        while time.time() < stop:
            try:
                st, h, b = request(c, "POST", "/v1/predict", body)
            except Exception as e:  # noqa: BLE001 - any failure counts
                with lock:
                    fail("request failed: %r" % e)
                c = conn(port)
                continue
            hh = h.get("x-grist-model")
            with lock:
                if expect_dir == "-":
                    counts["ok"] += 1
                elif st != 200:
                    fail("status %d: %r" % (st, b[:200]))
                elif hh not in expect:
                    fail("hash %r is none of the models" % hh)
                elif expect[hh] != b:
                    fail("the predictions are not those of model %s" % hh)
                else:
                    counts["ok"] += 1
                    counts["hashes"].add(hh)
            if not keepalive:
                c.close()
                c = conn(port)
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in (True, True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("%d requests answered right, %d models seen, %d failures"
          % (counts["ok"], len(counts["hashes"]), len(failures)))
    if counts["ok"] == 0:
        fail("no request answered")


def inflight(port, body, ready, go, out):
    body = open(body, "rb").read()
    s = socket.create_connection((HOST, port), timeout=20)
    half = len(body) // 2
    s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
              + body[:half])
    time.sleep(0.2)  # the server has the headers: a request in flight
    open(ready, "w").close()
    for _ in range(200):
        if os.path.exists(go):
            break
        time.sleep(0.05)
    s.sendall(body[half:])
    reply = read_reply(s, 1 << 26)
    s.close()
    head, _, rest = reply.partition(b"\r\n\r\n")
    open(out, "wb").write(rest)
    st = status_of(reply)
    print("in-flight request: status %r" % st)
    if st != 200:
        fail("the request in flight got %r" % st)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"endpoints": endpoints, "bad": bad, "slow": slow, "load": load, "inflight": inflight}[mode](*args)
    finish()
