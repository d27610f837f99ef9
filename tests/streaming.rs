//! Live input: a callback written into a pipe that stays open is reported before the next one is
//! written, in every format that reports callbacks one by one.
//!
//! No test here measures time. Each waits for the report it expects, with a generous timeout
//! only so that a regression fails instead of hanging the suite.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{KEY, NOW, started_line};

/// How long to wait for a report before calling it lost.
const PATIENCE: Duration = Duration::from_secs(60);

/// `tiwhook` reading a pipe we keep open, with its output lines arriving on a channel.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Live {
    fn start(args: &[&str]) -> Live {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tiwhook"));
        command.current_dir(env!("CARGO_MANIFEST_DIR"));
        for var in ["NO_COLOR", "CLICOLOR_FORCE", "TZ", "TIW_CALLBACK_KEY"] {
            command.env_remove(var);
        }
        command.args(args).args(["--now", NOW, "--tz", "UTC", "--color", "never"]);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tiwhook starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Live { stdin: child.stdin.take(), child, lines, seen: Vec::new() }
    }

    /// Writes `text` into the pipe, and leaves it open.
    fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).expect("tiwhook reads");
        stdin.flush().expect("tiwhook reads");
    }

    /// Waits for an output line that contains `wanted`, and returns it.
    fn wait_for(&mut self, wanted: &str) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(wanted) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {wanted:?} while the pipe stayed open; saw {:#?}", self.seen),
            }
        }
    }

    /// Closes the pipe and returns the exit status and the lines printed after the last wait.
    fn finish(mut self) -> (i32, Vec<String>) {
        drop(self.stdin.take());
        let rest: Vec<String> = self.lines.iter().collect();
        let status = self.child.wait().expect("tiwhook ends");
        (status.code().expect("exited"), rest)
    }
}

fn stopped_without_room(task: &str) -> String {
    format!(
        r#"{{"EventType":"WhiteboardPushStopped","EventData":{{"TaskId":"{task}","PushStartTime":1764054000,"PushStopTime":1764054060,"FinishReason":"AUTO"}},"SdkAppId":1400313729,"Timestamp":1764054061}}"#
    )
}

#[test]
fn json_lines_follow_a_live_pipe() {
    let mut live = Live::start(&["check", "--format", "json", "--key", KEY]);
    for i in 0..3 {
        let task = format!("live{i}");
        live.write(&format!("{}\n", started_line(&task)));
        let line = live.wait_for(&task);
        assert!(line.contains(&format!(r#""index":{i}"#)), "{line}");
        assert!(line.contains(r#""verdict":"valid""#), "{line}");
    }
    let (code, rest) = live.finish();
    assert_eq!(code, 0);
    assert!(rest.last().is_some_and(|l| l.contains(r#""type":"summary""#) && l.contains(r#""callbacks":3"#)));
}

#[test]
fn the_detailed_view_follows_a_live_pipe() {
    let mut live = Live::start(&["inspect", "--key", KEY]);
    for i in 0..2 {
        let task = format!("detail{i}");
        live.write(&format!("{}\n", started_line(&task)));
        live.wait_for(&format!("-:{}  WhiteboardPushStarted", i + 1));
        live.wait_for(&task);
        live.wait_for("Expires");
    }
    let (code, rest) = live.finish();
    assert_eq!(code, 0);
    assert!(rest.iter().any(|l| l.contains("2 callbacks in 1 source")), "{rest:?}");
}

#[test]
fn check_findings_follow_a_live_pipe() {
    let mut live = Live::start(&["check"]);
    for i in 0..2 {
        live.write(&format!("{}\n", stopped_without_room(&format!("broken{i}"))));
        live.wait_for(&format!("-:{}:", i + 1));
    }
    let (code, _) = live.finish();
    assert_eq!(code, 1);
}

#[test]
fn github_annotations_follow_a_live_pipe() {
    let mut live = Live::start(&["check", "--format", "github"]);
    for i in 0..2 {
        live.write(&format!("{}\n", stopped_without_room(&format!("gh{i}"))));
        live.wait_for(&format!("line={}", i + 1));
    }
    let (code, _) = live.finish();
    assert_eq!(code, 1);
}

#[test]
fn a_callback_cut_across_writes_is_reported_once_whole() {
    let mut live = Live::start(&["check", "--format", "json", "--key", KEY]);
    let line = started_line("halves");
    let (head, tail) = line.split_at(line.len() / 2);
    live.write(head);
    // The first half alone gives no report; the second completes it.
    live.write(&format!("{tail}\n"));
    live.wait_for("halves");
    live.write("not json\n");
    live.wait_for("invalid-json");
    let (code, rest) = live.finish();
    assert_eq!(code, 1);
    assert!(rest.last().is_some_and(|l| l.contains(r#""callbacks":2"#)), "{rest:?}");
}

#[test]
fn a_live_log_is_followed_line_by_line() {
    let mut live = Live::start(&["check", "--extract", "--format", "json", "--key", KEY]);
    for i in 0..3 {
        let task = format!("logged{i}");
        live.write(&format!("2025-11-25 12:00:0{i},000 INFO [tiw] noise before\n"));
        live.write(&format!("2025-11-25 12:00:0{i},500 INFO [tiw] callback: {}\n", started_line(&task)));
        let line = live.wait_for(&task);
        assert!(line.contains(&format!(r#""line":{}"#, 2 * i + 2)), "{line}");
        assert!(line.contains(r#""column":46"#), "{line}");
    }
    let (code, rest) = live.finish();
    assert_eq!(code, 0);
    assert!(rest.last().is_some_and(|l| l.contains(r#""lines":6"#)), "{rest:?}");
}

#[test]
fn a_pipe_named_by_its_path_is_followed_as_it_comes() {
    // `tiwhook check <(kubectl logs -f …)` names the pipe as a path (`/dev/fd/63`), as does
    // `/dev/stdin` here: a path that is not a regular file may wait for bytes, as stdin may.
    for threads in ["-j1", "-j2"] {
        let mut live = Live::start(&["check", "--format", "json", "--key", KEY, threads, "/dev/stdin"]);
        for i in 0..2 {
            let task = format!("named{i}");
            live.write(&format!("{}\n", started_line(&task)));
            let line = live.wait_for(&task);
            assert!(line.contains(r#""source":"/dev/stdin""#), "{line}");
        }
        let (code, rest) = live.finish();
        assert_eq!(code, 0, "{threads}");
        assert!(rest.last().is_some_and(|l| l.contains(r#""callbacks":2"#)), "{threads}: {rest:?}");
    }
}
