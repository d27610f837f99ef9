//! `tiwhook listen` through the real binary, driven by a real HTTP client on loopback: valid,
//! invalid, oversize and non-POST requests, forwarding to a test server, and a shutdown that keeps
//! every body in the save file.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

fn temp_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tiwhook-listen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn answers_valid_invalid_oversize_and_other_methods() {
    let receiver = Running::listen(&["--format", "json", "--key", KEY]);
    let valid = read_fixture("signed/push-stopped.json");
    assert_eq!(receiver.post_json("/tiw/callback", valid.as_bytes()), (200, "{\"error_code\":0}".into()));
    assert_eq!(receiver.post_json("/", b"{not json").0, 200, "invalid, but accepted by default");
    assert_eq!(receiver.request("GET", "/", "", b"").0, 405);
    assert_eq!(receiver.post_json("/", &vec![b' '; 2 * 1024 * 1024]).0, 413);
    let expired = read_fixture("invalid/signature-expired.json");
    receiver.post_json("/", expired.as_bytes());
    let lines = receiver.wait_for_lines(3, |l| l.starts_with("{\"type\":\"callback\""));
    let reports: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0]["source"], "#1 POST /tiw/callback");
    assert_eq!(
        (reports[0]["verdict"].as_str(), reports[0]["signature"].as_str()),
        (Some("valid"), Some("valid"))
    );
    assert_eq!(reports[1]["errors"][0]["code"], "invalid-json");
    assert_eq!(reports[2]["errors"][0]["code"], "signature-expired", "expiry is enforced live");
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn reject_invalid_answers_400_so_that_tencent_retries() {
    let receiver = Running::listen(&["--reject-invalid", "--key", KEY]);
    assert_eq!(receiver.post_json("/", read_fixture("invalid/wrong-type.json").as_bytes()).0, 400);
    assert_eq!(receiver.post_json("/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn forwards_each_body_byte_for_byte_and_shows_the_answer() {
    let app = TestApp::start(Answers::Each(Box::new(|_| Some((204, "")))), "/hooks/tiw");
    let receiver = Running::listen(&["--format", "json", "--forward-to", &app.url]);
    let body = read_fixture("signed/push-started.json");
    assert_eq!(receiver.post_json("/", body.as_bytes()).0, 200);
    let forwards = receiver.wait_for_lines(1, |l| l.contains("\"type\":\"forward\""));
    let forward: serde_json::Value = serde_json::from_str(&forwards[0]).unwrap();
    assert_eq!(forward["status"], 204);
    let received = app.wait_for(1, Duration::from_secs(10));
    let head = &received[0].head;
    assert!(head.starts_with("POST /hooks/tiw HTTP/1.1"), "{head}");
    assert_eq!(received[0].header("content-type").as_deref(), Some("application/json"), "{head}");
    assert_eq!(received[0].body, body.as_bytes());
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn an_unreachable_application_is_shown_not_fatal() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let receiver = Running::listen(&["--forward-to", &format!("http://{closed}/"), "--forward-retries", "0"]);
    assert_eq!(receiver.post_json("/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
    let lines = receiver.wait_for_lines(1, |l| l.contains("unreachable"));
    assert_eq!(lines.len(), 1, "{:?}", receiver.stdout.lock().unwrap());
    assert!(lines[0].ends_with("unreachable: connection refused"), "the cause, once: {}", lines[0]);
    // The receiver goes on; its exit status then says that a callback did not reach the app.
    assert_eq!(receiver.stop(), 1);
}

#[test]
fn shutdown_keeps_every_body_in_the_save_file() {
    let save = temp_file("save");
    let receiver = Running::listen(&["--compact", "--key", KEY, "--save", save.to_str().unwrap()]);
    let bodies = [
        read_fixture("signed/push-started.json"),
        "{\"EventType\":\n".into(),
        read_fixture("signed/record-failed.json"),
    ];
    for body in &bodies {
        assert_eq!(receiver.post_json("/", body.as_bytes()).0, 200);
    }
    let compact = receiver.wait_for_lines(3, |l| l.contains(" ✓ ") || l.contains(" ✗ "));
    assert_eq!(compact.len(), 3);
    assert!(
        compact[0].contains("✓ WhiteboardPushStarted  task cq5v8kl2j7s1a0e4m9tb  room 880528  sign valid"),
        "{compact:?}"
    );
    assert_eq!(receiver.stop(), 0);
    let saved = std::fs::read_to_string(&save).unwrap();
    assert_eq!(saved.lines().count(), 3);
    let (lines, summary, code) = run_json(&["check", "--key", KEY, save.to_str().unwrap()], None);
    assert_eq!(code, 1);
    assert_eq!(summary["callbacks"], 3);
    assert_eq!(lines[1]["errors"][0]["code"], "invalid-json", "the broken body is kept as it came");
    assert_eq!(lines[0]["verdict"], "valid");
    assert_eq!(lines[2]["verdict"], "valid");
    // Each report names the capture's line, and when and from where the callback came.
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["line"].as_u64(), Some(n as u64 + 1));
        // `details` is null for a body that is not JSON.
        if n != 1 {
            assert!(line["details"]["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{line}");
            assert!(line["details"]["received_at"].as_str().unwrap().ends_with('Z'), "{line}");
        }
    }
    let _ = std::fs::remove_file(save);
}

#[test]
fn listen_refuses_an_https_forward_a_bad_address_and_an_unwritable_save_file() {
    tiwhook().args(["listen", "--forward-to", "https://example.com/"]).assert().code(2);
    tiwhook().args(["listen", "--addr", "not-an-address"]).assert().code(2);
    tiwhook()
        .args(["listen", "--addr", "127.0.0.1:0", "--save", "/no/such/dir/saved.ndjson"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("--save /no/such/dir/saved.ndjson"));
}

#[test]
fn a_client_that_dribbles_its_request_is_cut_off() {
    let receiver = Running::listen(&["--read-timeout", "1"]);
    let started = Instant::now();
    let mut stream = TcpStream::connect(&receiver.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(8), "the connection stayed open {waited:?}");
    // The server still answers others.
    assert_eq!(receiver.post_json("/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
    let started = Instant::now();
    let mut stream = TcpStream::connect(&receiver.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(receiver.stop(), 0);
}
