//! `listen` left running beside an application (issue: a receiver you can leave running): a
//! stderr nobody reads, a burst into a slow single-threaded app, a black-hole app and Ctrl-C,
//! strictness on a two-document body, captures rewritten by other tools, and requests with a
//! query string and a gzip body kept and replayed. Each through the real binary.
//!
//! Waits are for events (a line, an exit), bounded generously; no test measures speed.

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use common::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_stderr_nobody_reads_never_blocks_intake_and_ctrl_c_still_exits() {
    // Both streams are pipes nobody reads (as `2>&1 | less` with the pager paused).
    let mut receiver = Running::start("", &[], Stream::NeverRead, Stream::NeverRead);
    // Each empty body is a message on stderr: far more than a pipe and the queue hold.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..800 {
                    assert_eq!(receiver.post("/tiw", "", b""), 200);
                }
            });
        }
    });
    let started = Instant::now();
    assert_eq!(receiver.post("/tiw", "", started_line("after").as_bytes()), 200);
    assert!(started.elapsed() < Duration::from_secs(10), "intake waited on stderr");
    receiver.signal(libc::SIGINT);
    assert!(receiver.wait(Duration::from_secs(15)).is_some(), "Ctrl-C did not end it");
}

#[test]
fn a_burst_into_a_single_threaded_app_is_delivered_whole_in_order() {
    let app = TestApp::start(Answers::OneAtATime { backlog: 5 }, "/app");
    let mut receiver = Running::start("", &["--forward-to", &app.url], Stream::Read, Stream::Read);
    let total = 400;
    std::thread::scope(|scope| {
        for client in 0..8 {
            let receiver = &receiver;
            scope.spawn(move || {
                for n in 0..total / 8 {
                    let line = started_line(&format!("burst{client}-{n:03}"));
                    assert_eq!(
                        receiver.post("/tiw", "Content-Type: application/json\r\n", line.as_bytes()),
                        200
                    );
                }
            });
        }
    });
    let delivered = app.wait_for(total, Duration::from_secs(60));
    receiver.signal(libc::SIGINT);
    assert_eq!(receiver.wait(Duration::from_secs(30)), Some(0), "{:?}", receiver.stderr.lock().unwrap());
    let mut tasks: Vec<String> = delivered
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["EventData"]["TaskId"].to_string()
        })
        .collect();
    assert_eq!(tasks.len(), total, "every body once");
    tasks.sort();
    tasks.dedup();
    assert_eq!(tasks.len(), total, "no body twice");
    // Each forward says which request it is, so an app can recognise a repeat.
    let numbers: Vec<u64> =
        delivered.iter().map(|r| r.header("x-tiwhook-request").unwrap().parse().unwrap()).collect();
    assert!(numbers.iter().all(|&n| (1..=total as u64).contains(&n)));
    let stderr = receiver.stderr.lock().unwrap().join("\n");
    assert!(stderr.contains(&format!("forwarded {total} of {total} callbacks")), "{stderr}");
}

#[test]
fn ctrl_c_drains_then_names_what_was_not_forwarded_and_how_to_replay_it() {
    let dir = temp_dir("drain");
    let save = dir.join("save.ndjson");
    // A line from an earlier run: the replay must count lines of the file, not of this run.
    std::fs::write(&save, format!("{}\n", started_line("earlier"))).unwrap();
    let black_hole = TestApp::start(Answers::Never, "/app");
    let args = [
        "--save",
        save.to_str().unwrap(),
        "--forward-to",
        &black_hole.url,
        "--forward-timeout",
        "300ms",
        "--forward-retries",
        "0",
        "--drain-timeout",
        "1s",
        "--forward-concurrency",
        "1",
    ];
    let mut receiver = Running::start("", &args, Stream::Read, Stream::Read);
    for n in 0..5 {
        assert_eq!(receiver.post("/tiw", "", started_line(&format!("lost{n}")).as_bytes()), 200);
    }
    let stopping = Instant::now();
    receiver.signal(libc::SIGINT);
    assert_eq!(receiver.wait(Duration::from_secs(20)), Some(1), "not everything reached the app");
    assert!(stopping.elapsed() < Duration::from_secs(10), "the drain is bounded");
    let stderr = receiver.wait_for(true, "to forward them now").join("\n");
    assert!(stderr.contains("forwarded 0 of 5 callbacks"), "{stderr}");
    let replay = stderr
        .lines()
        .find_map(|l| l.split_once("to forward them now: ").map(|(_, c)| c.to_string()))
        .expect("a replay command");
    let words: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(&words[..3], ["tiwhook", "send", "--lines"], "{replay}");
    assert_eq!(words[3], "2-6", "the five lines after the earlier one");
    assert_eq!(words[4], black_hole.url);
    // The same command, pointed at an application that answers, delivers exactly those five.
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/app");
    tiwhook().args(["send", "--lines", words[3], &app.url, words[5]]).assert().success();
    let delivered = app.wait_for(5, Duration::from_secs(10));
    let tasks: Vec<String> = delivered
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["EventData"]["TaskId"].to_string()
        })
        .collect();
    assert_eq!(tasks, (0..5).map(|n| format!("\"lost{n}\"")).collect::<Vec<_>>());
}

