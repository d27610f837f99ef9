//! `tiwhook send` against real HTTP servers started here: one that fails twice then accepts, one
//! that never answers, one that answers `{"error_code":1}`, one whose answers change, and the
//! project's own `listen`. Retry intervals and timeouts are short so that the tests stay fast; no
//! test measures speed.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;
use predicates::prelude::*;
use predicates::str::contains;

/// A receiver on loopback whose n-th request (from 0) gets `answer(n)`: a status and a body, or
/// `None` to hold the connection open without answering.
fn server(answer: impl Fn(usize) -> Option<(u16, &'static str)> + Send + 'static) -> TestApp {
    TestApp::start(Answers::Each(Box::new(answer)), "/tiw")
}

fn send(url: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = tiwhook();
    cmd.args(["send", url, "--retry-interval", "50ms", "--timeout", "2s"]).args(args);
    cmd
}

#[test]
fn a_receiver_that_fails_twice_then_accepts_is_retried_like_tencent_does() {
    let app = server(|n| Some(if n < 2 { (500, "oops") } else { (200, "{\"error_code\":0}") }));
    send(&app.url, &[&fixture("signed/push-started.json")])
        .assert()
        .code(0)
        .stdout(contains(
            "  ↻ fixtures/signed/push-started.json:1  attempt 2 of 6 in 50ms: 500 Internal Server Error",
        ))
        .stdout(contains("accepted after 3 attempts (500, 500, 200)"))
        .stdout(contains("1 delivery sent: 1 accepted, 0 failed, 1 retried"));
    let received = app.bodies();
    assert_eq!(received.len(), 3);
    let fixture_bytes = read_fixture("signed/push-started.json");
    assert_eq!(received[0], fixture_bytes.trim_end().as_bytes(), "the body goes byte for byte");
}

#[test]
fn a_receiver_that_never_answers_fails_each_attempt_within_the_timeout() {
    let app = server(|_| None);
    let output = tiwhook()
        .args([
            "send",
            &app.url,
            "--timeout",
            "200ms",
            "--retries",
            "2",
            "--retry-interval",
            "10ms",
            "-f",
            "json",
        ])
        .arg(fixture("signed/push-started.json"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let mut lines = json_lines(&output.stdout);
    // Each retry is said when it is scheduled, before the delivery's own line.
    let retries: Vec<serde_json::Value> = lines.iter().filter(|l| l["type"] == "retry").cloned().collect();
    assert_eq!(retries.len(), 2);
    assert_eq!((retries[0]["attempt"].as_u64(), retries[0]["of"].as_u64()), (Some(2), Some(3)));
    assert_eq!(retries[1]["error"], "timed out after 200ms");
    assert_eq!(retries[1]["in_millis"], 10);
    lines.retain(|l| l["type"] != "retry");
    let attempts = lines[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    for attempt in attempts {
        assert_eq!(attempt["status"], serde_json::Value::Null);
        assert_eq!(attempt["error"], "timed out after 200ms");
        assert!(attempt["millis"].as_u64().unwrap() < 2000);
    }
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(lines[1]["type"], "delivery_summary");
    assert_eq!(lines[1]["failed"], 1);
}

#[test]
fn an_answer_other_than_error_code_zero_is_a_warning_not_a_failure() {
    let app = server(|_| Some((200, "{\"error_code\":1}")));
    send(&app.url, &[&fixture("signed/push-started.json")])
        .assert()
        .code(0)
        .stdout(contains("warning: the answer was `{\"error_code\":1}`, not {\"error_code\":0}"));
}

#[test]
fn duplicates_are_delivered_and_a_changed_answer_is_reported() {
    let app =
        server(|n| Some(if n == 0 { (200, "{\"error_code\":0}") } else { (200, "{\"error_code\":7}") }));
    let output = send(&app.url, &["--duplicate", "2", "-f", "json", &fixture("signed/push-started.json")])
        .output()
        .unwrap();
    let lines = json_lines(&output.stdout);
    let copies: Vec<_> =
        lines.iter().filter(|l| l["type"] == "delivery").map(|l| l["copy"].as_u64().unwrap()).collect();
    assert_eq!(copies, [0, 1, 2]);
    assert_eq!(lines[1]["answer_changed"], true);
    assert_eq!(app.bodies().len(), 3);
}

#[test]
fn shuffling_with_a_seed_repeats_its_order() {
    let order = |seed: &str| -> Vec<String> {
        let app = server(|_| Some((200, "{\"error_code\":0}")));
        send(&app.url, &[&format!("--shuffle={seed}"), &fixture("timeline/day.ndjson")]).output().unwrap();
        app.bodies().iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    };
    let (first, again, other) = (order("7"), order("7"), order("8"));
    assert_eq!(first, again);
    assert_ne!(first, other);
    let plain = read_fixture("timeline/day.ndjson");
    assert_ne!(first.iter().map(String::as_str).collect::<Vec<_>>(), plain.lines().collect::<Vec<_>>());
}

#[test]
fn what_is_not_json_is_not_sent_unless_raw() {
    let app = server(|_| Some((200, "{\"error_code\":0}")));
    let input = format!("{}\nnot json\n", started_line("ok"));
    send(&app.url, &[]).write_stdin(input.clone()).assert().code(1).stderr(contains("not sent"));
    assert_eq!(app.bodies().len(), 1);
    send(&app.url, &["--raw"]).write_stdin(input).assert().code(0);
    assert_eq!(app.bodies().last().unwrap(), b"not json");
}

#[test]
fn a_bad_url_or_no_key_to_resign_with_is_a_usage_error() {
    tiwhook().args(["send", "not a url"]).write_stdin("{}").assert().code(2).stderr(contains("not a URL"));
    tiwhook().args(["send", "ftp://x/"]).write_stdin("{}").assert().code(2).stderr(contains("http://"));
    tiwhook()
        .args(["send", "http://127.0.0.1:9/", "--resign", &fixture("signed/push-started.json")])
        .assert()
        .code(2)
        .stderr(contains("--resign needs"));
}

#[test]
fn examples_sent_into_listen_are_saved_and_verify_from_the_capture() {
    let dir = temp_dir("send-listen");
    let save = dir.join("received.ndjson");
    let receiver = Running::listen(&["--key", "k", "--save", save.to_str().unwrap(), "--compact"]);
    let url = format!("http://{}/tiw", receiver.address);
    let mut examples = String::new();
    for event in ["WhiteboardPushStarted", "WhiteboardPushStopped"] {
        let out = tiwhook()
            .args(["example", event, "--key", "k", "--task", "e2e", "--room", "42"])
            .output()
            .unwrap();
        examples.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    send(&url, &[]).write_stdin(examples).assert().code(0).stdout(contains("2 deliveries sent: 2 accepted"));
    // A stored fixture, signed with another key long ago, re-signed on the way.
    send(&url, &["--resign", "--key", "k", &fixture("signed/push-stopped.json")]).assert().code(0);
    assert_eq!(receiver.stop(), 0);
    let (reports, summary, code) =
        run_json(&["check", "--require-signature", "--key", "k", save.to_str().unwrap()], None);
    assert_eq!((code, summary["valid"].as_u64()), (0, Some(3)), "{reports:?}");
    assert_eq!(reports[0]["details"]["task_id"], "e2e");
    assert_eq!(reports[0]["details"]["room_id"], 42);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn examples_get_fresh_ids_unless_seeded() {
    let task = |args: &[&str]| -> String {
        let out = tiwhook().args(["example", "WhiteboardPushStarted"]).args(args).output().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        value["EventData"]["TaskId"].as_str().unwrap().to_string()
    };
    assert_ne!(task(&[]), task(&[]));
    assert_eq!(task(&["--seed", "5"]), task(&["--seed", "5"]));
    assert_eq!(task(&["--task", "mine"]), "mine");
    let out = tiwhook().args(["example", "WhiteboardPushStarted", "--now", NOW]).output().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value["EventData"]["PushStartTime"], value["Timestamp"],
        "a push starts at its callback's time"
    );
    assert!(predicate::str::is_match("^[a-z0-9]{20}$").unwrap().eval(&task(&[])));
}

#[test]
fn ctrl_c_stops_cleanly_with_the_report_so_far() {
    let app = server(|n| if n == 0 { Some((200, "{\"error_code\":0}")) } else { None });
    let input = format!("{}\n{}\n", started_line("one"), started_line("two"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["send", &app.url, "--timeout", "60s", "--retries", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    // The first is accepted; the second hangs on a server that never answers: interrupted once
    // it has arrived.
    assert_eq!(app.wait_for(2, std::time::Duration::from_secs(30)).len(), 2, "both requests arrive");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("task one  accepted"), "{text}");
    assert!(
        text.contains("2 deliveries sent: 1 accepted, 1 failed, 0 retried") && text.contains("interrupted"),
        "{text}"
    );
}

#[test]
fn an_endless_answer_is_cut_off_and_paced_concurrent_deliveries_all_arrive() {
    // A receiver that answers 200 and then streams its body forever.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tiw", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                let chunk = format!("{:x}\r\n{}\r\n", 1024, "x".repeat(1024));
                while stream.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    let input: String = (0..4).map(|i| format!("{}\n", started_line(&format!("paced{i}")))).collect();
    let output = tiwhook()
        .args(["send", &url, "--timeout", "5s", "--rate", "50/s", "--concurrency", "2", "-f", "json"])
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let lines = json_lines(&output.stdout);
    let deliveries: Vec<_> = lines.iter().filter(|l| l["type"] == "delivery").collect();
    assert_eq!(deliveries.len(), 4);
    for delivery in deliveries {
        assert_eq!(delivery["outcome"], "accepted", "{delivery}");
        assert_eq!(delivery["error_code_zero"], false, "the endless answer is no {{\"error_code\":0}}");
    }
    assert_eq!(output.status.code(), Some(0));
}
