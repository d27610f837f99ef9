#!/usr/bin/env python3
"""Load test for `tiwhook listen`, on loopback only, bounded in count and time.

Four runs. In each, the release binary is started, 10,000 signed callbacks (each with its own
TaskId) are posted from 50 concurrent clients over keep-alive connections, then it is stopped with
SIGTERM, and every request must have been answered 200 and (with a save file) every callback saved
exactly once, whole, on its own capture line.

1. normal: with a save file; its stdout is read (`--compact`); prints the throughput.
2. no-save: the same without `--save`, for the cost of durable saving.
3. faults: its stdout is a pipe nobody reads, and `--forward-to` names an application that accepts
   connections and never answers; every request must also be answered within a second, and the
   receiver must exit 1 after its drain, saying that nothing was forwarded.
4. stderr-blocked: stdout and stderr both into one pipe nobody reads (`2>&1 | less`, the pager
   paused), with one request in ten an empty body (each a message on stderr); every request must
   still be answered within a second, and SIGTERM must still end the receiver.

Usage: scripts/load.py [COUNT] [CLIENTS]
       TIWHOOK=path/to/other/tiwhook scripts/load.py   (measure another build, e.g. the one before)
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
KEY = "load-key"
EXPIRE = 4102444800
DEADLINE = 300  # seconds: each run stops by then, whatever happens
ANSWER_WITHIN = 1.0  # seconds, in the faults run

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.environ.get("TIWHOOK") or os.path.join(root, "target", "release", "tiwhook")
if not os.path.exists(binary):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)

sign = hashlib.md5(f"{KEY}{EXPIRE}".encode()).hexdigest()


def body(i):
    return json.dumps({
        "EventType": "WhiteboardPushStopped",
        "EventData": {"TaskId": f"load{i:08d}", "RoomId": 880528, "GroupId": "880528",
                      "PushUserId": "tic_push_user_880528_01", "FinishReason": "USER_CALL",
                      "PushStartTime": 1764054000, "PushStopTime": 1764057725, "IMSyncTime": 1764054000,
                      "ExceptionCnt": 0},
        "SdkAppId": 1400313729, "Timestamp": 1764057726, "ExpireTime": EXPIRE, "Sign": sign,
    }, separators=(",", ":")).encode()


def silent_application():
    """An application that accepts connections and never answers; returns its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    held = []
    def accept():
        while True:
            connection, _ = server.accept()
            held.append(connection)
    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/"


def run(mode):
    save = tempfile.NamedTemporaryFile(prefix="tiwhook-load-", suffix=".ndjson", delete=False).name
    args = [binary, "listen", "--addr", "127.0.0.1:0", "--key", KEY, "--color", "never"]
    if mode != "no-save":
        args += ["--save", save]
    if mode == "faults":
        args += ["--forward-to", silent_application(), "--forward-timeout", "30", "--drain-timeout", "1"]
    elif mode in ("normal", "no-save"):
        args += ["--compact"]
    stderr = subprocess.STDOUT if mode == "stderr-blocked" else subprocess.DEVNULL
    receiver = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True)
    address = receiver.stdout.readline().strip().removeprefix("listening on http://")
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1", address
    if mode in ("normal", "no-save"):
        threading.Thread(target=lambda: [None for _ in receiver.stdout], daemon=True).start()
    # Otherwise nobody reads the pipe: it fills, and the receiver's output blocks.
    empty = mode == "stderr-blocked"

    statuses, slowest = {}, [0.0]
    lock = threading.Lock()
    started = time.monotonic()

    def client(n):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        for i in range(n, COUNT, CLIENTS):
            if time.monotonic() - started > DEADLINE:
                break
            sent = time.monotonic()
            payload = b"" if empty and i % 10 == 0 else body(i)
            connection.request("POST", "/tiw", payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            took = time.monotonic() - sent
            with lock:
                statuses[i] = response.status
                slowest[0] = max(slowest[0], took)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    receiver.send_signal(signal.SIGTERM)
    code = receiver.wait(timeout=60)

    ok = sum(1 for s in statuses.values() if s == 200)
    tasks = []
    if mode != "no-save":
        with open(save) as f:
            for line in f:
                capture = json.loads(line)
                assert capture["tiwhook_capture"] == 1, line
                if "body" in capture:
                    tasks.append(capture["body"]["EventData"]["TaskId"])
    os.unlink(save)
    expected = COUNT - (len(range(0, COUNT, 10)) if empty else 0)
    missing = expected - len(set(tasks)) if mode != "no-save" else 0
    twice = len(tasks) - len(set(tasks))
    print(f"{mode}: {COUNT} callbacks from {CLIENTS} clients in {elapsed:.2f} s: {COUNT / elapsed:.0f} per second; "
          f"slowest answer {slowest[0] * 1000:.0f} ms")
    print(f"{mode}: answered 200: {ok}/{COUNT}; saved: {len(tasks)} lines, {missing} missing, {twice} saved twice; "
          f"exit {code}")
    # With a black-hole application nothing is forwarded, and the exit status says so.
    failed = ok != COUNT or missing or twice or code != (1 if mode == "faults" else 0)
    if mode in ("faults", "stderr-blocked") and slowest[0] > ANSWER_WITHIN:
        print(f"{mode}: an answer took longer than {ANSWER_WITHIN} s")
        failed = True
    return not failed


results = [run(mode) for mode in ("normal", "no-save", "faults", "stderr-blocked")]
if not all(results):
    sys.exit(1)
