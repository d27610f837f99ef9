#!/usr/bin/env python3
"""Load test for `tiwhook listen`, on loopback only, bounded in count and time.

Starts the release binary with a save file, posts 10,000 signed callbacks (each with its own
TaskId) from 32 concurrent clients over keep-alive connections, then stops it with SIGTERM and
checks that every request was answered 200 and every callback saved exactly once, whole, on its
own line. Prints the throughput. Usage: scripts/load.py [COUNT] [CLIENTS]
"""
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 32
KEY = "load-key"
EXPIRE = 4102444800
DEADLINE = 300  # seconds: the whole run stops by then, whatever happens

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "release", "tiwhook")
if not os.path.exists(binary):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)

save = tempfile.NamedTemporaryFile(prefix="tiwhook-load-", suffix=".ndjson", delete=False).name
receiver = subprocess.Popen(
    [binary, "listen", "--addr", "127.0.0.1:0", "--key", KEY, "--compact", "--color", "never", "--save", save],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
address = receiver.stdout.readline().strip().removeprefix("listening on http://")
host, port = address.rsplit(":", 1)
assert host == "127.0.0.1", address
threading.Thread(target=lambda: [None for _ in receiver.stdout], daemon=True).start()

sign = hashlib.md5(f"{KEY}{EXPIRE}".encode()).hexdigest()
def body(i):
    return json.dumps({
        "EventType": "WhiteboardPushStopped",
        "EventData": {"TaskId": f"load{i:08d}", "RoomId": 880528, "GroupId": "880528",
                      "PushUserId": "tic_push_user_880528_01", "FinishReason": "USER_CALL",
                      "PushStartTime": 1764054000, "PushStopTime": 1764057725, "IMSyncTime": 1764054000,
                      "ExceptionCnt": 0},
        "SdkAppId": 1400313729, "Timestamp": 1764057726, "ExpireTime": EXPIRE, "Sign": sign,
    }).encode()

statuses = {}
lock = threading.Lock()
started = time.monotonic()

def client(n):
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    for i in range(n, COUNT, CLIENTS):
        if time.monotonic() - started > DEADLINE:
            break
        connection.request("POST", "/tiw", body(i), {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        with lock:
            statuses[i] = response.status
    connection.close()

threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
receiver.send_signal(signal.SIGTERM)
code = receiver.wait(timeout=30)

ok = sum(1 for s in statuses.values() if s == 200)
tasks = []
with open(save) as f:
    for line in f:
        tasks.append(json.loads(line)["EventData"]["TaskId"])
os.unlink(save)
missing = COUNT - len(set(tasks))
twice = len(tasks) - len(set(tasks))
print(f"{COUNT} callbacks from {CLIENTS} clients in {elapsed:.2f} s: {COUNT / elapsed:.0f} per second")
print(f"answered 200: {ok}/{COUNT}; saved: {len(tasks)} lines, {missing} missing, {twice} saved twice; exit {code}")
if ok != COUNT or missing or twice or code != 0:
    sys.exit(1)