#[test]
fn strict_reject_invalid_fails_a_body_with_two_documents() {
    let mut receiver = Running::start(
        "",
        &["--strict", "--reject-invalid", "--format", "json", "--allow-expired", "--key", KEY],
        Stream::Read,
        Stream::Read,
    );
    let body = format!("{}\n{}", started_line("one"), started_line("two"));
    assert_eq!(receiver.post("/tiw", "", body.as_bytes()), 400);
    assert_eq!(receiver.post("/tiw", "", started_line("alone").as_bytes()), 200);
    let lines = receiver.wait_for(false, "alone");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["verdict"], "invalid", "{first}");
    assert_eq!(first["warnings"][0]["code"], "several-documents");
    receiver.signal(libc::SIGTERM);
    receiver.wait(Duration::from_secs(15));
}

#[test]
fn a_capture_rewritten_with_spaces_and_reordered_members_is_judged_and_replayed() {
    let dir = temp_dir("rewritten");
    let path = dir.join("edited.ndjson");
    // As Python's json.dumps writes a capture it has read and written back.
    let body: serde_json::Value = serde_json::from_str(&started_line("edited")).unwrap();
    let line = format!(
        "{{\"body\": {}, \"peer\": \"203.0.113.9:1\", \"received_at\": \"2025-11-25T04:00:01.123Z\", \"tiwhook_capture\": 1, \"path\": \"/tiw\", \"method\": \"POST\", \"content_type\": \"application/json\"}}\n",
        serde_json::to_string_pretty(&body).unwrap().replace('\n', " ")
    );
    std::fs::write(&path, line).unwrap();
    let (lines, summary, code) = run_json(&["check", "--key", KEY, path.to_str().unwrap()], None);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(summary["callbacks"], 1);
    assert_eq!(lines[0]["details"]["peer"], "203.0.113.9:1");
    assert_eq!(lines[0]["details"]["task_id"], "edited");
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/app");
    tiwhook().args(["send", &app.url, path.to_str().unwrap()]).assert().success();
    let delivered = app.wait_for(1, Duration::from_secs(10));
    let sent: serde_json::Value = serde_json::from_slice(&delivered[0].body).unwrap();
    assert_eq!(sent, body);
}

#[test]
fn a_query_string_and_a_gzip_body_are_kept_and_replayed_as_they_came() {
    let dir = temp_dir("gzip");
    let save = dir.join("save.ndjson");
    let mut receiver = Running::start(
        "",
        &["--save", save.to_str().unwrap(), "--format", "json"],
        Stream::Read,
        Stream::Read,
    );
    let callback = started_line("zipped");
    let zipped = gzip(callback.as_bytes());
    let headers = "Content-Type: application/json; charset=utf-8\r\nContent-Encoding: gzip\r\n";
    assert_eq!(receiver.post("/tiw?token=abc", headers, &zipped), 200);
    let lines = receiver.wait_for(false, "\"callback\"");
    let shown: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(shown["details"]["task_id"], "zipped", "judged decoded: {shown}");
    receiver.signal(libc::SIGTERM);
    assert_eq!(receiver.wait(Duration::from_secs(15)), Some(0));
    let saved: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&save).unwrap().trim()).unwrap();
    assert_eq!(saved["path"], "/tiw?token=abc");
    assert_eq!(saved["content_type"], "application/json; charset=utf-8");
    assert_eq!(saved["content_encoding"], "gzip");
    // Read back: judged decoded.
    let (callbacks, _, code) = run_json(&["check", save.to_str().unwrap()], None);
    assert_eq!((code, callbacks[0]["details"]["task_id"].as_str()), (0, Some("zipped")));
    // Replayed: the same bytes, with the same headers.
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/app");
    tiwhook().args(["send", &app.url, save.to_str().unwrap()]).assert().success();
    let delivered = app.wait_for(1, Duration::from_secs(10));
    assert_eq!(delivered[0].body, zipped);
    assert_eq!(delivered[0].header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(delivered[0].header("content-type").as_deref(), Some("application/json; charset=utf-8"));
    // Written back: as it came, or decoded on request.
    let raw = tiwhook().args(["capture", "bodies", save.to_str().unwrap()]).output().unwrap();
    assert_eq!(raw.stdout, [&zipped[..], b"\n"].concat());
    let decoded = tiwhook().args(["capture", "bodies", "--decode", save.to_str().unwrap()]).output().unwrap();
    assert_eq!(String::from_utf8(decoded.stdout).unwrap(), format!("{callback}\n"));
}

