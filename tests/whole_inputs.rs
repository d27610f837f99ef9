//! `send`, `sign` and `capture bodies` held to the reading commands' standard (issue: live,
//! honest and bounded): output as each delivery ends, retries said when scheduled, a progress
//! line on a terminal, Ctrl-C at any moment reported as interrupted with what was never sent, a
//! receiver that closes kept-alive connections, memory bounded on a gzip bomb, a sparse file and
//! `/dev/zero` (under `ulimit -v`), and `sign --in-place` refusing what it cannot keep.
//!
//! Waits are for events (a line on stdout, an exit), not for time.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `n` signed callbacks, one per line.
fn callbacks(n: usize) -> String {
    (0..n).map(|i| started_line(&format!("t{i:05}")) + "\n").collect()
}

/// `tiwhook ARGS` with stdin from `input`, stdout piped and read line by line as it comes.
fn spawn(args: &[&str], input: &str) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(args)
        .env_remove("TIW_CALLBACK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, received)
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"error_code\":0}";

#[test]
fn send_reports_each_delivery_while_it_runs() {
    // The second request is answered only once the first delivery's line has been read: a
    // sender that prints at the end never shows it, and the test times out.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let app = TestApp::start(
        Answers::Each(Box::new(move |n| {
            if n > 0 {
                let _ = gate.lock().unwrap().recv();
            }
            Some((200, "{\"error_code\":0}"))
        })),
        "/tiw",
    );
    let (mut child, lines) = spawn(&["send", &app.url], &callbacks(2));
    let first =
        lines.recv_timeout(Duration::from_secs(30)).expect("the first delivery, while the second waits");
    assert!(first.starts_with("✓ -:1  WhiteboardPushStarted  task t00000  accepted"), "{first}");
    release.send(()).unwrap();
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(rest[0].starts_with("✓ -:2"), "{rest:?}");
    assert_eq!(rest[1].split(';').next().unwrap(), "2 deliveries sent: 2 accepted, 0 failed, 0 retried");
}

