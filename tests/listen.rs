//! `tiwhook listen` through the real binary, driven by a real HTTP client on loopback: valid,
//! invalid, oversize and non-POST requests, forwarding to a test server, and a shutdown that keeps
//! every body in the save file.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

struct Receiver {
    child: Child,
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(args: &[&str]) -> Receiver {
        let (child, stdout, first) = listen(args);
        // `listening on http://ADDR`, or with --format json a `listening` line of the contract.
        let url = match serde_json::from_str::<serde_json::Value>(&first) {
            Ok(line) => {
                assert_eq!(line["type"], "listening", "{first}");
                line["url"].as_str().unwrap().to_string()
            }
            Err(_) => {
                first.trim().strip_prefix("listening on ").expect("the first line names the address").into()
            }
        };
        let address = url.strip_prefix("http://").expect("an http:// URL").to_string();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Receiver { child, address, lines }
    }

    /// Sends one request; returns the status and the body of the answer.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http(&self.address, method, path, body)
    }

    /// Waits until the output holds `n` lines that satisfy `matching`.
    fn wait_for(&self, n: usize, matching: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<String> =
                self.lines.lock().unwrap().iter().filter(|l| matching(l)).cloned().collect();
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it with SIGTERM and returns its exit code.
    fn stop(mut self) -> i32 {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the receiver did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn http(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tiwhook-listen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn answers_valid_invalid_oversize_and_other_methods() {
    let receiver = Receiver::start(&["--format", "json", "--key", KEY]);
    let valid = read_fixture("signed/push-stopped.json");
    assert_eq!(
        receiver.request("POST", "/tiw/callback", valid.as_bytes()),
        (200, "{\"error_code\":0}".into())
    );
    assert_eq!(receiver.request("POST", "/", b"{not json").0, 200, "invalid, but accepted by default");
    assert_eq!(receiver.request("GET", "/", b"").0, 405);
    assert_eq!(receiver.request("POST", "/", &vec![b' '; 2 * 1024 * 1024]).0, 413);
    let expired = read_fixture("invalid/signature-expired.json");
    receiver.request("POST", "/", expired.as_bytes());
    let lines = receiver.wait_for(3, |l| l.starts_with("{\"type\":\"callback\""));
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
    let receiver = Receiver::start(&["--reject-invalid", "--key", KEY]);
    assert_eq!(receiver.request("POST", "/", read_fixture("invalid/wrong-type.json").as_bytes()).0, 400);
    assert_eq!(receiver.request("POST", "/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn forwards_each_body_byte_for_byte_and_shows_the_answer() {
    let app = TcpListener::bind("127.0.0.1:0").unwrap();
    let app_address = app.local_addr().unwrap().to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in app.incoming().take(1) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            sink.lock().unwrap().push((head, body));
            stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").unwrap();
        }
    });
    let target = format!("http://{app_address}/hooks/tiw");
    let receiver = Receiver::start(&["--format", "json", "--forward-to", &target]);
    let body = read_fixture("signed/push-started.json");
    assert_eq!(receiver.request("POST", "/", body.as_bytes()).0, 200);
    let forwards = receiver.wait_for(1, |l| l.contains("\"type\":\"forward\""));
    let forward: serde_json::Value = serde_json::from_str(&forwards[0]).unwrap();
    assert_eq!(forward["status"], 204);
    let received = received.lock().unwrap();
    let (head, forwarded) = &received[0];
    assert!(head.starts_with("POST /hooks/tiw HTTP/1.1"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    assert_eq!(forwarded, body.as_bytes());
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn an_unreachable_application_is_shown_not_fatal() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let receiver = Receiver::start(&["--forward-to", &format!("http://{closed}/"), "--forward-retries", "0"]);
    assert_eq!(receiver.request("POST", "/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
    let lines = receiver.wait_for(1, |l| l.contains("unreachable"));
    assert_eq!(lines.len(), 1, "{:?}", receiver.lines.lock().unwrap());
    assert!(lines[0].ends_with("unreachable: connection refused"), "the cause, once: {}", lines[0]);
    // The receiver goes on; its exit status then says that a callback did not reach the app.
    assert_eq!(receiver.stop(), 1);
}

#[test]
fn shutdown_keeps_every_body_in_the_save_file() {
    let save = temp_file("save");
    let receiver = Receiver::start(&["--compact", "--key", KEY, "--save", save.to_str().unwrap()]);
    let bodies = [
        read_fixture("signed/push-started.json"),
        "{\"EventType\":\n".into(),
        read_fixture("signed/record-failed.json"),
    ];
    for body in &bodies {
        assert_eq!(receiver.request("POST", "/", body.as_bytes()).0, 200);
    }
    let compact = receiver.wait_for(3, |l| l.contains(" ✓ ") || l.contains(" ✗ "));
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
    let receiver = Receiver::start(&["--read-timeout", "1"]);
    let started = Instant::now();
    let mut stream = TcpStream::connect(&receiver.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(8), "the connection stayed open {waited:?}");
    // The server still answers others.
    assert_eq!(receiver.request("POST", "/", read_fixture("signed/push-started.json").as_bytes()).0, 200);
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
