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

/// One request an application under test received: its head (request line and headers, as
/// sent) and its body.
#[derive(Clone, Debug)]
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (case-insensitive), if it was sent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }
}

/// Reads one HTTP/1.1 request (its head and a `Content-Length` body) from `reader`; `None` at
/// the end of the connection.
pub fn read_request(reader: &mut impl std::io::BufRead) -> Option<Received> {
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { head, body })
}

/// How a test application answers.
pub enum Answers {
    /// 200 to every request, one connection at a time (as Python's single-threaded
    /// `http.server`), with an accept backlog of `backlog` connections.
    OneAtATime { backlog: i32 },
    /// Accepts connections and reads what comes, but never answers.
    Never,
    /// The n-th request (from 0) gets `answer(n)`: a status and a body, or `None` to hold the
    /// connection open without answering; one connection at a time.
    Each(Box<dyn Fn(usize) -> Option<(u16, &'static str)> + Send>),
}

/// An application on a loopback port, recording what it receives: the one stand-in for a
/// receiver or an application behind `listen` that the tests share.
pub struct TestApp {
    pub url: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl TestApp {
    pub fn start(answers: Answers, path: &str) -> TestApp {
        use std::io::{BufReader, Write};
        type Answer = Box<dyn Fn(usize) -> Option<(u16, &'static str)> + Send>;
        let never = matches!(answers, Answers::Never);
        let (backlog, answer): (i32, Answer) = match answers {
            Answers::OneAtATime { backlog } => (backlog, Box::new(|_| Some((200, "{\"error_code\":0}")))),
            Answers::Never => (128, Box::new(|_| None)),
            Answers::Each(answer) => (128, answer),
        };
        let listener = listener_with_backlog(backlog);
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                if never {
                    // Not even read: a black hole.
                    held.push(stream);
                    continue;
                }
                // One request per connection, then close it, as `http.server` does by default.
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let Some(request) = read_request(&mut reader) else { continue };
                sink.lock().unwrap().push(request);
                match answer(n) {
                    Some((status, text)) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                            text.len()
                        );
                    }
                    None => held.push(stream),
                }
            }
        });
        TestApp { url, received }
    }

    /// The bodies received so far, in order.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().iter().map(|r| r.body.clone()).collect()
    }

    /// Waits up to `within` until at least `n` requests have arrived; returns them all.
    pub fn wait_for(&self, n: usize, within: std::time::Duration) -> Vec<Received> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= n || std::time::Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// A loopback listener whose accept queue holds `backlog` connections (std's holds 128).
fn listener_with_backlog(backlog: i32) -> std::net::TcpListener {
    use std::os::fd::FromRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // Listening again on a listening socket only changes its backlog.
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    assert_eq!(unsafe { libc::listen(fd, backlog) }, 0);
    let fd = std::os::fd::IntoRawFd::into_raw_fd(listener);
    unsafe { std::net::TcpListener::from_raw_fd(fd) }
}

/// What becomes of a running receiver's stdout or stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Read line by line into [`Running`]'s buffers.
    Read,
    /// A pipe kept open and never read: writes fill it, then block.
    NeverRead,
}

/// A `tiwhook listen` child on a free loopback port, with its output collected (or not).
pub struct Running {
    pub child: std::process::Child,
    /// `ip:port` it listens on.
    pub address: String,
    /// Its first line: `listening on http://ADDR`, or the `listening` JSON line.
    pub first: String,
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Running {
    /// `tiwhook listen --addr 127.0.0.1:0 --color never --tz UTC ARGS`, both streams read.
    pub fn listen(args: &[&str]) -> Running {
        Running::start("", args, Stream::Read, Stream::Read)
    }

    /// Starts `tiwhook listen --color never --tz UTC ARGS` (on `--addr 127.0.0.1:0` unless ARGS
    /// name an address) through `sh` after `limits` (`ulimit …;` or nothing), and reads its first
    /// line for the address.
    pub fn start(limits: &str, args: &[&str], stdout: Stream, stderr: Stream) -> Running {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let addr = if args.contains(&"--addr") { "" } else { "--addr 127.0.0.1:0" };
        let script = format!("{limits} exec \"$0\" listen {addr} --color never --tz UTC \"$@\"");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_tiwhook"))
            .args(args)
            .env_remove("TIW_CALLBACK_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let address = match serde_json::from_str::<serde_json::Value>(&first) {
            Ok(line) => line["url"].as_str().unwrap().trim_start_matches("http://").to_string(),
            Err(_) => first.trim().strip_prefix("listening on http://").expect("the address").to_string(),
        };
        let collect = |reader: Box<dyn std::io::Read + Send>, how: Stream| {
            let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = lines.clone();
            match how {
                Stream::Read => {
                    std::thread::spawn(move || {
                        for line in std::io::BufReader::new(reader).lines().map_while(Result::ok) {
                            sink.lock().unwrap().push(line);
                        }
                    });
                }
                Stream::NeverRead => std::mem::forget(reader),
            }
            lines
        };
        let stdout = collect(Box::new(out), stdout);
        let stderr = collect(Box::new(child.stderr.take().unwrap()), stderr);
        Running { child, address, first: first.trim().to_string(), stdout, stderr }
    }

    /// Sends one request with `headers` (`Name: value` lines) on a connection of its own; the
    /// status (0 when no answer came within 30 s) and the body of the answer.
    pub fn request(&self, method: &str, target: &str, headers: &str, body: &[u8]) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_string())
    }

    /// POSTs `body` to `target` with `headers`; the status, as [`Running::request`].
    pub fn post(&self, target: &str, headers: &str, body: &[u8]) -> u16 {
        self.request("POST", target, headers, body).0
    }

    /// POSTs a JSON `body` to `target`; the status and the answer's body.
    pub fn post_json(&self, target: &str, body: &[u8]) -> (u16, String) {
        self.request("POST", target, "Content-Type: application/json\r\n", body)
    }

    /// Stops it with SIGTERM; its exit code (it must stop within 15 s).
    pub fn stop(mut self) -> i32 {
        self.signal(libc::SIGTERM);
        self.wait(std::time::Duration::from_secs(15)).expect("the receiver stops on SIGTERM")
    }

    /// Sends `signal` to the receiver.
    pub fn signal(&self, signal: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Waits up to `within` for the receiver to exit; its exit code, or `None` if it is still
    /// running (then it is killed).
    pub fn wait(&mut self, within: std::time::Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits up to 10 s until stdout holds `n` lines that satisfy `matching`; those lines.
    pub fn wait_for_lines(&self, n: usize, matching: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found: Vec<String> =
                self.stdout.lock().unwrap().iter().filter(|l| matching(l)).cloned().collect();
            if found.len() >= n || std::time::Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits up to 10 s until stdout (or stderr) holds a line containing `text`; all its lines.
    pub fn wait_for(&self, on_stderr: bool, text: &str) -> Vec<String> {
        let lines = if on_stderr { &self.stderr } else { &self.stdout };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let now = lines.lock().unwrap().clone();
            if now.iter().any(|l| l.contains(text)) || std::time::Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
