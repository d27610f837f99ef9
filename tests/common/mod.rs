//! Helpers shared by the integration tests: the binary with a clean, fixed environment.
#![allow(dead_code)]

use std::path::PathBuf;

/// The key the signed fixtures are signed with (see fixtures/README.md).
pub const KEY: &str = "tiwhook-test-key";
/// A fixed clock: the signed fixtures' ExpireTime (2100) is after it, the docs samples' before.
pub const NOW: &str = "2025-11-25T12:00:00Z";

/// `tiwhook` run from the project root, with no color, zone or key leaking in from outside.
pub fn tiwhook() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tiwhook"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for var in ["NO_COLOR", "CLICOLOR_FORCE", "TZ", "TIW_CALLBACK_KEY"] {
        cmd.env_remove(var);
    }
    cmd
}

/// `tiwhook` with the fixed clock, zone and no color, followed by `args`.
pub fn tiwhook_fixed(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = tiwhook();
    cmd.args(args).args(["--now", NOW, "--tz", "UTC", "--color", "never"]);
    cmd
}

pub fn fixture(path: &str) -> String {
    format!("fixtures/{path}")
}

pub fn read_fixture(path: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path))
        .expect("fixture exists")
}

/// The JSON Lines of a run, parsed.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// Runs `args` with `--format json` and returns the callback lines (other lines, such as
/// `unreadable`, left out) and the summary line.
pub fn run_json(args: &[&str], stdin: Option<&str>) -> (Vec<serde_json::Value>, serde_json::Value, i32) {
    let mut cmd = tiwhook_fixed(args);
    cmd.args(["--format", "json"]);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_string());
    }
    let output = cmd.output().expect("runs");
    let mut lines = json_lines(&output.stdout);
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["type"], "summary");
    lines.retain(|line| line["type"] == "callback");
    (lines, summary, output.status.code().expect("exited"))
}

/// A signed push callback on one line, with `task` as its TaskId.
pub fn started_line(task: &str) -> String {
    let expire = 4102444800u64;
    let sign = tiwhook::judge::signature::sign(KEY.as_bytes(), expire);
    format!(
        r#"{{"EventType":"WhiteboardPushStarted","EventData":{{"TaskId":"{task}","RoomId":880528,"PushUserId":"tic_push_user_880528_01","PushStartTime":1764054000}},"SdkAppId":1400313729,"Timestamp":1764054001,"ExpireTime":{expire},"Sign":"{sign}"}}"#
    )
}

/// The output with tiwhook's own SGR color codes removed, and nothing else: any other escape
/// sequence stays, for `assert_terminal_safe` to find.
pub fn strip_colors(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        match tail.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if tail.as_bytes()[end] == b'm' => rest = &tail[end + 1..],
            _ => {
                out.push_str("\x1b[");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Fails if any character a terminal would act on is left in `text`, apart from line feeds and
/// the SGR color codes tiwhook writes itself.
pub fn assert_terminal_safe(text: &str, what: &str) {
    let clean = strip_colors(text);
    let bad = clean.chars().find(|&c| c != '\n' && tiwhook::sanitize::is_unsafe(c));
    assert_eq!(bad, None, "{what}: {clean:?}");
}

/// A fresh, empty directory in the system temp directory, unique to this test process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiwhook-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A listening `tiwhook listen`: the child, the rest of its stdout, and its first line.
pub type Listening = (std::process::Child, std::io::BufReader<std::process::ChildStdout>, String);

/// `tiwhook listen` on a free loopback port with `args`, with its stdout piped and its first line
/// (`listening on http://ADDR`) read.
pub fn listen(args: &[&str]) -> Listening {
    listen_at("127.0.0.1:0", args)
}

/// [`listen`] on `--addr addr`.
pub fn listen_at(addr: &str, args: &[&str]) -> Listening {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["listen", "--addr", addr, "--color", "never", "--tz", "UTC"])
        .args(args)
        .env_remove("TIW_CALLBACK_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    (child, stdout, first.trim().to_string())
}
