#!/usr/bin/env python3
"""Writes fixtures/logs/forms/: one sample log for each form production logs wrap callbacks in,
for `tiwhook --extract` (tests/log_forms.rs reads them, and checks that this script still writes
them byte for byte).

Each log holds, in its own wrapping: a signed callback that passes (key `tiwhook-test-key`), one
that fails (its RoomId is a string), one cut off before its end (which must be reported), and
lines without a callback (which must stay silent).

Usage: scripts/make_log_forms.py [DIR]   (default: fixtures/logs/forms next to this script)
"""
import hashlib
import json
import os
import sys
import urllib.parse

KEY = "tiwhook-test-key"
EXPIRE = 4102444800
SIGN = hashlib.md5(f"{KEY}{EXPIRE}".encode()).hexdigest()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "fixtures", "logs", "forms")


def callback(task, room=880528):
    return {
        "EventType": "WhiteboardPushStarted",
        "EventData": {"TaskId": task, "RoomId": room, "PushUserId": "tic_push_user_880528_01",
                      "PushStartTime": 1764054000},
        "SdkAppId": 1400313729, "Timestamp": 1764054001, "ExpireTime": EXPIRE, "Sign": SIGN,
    }


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


GOOD = compact(callback("good"))
BAD = compact(callback("bad", room="880528"))
CUT = compact(callback("cut"))[:90]
TIME = "2026-11-30T10:00:0{}.123456789Z"


def app_line(n, body):
    return f"2026-11-30T10:00:0{n}Z INFO tiw callback body={body}"


def write(name, lines):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def docker(n, text):
    return compact({"log": text + "\n", "stream": "stdout", "time": TIME.format(n)})


def forms():
    noise = ["2026-11-30T10:00:00Z INFO server started on :3000 {\"port\":3000}",
             "2026-11-30T10:00:09Z DEBUG {\"latency_ms\":3}"]
    bodies = [GOOD, BAD, CUT]

    # 1. Docker's json-file driver: the app's line, prefix and all, inside a JSON string.
    write("docker.log", [docker(0, noise[0])] + [docker(n + 1, app_line(n + 1, b)) for n, b in enumerate(bodies)]
          + [docker(9, noise[1])])

    # 2. A JSON app log (zap) under a JSON runtime: the callback escaped twice.
    def zap(n, body):
        return compact({"level": "info", "ts": 1764496800 + n, "msg": "tiw callback", "body": body})
    write("docker-zap.log", [docker(0, compact({"level": "info", "msg": "started"}))]
          + [docker(n + 1, zap(n + 1, b)) for n, b in enumerate(bodies)])

    # 3. CRI (containerd, CRI-O): the good callback split into partial pieces.
    def cri(n, tag, text):
        return f"{TIME.format(n)} stdout {tag} {text}"
    good = app_line(1, GOOD)
    pieces = [good[i:i + 100] for i in range(0, len(good), 100)]
    cri_lines = [cri(0, "F", noise[0])]
    cri_lines += [cri(1, "P", p) for p in pieces[:-1]] + [cri(1, "F", pieces[-1])]
    cri_lines += [cri(2, "F", app_line(2, BAD)), cri(3, "F", app_line(3, CUT)), cri(9, "F", noise[1])]
    write("cri.log", cri_lines)

    # 4. A log service's CSV export: the message field quoted, its quotes doubled.
    def csv_field(text):
        return '"' + text.replace('"', '""') + '"'
    write("export.csv", ["time,level,message", f"{TIME.format(0)},INFO,{csv_field(noise[0])}"]
          + [f"{TIME.format(n + 1)},INFO,{csv_field(app_line(n + 1, b))}" for n, b in enumerate(bodies)])

    # 5. journalctl -o json: MESSAGE as a string, and as bytes when it is not UTF-8.
    def journald(n, message):
        return compact({"__REALTIME_TIMESTAMP": str(1764496800000000 + n), "_SYSTEMD_UNIT": "app.service",
                        "MESSAGE": message})
    not_utf8 = list(app_line(1, GOOD).encode()) + [0xff]
    write("journald.log", [journald(0, noise[0]), journald(1, not_utf8), journald(2, app_line(2, BAD)),
                            journald(3, app_line(3, CUT))])

    # 6. nginx `log_format ... escape=json`: `"` as `\"`, non-ASCII as `\u00XX`.
    def nginx_json(text):
        return json.dumps(text)[1:-1]
    write("nginx-json.log", [f'203.0.113.9 - [30/Nov/2026:10:00:0{n + 1} +0000] "POST /tiw HTTP/1.1" 200 body:"{nginx_json(b)}"'
                             for n, b in enumerate(bodies)] + ['203.0.113.9 - [30/Nov/2026:10:00:09 +0000] "GET /health HTTP/1.1" 200 body:""'])

    # 7. A callback pretty-printed over several lines after a prefix.
    pretty = []
    for n, b in enumerate(bodies[:2]):
        text = json.dumps(json.loads(b), indent=2, ensure_ascii=False)
        pretty += [f"2026-11-30T10:00:0{n + 1}Z INFO tiw callback body={text.splitlines()[0]}"] + text.splitlines()[1:]
    pretty += [app_line(3, CUT), noise[1]]
    write("pretty.log", [noise[0]] + pretty)

    # 8. A Python dict logged by its repr.
    def repr_of(value):
        return repr(value)
    write("python-repr.log", [f"INFO:app.tiw:callback {repr_of(json.loads(GOOD))}",
                              f"INFO:app.tiw:callback {repr_of(json.loads(BAD))}",
                              "INFO:app.tiw:callback {'EventType': 'WhiteboardPushStarted', 'EventData': ('a tuple',)}",
                              "INFO:app.tiw:request {'path': '/tiw', 'ok': True}"])

    # 9. A body logged percent-encoded.
    write("percent.log", [f"2026-11-30T10:00:0{n + 1}Z body={urllib.parse.quote(b, safe='')}" for n, b in enumerate(bodies)]
          + ["2026-11-30T10:00:09Z path=%2Ftiw"])


os.makedirs(out_dir, exist_ok=True)
forms()