#[test]
fn save_refuses_a_dangling_link_and_escapes_the_path_it_names() {
    let dir = temp_dir("dangling");
    let link = dir.join("save.ndjson");
    std::os::unix::fs::symlink(dir.join("nowhere/else.ndjson"), &link).unwrap();
    tiwhook()
        .args(["listen", "--addr", "127.0.0.1:0", "--save", link.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("symbolic link to nothing"));
    assert!(!dir.join("nowhere").exists());
    let hostile = dir.join("bell\x07\x1b[31mred");
    let output = tiwhook()
        .args(["listen", "--addr", "127.0.0.1:0", "--save", &format!("{}/x", hostile.display())])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_terminal_safe(&String::from_utf8_lossy(&output.stderr), "the error names the path escaped");
}

#[test]
fn a_full_forward_backlog_is_said_as_it_happens() {
    let black_hole = TestApp::start(Answers::Never, "/app");
    let args = [
        "--forward-to",
        &black_hole.url,
        "--forward-backlog",
        "2",
        "--forward-concurrency",
        "1",
        "--forward-timeout",
        "30s",
        "--drain-timeout",
        "200ms",
    ];
    let mut receiver = Running::start("", &args, Stream::Read, Stream::Read);
    for n in 0..10 {
        assert_eq!(receiver.post("/tiw", "", started_line(&format!("s{n}")).as_bytes()), 200);
    }
    // One in flight, two waiting: the other seven are skipped, and that is said before the end.
    let stderr = receiver.wait_for(true, "(7 in all)").join("\n");
    assert!(stderr.contains("the forward backlog is full: "), "{stderr}");
    assert!(stderr.contains("skipped in the last second (7 in all)"), "{stderr}");
    receiver.signal(libc::SIGTERM);
    assert_eq!(receiver.wait(Duration::from_secs(15)), Some(1));
    let stderr = receiver.wait_for(true, "forwarded 0 of 10").join("\n");
    assert!(stderr.contains("7 skipped: the backlog was full, 3 abandoned"), "{stderr}");
    assert!(stderr.contains("without --save, what was not forwarded cannot be replayed"), "{stderr}");
}

#[test]
fn listen_always_ends_with_a_receivers_tally() {
    for posts in [0usize, 1] {
        let mut receiver = Running::start("", &["--compact", "--key", KEY], Stream::Read, Stream::Read);
        for n in 0..posts {
            assert_eq!(receiver.post("/tiw", "", started_line(&format!("tally{n}")).as_bytes()), 200);
        }
        if posts > 0 {
            receiver.wait_for(false, "tally0");
        }
        receiver.signal(libc::SIGINT);
        assert_eq!(receiver.wait(Duration::from_secs(15)), Some(0));
        let want = match posts {
            0 => "0 requests: 0 callbacks, 0 valid, 0 invalid, 0 warnings",
            _ => "1 request: 1 callback, 1 valid, 0 invalid, 0 warnings",
        };
        let stdout = receiver.wait_for(false, want);
        assert_eq!(stdout.last().map(String::as_str), Some(want), "{stdout:?}");
        let stderr = receiver.stderr.lock().unwrap().join("\n");
        assert_eq!(
            stderr.contains("does not cover the body"),
            posts > 0,
            "the note only after a valid Sign: {stderr}"
        );
    }
}

#[test]
fn a_second_ctrl_c_exits_at_once_during_the_drain() {
    let black_hole = TestApp::start(Answers::Never, "/app");
    let args = ["--forward-to", &black_hole.url, "--forward-timeout", "60s", "--drain-timeout", "60s"];
    let mut receiver = Running::start("", &args, Stream::Read, Stream::Read);
    assert_eq!(receiver.post("/tiw", "", started_line("stuck").as_bytes()), 200);
    receiver.signal(libc::SIGINT);
    // The first Ctrl-C drains (for up to a minute here); the second does not wait for it.
    let said = receiver.wait_for(true, "Ctrl-C again to exit now").join("\n");
    assert!(said.contains("forwarding the 1 callback still waiting, for up to 60s"), "{said}");
    receiver.signal(libc::SIGINT);
    assert_eq!(receiver.wait(Duration::from_secs(10)), Some(130));
}
