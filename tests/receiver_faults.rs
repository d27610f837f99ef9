//! `listen` under the faults a user meets (a full disk, a slow application, a blocked terminal,
//! the file-descriptor limit, a FIFO as save file), the capture format read back, and
//! `sign --in-place` that never clobbers: each through the real binary.
//!
//! No test measures speed. Where one checks that something does not wait, it bounds the wait
//! generously (seconds against an application that never answers).

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use predicates::str::contains;

/// POSTs a callback to `/tiw`; the status and how long the answer took.
fn post(receiver: &Running, body: &[u8]) -> (u16, Duration) {
    let started = Instant::now();
    let (status, _) = receiver.post_json("/tiw", body);
    (status, started.elapsed())
}

/// A receiver started after `limits` (`ulimit …;`), its stdout read, or left unread (a pipe
/// nobody reads) when `read_stdout` is false.
fn start(limits: &str, args: &[&str], read_stdout: bool) -> Running {
    let stdout = if read_stdout { Stream::Read } else { Stream::NeverRead };
    Running::start(limits, args, stdout, Stream::Read)
}

#[test]
fn a_full_disk_leaves_no_fragment_and_the_next_request_is_saved_whole() {
    let dir = temp_dir("full");
    let save = dir.join("save.ndjson");
    // A file-size limit stands in for a full disk: writes past it fail (EFBIG), as on ENOSPC.
    // The limit is in 512-byte blocks; SIGXFSZ is ignored so that the write fails instead.
    let receiver =
        start("trap '' XFSZ; ulimit -f 4;", &["--key", KEY, "--save", save.to_str().unwrap()], true);
    let small = started_line("small");
    let big = format!("{{\"EventType\":\"WhiteboardPushStarted\",\"Padding\":\"{}\"}}", "x".repeat(3000));
    assert_eq!(post(&receiver, small.as_bytes()).0, 200);
    assert_eq!(post(&receiver, big.as_bytes()).0, 500, "a line that does not fit is refused");
    assert_eq!(post(&receiver, small.replace("small", "again").as_bytes()).0, 200, "space for a small one");
    assert_eq!(receiver.stop(), 1, "a request went unsaved");
    let saved = std::fs::read_to_string(&save).unwrap();
    assert_eq!(saved.lines().count(), 2, "{saved}");
    let (lines, summary, code) = run_json(&["check", "--key", KEY, save.to_str().unwrap()], None);
    assert_eq!((code, summary["valid"].as_u64()), (0, Some(2)), "no fragment: every line reads back");
    assert_eq!(lines[1]["details"]["task_id"], "again");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_slow_or_silent_application_does_not_delay_the_answer() {
    // An application that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}/", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let receiver = start(
        "",
        &["--key", KEY, "--forward-to", &target, "--forward-timeout", "30", "--drain-timeout", "1s"],
        true,
    );
    for i in 0..5 {
        let (status, took) = post(&receiver, started_line(&format!("t{i}")).as_bytes());
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_secs(20),
            "answered after {took:?}, not after the 30 s forward timeout"
        );
    }
    assert_eq!(receiver.stop(), 1, "nothing was forwarded");
}