#[test]
fn send_says_each_retry_when_it_is_scheduled() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/tiw");
    let (mut child, lines) =
        spawn(&["send", "--retries", "2", "--retry-interval", "100ms", &url], &callbacks(1));
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(first, "  ↻ -:1  attempt 2 of 3 in 100ms: connection refused");
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(rest[0], "  ↻ -:1  attempt 3 of 3 in 100ms: connection refused");
    assert!(
        rest[1]
            .ends_with("failed after 3 attempts: connection refused, connection refused, connection refused")
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn ctrl_c_during_pacing_is_an_interrupted_run_that_counts_what_was_not_sent() {
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/tiw");
    let total = 200;
    let (mut child, lines) = spawn(&["send", "--rate", "20/s", "-f", "json", &app.url], &callbacks(total));
    // Two deliveries ended: interrupt while the pacing waits for the third.
    for _ in 0..2 {
        let line = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(line.contains("\"type\":\"delivery\""), "{line}");
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(child.wait().unwrap().code(), Some(1), "an interrupted run is no success");
    let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(summary["type"], "delivery_summary");
    assert_eq!(summary["interrupted"], true);
    let deliveries = summary["deliveries"].as_u64().unwrap();
    assert!(deliveries >= 2 && deliveries < total as u64, "{summary}");
    assert_eq!(summary["not_sent"].as_u64().unwrap() + deliveries, total as u64, "{summary}");
    assert_eq!(summary["not_json"], 0);
}

#[test]
fn ctrl_c_in_the_human_view_names_what_was_not_sent() {
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/tiw");
    let (mut child, lines) = spawn(&["send", "--rate", "20/s", &app.url], &callbacks(50));
    lines.recv_timeout(Duration::from_secs(30)).unwrap();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    let summary = rest.last().unwrap();
    assert!(summary.contains("not sent (interrupted); interrupted"), "{summary}");
}

#[test]
fn a_receiver_that_closes_kept_alive_connections_costs_no_attempt() {
    // Answers the first request of each connection as HTTP/1.1 without `Connection: close`, so
    // the client keeps the connection; the next request on it finds it closed before any byte of
    // an answer (as when a server's keep-alive timeout closes an idle connection).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tiw", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if read_request(&mut reader).is_some() {
                    let _ = stream.write_all(OK);
                }
                // Wait for the next request on this connection, then hang up without a word.
                read_request(&mut reader);
            });
        }
    });
    let output = tiwhook()
        .args(["send", "--retries", "0", "-f", "json", &url])
        .write_stdin(callbacks(5))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let lines = json_lines(&output.stdout);
    let summary = lines.last().unwrap();
    assert_eq!((summary["accepted"].as_u64(), summary["retried"].as_u64()), (Some(5), Some(0)), "{lines:?}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_progress_line_shows_on_a_terminal_and_not_with_quiet() {
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/tiw");
    let dir = temp_dir("progress");
    let input = dir.join("in.ndjson");
    std::fs::write(&input, callbacks(8)).unwrap();
    // `script` gives the command a terminal, as a person's shell would.
    let run = |quiet: &str| {
        let command = format!(
            "{} send --rate 4/s {quiet} {} {}",
            env!("CARGO_BIN_EXE_tiwhook"),
            app.url,
            input.display()
        );
        let output = Command::new("script").args(["-qec", &command, "/dev/null"]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = run("");
    assert!(shown.contains("accepted, 0 failed, ") && shown.contains(" in flight, "), "{shown}");
    assert!(shown.contains("8 deliveries sent: 8 accepted"), "{shown}");
    let quiet = run("-q");
    assert!(!quiet.contains(" in flight, "), "{quiet}");
}

/// Runs `tiwhook ARGS` under `ulimit -v` (64 MiB of address space) for at most `seconds`; the
/// exit code, or `None` when it was still running (reading, in bounded memory) at the end.
fn bounded(args: &[&str], seconds: u64) -> (Option<i32>, String) {
    let script = "ulimit -v 65536; exec \"$0\" \"$@\"";
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_tiwhook"))
        .args(args)
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.code().unwrap_or(-1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, reading.join().unwrap())
}

#[test]
fn whole_input_commands_read_a_bomb_a_sparse_file_and_dev_zero_in_bounded_memory() {
    let dir = temp_dir("bounded");
    let bomb = dir.join("bomb.ndjson.gz");
    let sparse = dir.join("sparse.ndjson");
    // 128 MiB of zeros in about half a MiB, and a 256 MiB file with no blocks: each far more
    // than the 64 MiB of address space the commands get.
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 134217728 /dev/zero | gzip -1 > {} && truncate -s 256M {}",
            bomb.display(),
            sparse.display()
        ))
        .status()
        .unwrap();
    assert!(made.success());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/");
    let commands: [&[&str]; 4] = [
        &["send", &url],
        &["send", "--raw", &url],
        &["capture", "bodies"],
        &["sign", "--key", "k", "--expire-at", "1"],
    ];
    for command in commands {
        for input in [&bomb, &sparse] {
            let args: Vec<&str> = command.iter().copied().chain([input.to_str().unwrap()]).collect();
            let (code, stderr) = bounded(&args, 120);
            // Each ends with a clear message: nothing there is a callback.
            assert!(matches!(code, Some(1 | 2)), "{args:?}: {code:?} {stderr}");
            let said = ["not sent", "not a capture line", "not a callback", "over 16 MiB"];
            assert!(said.iter().any(|s| stderr.contains(s)), "{args:?}: {stderr}");
            assert!(!stderr.contains("memory allocation"), "{args:?}: {stderr}");
        }
        // /dev/zero is read for as long as it lasts, or refused with a message; never a crash.
        let args: Vec<&str> = command.iter().copied().chain(["/dev/zero"]).collect();
        let (code, stderr) = bounded(&args, 3);
        assert!(
            code.is_none() || code == Some(2) && stderr.contains("not a callback"),
            "{args:?}: {code:?} {stderr}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sign_in_place_refuses_hard_links_and_keeps_the_owner() {
    let dir = temp_dir("sign-links");
    let file = dir.join("fixture.json");
    std::fs::write(&file, started_line("a")).unwrap();
    let other = dir.join("other-name.json");
    std::fs::hard_link(&file, &other).unwrap();
    let sign = |path: &std::path::Path| {
        tiwhook()
            .args(["sign", "--key", "k2", "--expire-at", "4102444800", "--in-place", path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let refused = sign(&file);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("other hard links"), "{refused:?}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), started_line("a"), "both names keep one text");
    std::fs::remove_file(&other).unwrap();
    // As root, the owner and group of the file are kept.
    if unsafe { libc::geteuid() } == 0 {
        use std::os::unix::fs::MetadataExt;
        std::os::unix::fs::chown(&file, Some(4321), Some(4322)).unwrap();
        assert_eq!(sign(&file).status.code(), Some(0));
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
    } else {
        eprintln!("skipped the owner check: it needs root to give the file another owner");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn example_tells_one_story_and_seeds_differ() {
    let story = tiwhook()
        .args(["example", "--task", "t1", "--key", KEY, "WhiteboardPushStarted", "WhiteboardPushStopped"])
        .output()
        .unwrap();
    assert!(story.status.success());
    let text = String::from_utf8(story.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "one callback per line: {text}");
    let output =
        tiwhook_fixed(&["timeline", "--format", "json", "--key", KEY]).write_stdin(text).output().unwrap();
    let lines = json_lines(&output.stdout);
    assert_eq!(lines[0]["type"], "task");
    assert_eq!(lines[0]["task_id"], "t1");
    assert_eq!(lines[0]["state"], "finished", "{:?}", lines[0]);
    assert!(lines[0]["duration_seconds"].as_u64().unwrap() > 0);
    assert_eq!(lines[0]["warnings"].as_array().unwrap().len(), 0, "{:?}", lines[0]);
    let task = |seed: &str| {
        let output = tiwhook().args(["example", "--seed", seed, "WhiteboardPushStarted"]).output().unwrap();
        let sample: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        sample["EventData"]["TaskId"].as_str().unwrap().to_string()
    };
    assert_ne!(task("0"), task("1"));
    let listed = tiwhook().arg("example").output().unwrap();
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).lines().any(|l| l == "WhiteboardPushStopped"));
}

#[test]
fn send_goes_on_with_stdout_and_stderr_in_a_pipe_nobody_reads_and_ctrl_c_ends_it() {
    let app = TestApp::start(Answers::OneAtATime { backlog: 64 }, "/tiw");
    let dir = temp_dir("send-blocked");
    let input = dir.join("in.ndjson");
    // Far more report than a pipe holds, and a line that is not JSON for stderr.
    std::fs::write(&input, format!("not json\n{}", callbacks(3000))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["send", "--concurrency", "4", &app.url, input.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Neither pipe is read: the deliveries go on all the same.
    let (_out, _err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    assert_eq!(app.wait_for(3000, Duration::from_secs(120)).len(), 3000);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "Ctrl-C did not end it");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1), "its report could not be written: not a success");
}
