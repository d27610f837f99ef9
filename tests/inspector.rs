//! `listen --ui`, the local inspector page, driven through a real headless Chromium (Debian's
//! package) over the DevTools protocol: callbacks appear live, an opened one shows its findings,
//! a hostile `TaskId` stays text, replay reaches an application, and the page holds 20,000
//! callbacks in bounded memory. The refusals (no token, another `Host`, another origin) are
//! plain HTTP.
//!
//! Without Chromium these tests say so and pass, unless `TIWHOOK_REQUIRE_BROWSER=1` (as `.ci/run`
//! sets it), where a missing browser fails them. `apt-get install chromium` installs it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A headless Chromium and one page in it, spoken to over the DevTools protocol.
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser, or `None` (said on stderr) when Chromium is not installed and not required.
fn browser() -> Option<Browser> {
    let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(path) = path else {
        if std::env::var("TIWHOOK_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "no Chromium at /usr/bin/chromium, and TIWHOOK_REQUIRE_BROWSER=1: apt-get install chromium"
            );
        }
        eprintln!("skipped: a browser test needs Chromium (apt-get install chromium)");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(path)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let endpoint = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "Chromium ended before it listened");
        if let Some(at) = line.find("ws://") {
            break line[at..].trim().to_string();
        }
    };
    // Keep draining its stderr, so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    let (socket, _) = tungstenite::connect(&endpoint).unwrap();
    let mut browser = Browser { child, socket, session: String::new(), next_id: 0, _profile: profile };
    let target = browser.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached =
        browser.call(None, "Target.attachToTarget", json!({"targetId": target["targetId"], "flatten": true}));
    browser.session = attached["sessionId"].as_str().unwrap().to_string();
    Some(browser)
}