#[test]
fn a_blocked_output_drops_display_lines_not_requests() {
    let dir = temp_dir("blocked");
    let save = dir.join("save.ndjson");
    let stderr = dir.join("stderr.txt");
    let redirect = format!("exec 2>{};", stderr.display());
    let receiver = start(&redirect, &["--key", KEY, "--save", save.to_str().unwrap()], false);
    // Far more than a pipe holds (each detailed view is some 700 bytes) and than the display
    // queue holds: the output blocks, and intake must go on.
    let count = 1500;
    for i in 0..count {
        let (status, took) = post(&receiver, started_line(&format!("t{i}")).as_bytes());
        assert_eq!(status, 200);
        assert!(took < Duration::from_secs(20), "request {i} answered after {took:?}");
    }
    // One body of many documents shows one report and counts the rest.
    let body: String = (0..50).map(|i| format!("{}\n", started_line(&format!("many{i}")))).collect();
    assert_eq!(post(&receiver, body.as_bytes()).0, 200);
    assert_eq!(receiver.stop(), 0);
    let saved = std::fs::read_to_string(&save).unwrap();
    assert_eq!(saved.lines().count(), count + 1, "every request saved once");
    let said = std::fs::read_to_string(&stderr).unwrap();
    assert!(said.contains("not shown: output blocked"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn one_body_shows_one_report_and_counts_the_rest() {
    let receiver = Running::listen(&["--key", KEY, "--compact"]);
    let body: String = (0..3).map(|i| format!("{}\n", started_line(&format!("many{i}")))).collect();
    assert_eq!(post(&receiver, body.as_bytes()).0, 200);
    let shown = receiver.wait_for_lines(2, |_| true);
    let (report, rest) = (&shown[0], &shown[1]);
    assert!(report.contains("task many0") && report.contains("warning[several-documents]"), "{report}");
    assert_eq!(rest.trim_end(), "  … and 2 more documents in the same body, not shown");
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn at_the_descriptor_limit_the_receiver_pauses_and_recovers() {
    let receiver = start("ulimit -n 24;", &["--key", KEY], true);
    // Take every descriptor the receiver has left, and some.
    let hogs: Vec<TcpStream> = (0..40).filter_map(|_| TcpStream::connect(&receiver.address).ok()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let cpu = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    let before = cpu(receiver.child.id());
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu(receiver.child.id()) - before;
    // Clock ticks (100 a second): a spinning accept loop would take the whole second.
    assert!(spent < 50, "{spent} ticks of CPU in one second at the limit");
    drop(hogs);
    let (status, _) = post(&receiver, started_line("after").as_bytes());
    assert_eq!(status, 200, "served again once descriptors are free");
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn the_save_file_must_be_a_regular_file() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("save.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    tiwhook()
        .args(["listen", "--addr", "127.0.0.1:0", "--save", fifo.to_str().unwrap()])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
    tiwhook()
        .args(["listen", "--addr", "127.0.0.1:0", "--save", dir.to_str().unwrap()])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn captures_keep_every_body_byte_for_byte_and_read_back_as_callbacks() {
    let dir = temp_dir("capture");
    let save = dir.join("save.ndjson");
    let receiver = start("", &["--key", KEY, "--save", save.to_str().unwrap()], true);
    let bodies: Vec<Vec<u8>> = vec![
        started_line("verbatim").into_bytes(),
        read_fixture("signed/push-stopped.json").into_bytes(),
        format!("{}\n{}", started_line("first"), started_line("second")).into_bytes(),
        b"\xff\xfe not UTF-8".to_vec(),
    ];
    for body in &bodies {
        assert_eq!(post(&receiver, body).0, 200);
    }
    assert_eq!(receiver.stop(), 0);
    let saved = std::fs::read_to_string(&save).unwrap();
    let lines: Vec<serde_json::Value> = saved.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["tiwhook_capture"], 1);
    assert!(lines[0]["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(lines[0]["path"], "/tiw");
    assert_eq!(lines[0]["content_type"], "application/json");
    assert!(lines[0]["body"].is_object(), "one JSON value on one line is kept verbatim");
    assert!(lines[1]["body_text"].is_string(), "pretty-printed JSON keeps its exact text");
    assert!(lines[3]["body_base64"].is_string());
    let received = lines[0]["received_at"].as_str().unwrap();
    assert!(received.len() == 24 && received.ends_with('Z') && received.as_bytes()[19] == b'.', "{received}");

    // Every reading command judges the callbacks inside: a body with two gives two reports.
    let (reports, summary, _) = run_json(&["check", "--key", KEY, save.to_str().unwrap()], None);
    let tasks: Vec<_> = reports.iter().map(|r| r["details"]["task_id"].as_str().unwrap_or("-")).collect();
    assert_eq!(tasks, ["verbatim", "cq5v8kl2j7s1a0e4m9tb", "first", "second", "-"]);
    assert_eq!(summary["valid"], 4);
    assert_eq!(reports[3]["line"], 3, "each report names its capture's line");
    assert_eq!(reports[0]["details"]["received_at"], received);

    // The bodies come back exactly as received.
    let out_dir = dir.join("bodies");
    tiwhook()
        .args(["capture", "bodies", "--out-dir", out_dir.to_str().unwrap(), save.to_str().unwrap()])
        .assert()
        .code(0);
    for (n, body) in bodies.iter().enumerate() {
        assert_eq!(
            &std::fs::read(out_dir.join(format!("{:06}.body", n + 1))).unwrap(),
            body,
            "body {}",
            n + 1
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_detailed_view_says_when_and_from_where_each_callback_came() {
    let receiver = Running::listen(&["--key", KEY]);
    assert_eq!(post(&receiver, started_line("arrival").as_bytes()).0, 200);
    let shown = receiver.wait_for_lines(2, |_| true);
    let line = &shown[1];
    assert!(line.starts_with("received 20") && line.contains(" +00:00 from 127.0.0.1:"), "{line}");
    assert_eq!(receiver.stop(), 0);
}

#[test]
fn sign_in_place_never_clobbers() {
    let dir = temp_dir("sign");
    let real = dir.join("real.json");
    std::fs::write(&real, started_line("a")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let sign = |path: &std::path::Path| {
        tiwhook()
            .args(["sign", "--key", "k2", "--expire-at", "4102444800", "--in-place", path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    // Through a link: the real file is signed, the link stays a link.
    assert_eq!(sign(&link).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640, "permissions kept");
    tiwhook_fixed(&["check", "--key", "k2", real.to_str().unwrap()]).assert().code(0);
    // A read-only file is refused and left as it was.
    let readonly = dir.join("readonly.json");
    std::fs::write(&readonly, started_line("b")).unwrap();
    let mut permissions = std::fs::metadata(&readonly).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&readonly, permissions).unwrap();
    let refused = sign(&readonly);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("read-only"));
    assert_eq!(std::fs::read_to_string(&readonly).unwrap(), started_line("b"));
    // The old temporary name, planted as a link to a victim, is not followed.
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(".real.json.tiwhook-1.tmp")).unwrap();
    assert_eq!(sign(&real).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tiwhook-sign-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
    std::fs::remove_dir_all(dir).unwrap();
}