impl Browser {
    /// Sends one command and waits for its result (events in between are passed over).
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(tungstenite::Message::text(message.to_string())).unwrap();
        loop {
            let reply = self.socket.read().unwrap();
            let Ok(text) = reply.to_text() else { continue };
            let value: Value = serde_json::from_str(text).unwrap();
            if value["id"] == id {
                assert!(value["error"].is_null(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params)
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.page(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        result["result"]["value"].clone()
    }

    /// Waits (10 s at most) until `expression` is true in the page.
    fn wait_until(&mut self, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(expression) != json!(true) {
            assert!(Instant::now() < deadline, "never true: {expression}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn open(&mut self, url: &str) {
        self.page(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.page("Page.navigate", json!({"url": url}));
        self.wait_until("document.readyState === 'complete' && !!document.getElementById('rows')");
    }

    fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine as _;
        let shot = self.page("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// A receiver with its page: the child, the callback address, the page's URL.
fn receiver(extra: &[&str]) -> (Running, String) {
    let mut args = vec!["--ui", "127.0.0.1:0", "--key", KEY, "--compact"];
    args.extend_from_slice(extra);
    let running = Running::start("", &args, Stream::Read, Stream::Read);
    let lines = running.wait_for(false, "inspector on ");
    let page =
        lines.iter().find_map(|l| l.strip_prefix("inspector on ")).expect("the page's URL").to_string();
    (running, page)
}

/// A plain GET of `url` with `headers`: the status.
fn get(url: &str, headers: &str) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (address, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(address).unwrap();
    let host = if headers.contains("Host:") { String::new() } else { format!("Host: {address}\r\n") };
    write!(stream, "GET {path} HTTP/1.1\r\n{host}{headers}Connection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn the_page_refuses_requests_without_its_token_from_another_host_or_origin() {
    let (mut running, page) = receiver(&[]);
    let token = page.split("token=").nth(1).unwrap().to_string();
    let base = page.split("/?").next().unwrap().to_string();
    assert_eq!(get(&page, ""), 200);
    assert_eq!(get(&format!("{base}/api/callbacks"), ""), 403, "no token");
    assert_eq!(get(&format!("{base}/api/callbacks?token=0000"), ""), 403, "another token");
    let address = base.trim_start_matches("http://");
    let port = address.rsplit(':').next().unwrap();
    assert_eq!(get(&page, &format!("Host: rebind.example:{port}\r\n")), 403, "DNS rebinding");
    assert_eq!(get(&page, &format!("Host: localhost:{port}\r\n")), 200);
    // A replay from another origin is refused, even with the token.
    let mut stream = TcpStream::connect(address).unwrap();
    let body = "{\"id\":0}";
    write!(
        stream,
        "POST /api/replay?token={token} HTTP/1.1\r\nHost: {address}\r\nOrigin: http://evil.example\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    running.signal(libc::SIGTERM);
    running.wait(Duration::from_secs(15));
}

#[test]
fn the_page_shows_callbacks_live_safely_opens_them_and_replays_them() {
    let Some(mut browser) = browser() else { return };
    let app = TestApp::start(Answers::OneAtATime { backlog: 16 }, "/app");
    let (mut running, page) = receiver(&["--forward-to", &app.url]);
    let post =
        |running: &Running, body: &str| assert_eq!(running.post("/tiw?src=test", "", body.as_bytes()), 200);
    post(&running, &started_line("first-task"));
    browser.open(&page);
    browser.wait_until("document.querySelectorAll('#rows tr').length === 1");
    // Posted after the page opened: it appears without a reload.
    let stop = read_fixture("signed/push-stopped.json");
    post(&running, &stop);
    browser.wait_until("document.querySelectorAll('#rows tr').length === 2");
    // A hostile TaskId is shown as text, and runs nothing.
    let hostile = "<img src=x onerror=\"window.pwned=1\">";
    post(&running, &started_line(&hostile.replace('"', "\\\"")));
    browser.wait_until("document.querySelectorAll('#rows tr').length === 3");
    let text = browser.eval("document.querySelector('#rows tr').cells[3].textContent");
    assert_eq!(text, json!(hostile));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(browser.eval("typeof window.pwned"), json!("undefined"), "the payload ran");
    assert_eq!(browser.eval("document.querySelectorAll('#rows img').length"), json!(0));
    // A forged callback: opened, it shows its findings.
    post(&running, &read_fixture("tour/3-push-stopped-forged.json"));
    browser.wait_until("document.querySelectorAll('#rows tr').length === 4");
    browser.eval("document.querySelector('#rows tr').click()");
    browser.wait_until(
        "document.getElementById('detail-findings').textContent.includes('error[signature-mismatch]')",
    );
    let request = browser.eval("document.getElementById('detail-request').textContent");
    assert!(request.as_str().unwrap().contains("POST /tiw?src=test"), "{request}");
    let detail = browser.eval("document.getElementById('detail-text').textContent");
    assert!(detail.as_str().unwrap().contains("Signature      mismatch"), "{detail}");
    // Replay: the application gets the body again, and its answer is shown.
    let before = app.wait_for(4, Duration::from_secs(10)).len();
    browser.eval("document.getElementById('replay').click()");
    browser.wait_until("document.getElementById('replay-answer').textContent.includes('answered 200')");
    let received = app.wait_for(before + 1, Duration::from_secs(10));
    assert_eq!(received.last().unwrap().body, read_fixture("tour/3-push-stopped-forged.json").into_bytes());
    // The tasks: the first push is running, the stopped one finished.
    browser.eval("document.getElementById('tab-tasks').click()");
    browser.wait_until("document.getElementById('task-rows').textContent.includes('first-task')");
    assert!(
        browser
            .eval("document.getElementById('task-rows').textContent")
            .as_str()
            .unwrap()
            .contains("running")
    );
    browser.eval("document.getElementById('tab-callbacks').click()");
    let shot = match std::env::var_os("TIWHOOK_UPDATE_SCREENSHOT") {
        Some(_) => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/inspector.png"),
        None => std::env::temp_dir().join("tiwhook-inspector.png"),
    };
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    running.signal(libc::SIGTERM);
    running.wait(Duration::from_secs(15));
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_page_loads_with_twenty_thousand_callbacks_in_bounded_memory() {
    let Some(mut browser) = browser() else { return };
    let (mut running, page) = receiver(&[]);
    let started = Instant::now();
    // 20,000 callbacks over a few kept-alive connections.
    std::thread::scope(|scope| {
        for client in 0..4 {
            let address = running.address.clone();
            scope.spawn(move || {
                let connection = TcpStream::connect(&address).unwrap();
                // One write per request, sent at once (no waiting on Nagle and a delayed ACK).
                connection.set_nodelay(true).unwrap();
                let mut stream = BufReader::new(connection);
                for n in 0..5000 {
                    let body = started_line(&format!("load{client}-{n:05}"));
                    let request = format!(
                        "POST /tiw HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.get_mut().write_all(request.as_bytes()).unwrap();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        stream.read_line(&mut line).unwrap();
                        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut answer = vec![0; length];
                    stream.read_exact(&mut answer).unwrap();
                }
            });
        }
    });
    browser.open(&page);
    browser.wait_until("document.querySelectorAll('#rows tr').length === 500");
    eprintln!("20,000 callbacks received and the page drawn in {:?}", started.elapsed());
    // The page keeps what listen keeps, the last 10,000 (and some, between trims).
    browser.wait_until("/^\\d+ more not drawn$/.test(document.getElementById('hidden-count').textContent)");
    let note = browser.eval("parseInt(document.getElementById('hidden-count').textContent)");
    let more = note.as_u64().unwrap();
    assert!((9_500..=10_500).contains(&more), "{more} more not drawn");
    let rss = rss_kib(running.child.id());
    assert!(rss < 256 * 1024, "listen holds {rss} KiB");
    running.signal(libc::SIGTERM);
    running.wait(Duration::from_secs(15));
}

#[test]
fn the_page_starts_with_the_tail_of_the_save_file() {
    let dir = temp_dir("ui-history");
    let save = dir.join("save.ndjson");
    let line = |task: &str| {
        format!(
            "{{\"tiwhook_capture\":1,\"received_at\":\"2025-11-25T04:00:01.123Z\",\"peer\":\"203.0.113.9:1\",\"method\":\"POST\",\"path\":\"/tiw?x=1\",\"content_type\":\"application/json\",\"body\":{}}}\n",
            started_line(task)
        )
    };
    // A blank line between them: the page names each by its own line of the file.
    std::fs::write(&save, line("from-yesterday") + "\n" + &line("from-this-morning")).unwrap();
    let (mut running, page) = receiver(&["--save", save.to_str().unwrap()]);
    let base = page.split("/?").next().unwrap().to_string();
    let token = page.split("token=").nth(1).unwrap().to_string();
    let address = base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /api/callbacks?token={token} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let list: Value = serde_json::from_str(body).unwrap();
    let tasks: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["task_id"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["from-yesterday", "from-this-morning"]);
    assert_eq!(list[0]["label"], "line 1");
    assert_eq!(list[1]["label"], "line 3");
    assert_eq!(list[1]["saved"], true);
    assert_eq!(list[1]["verdict"], "valid", "judged as it was when it arrived: {}", list[1]);
    running.signal(libc::SIGTERM);
    running.wait(Duration::from_secs(15));
}
