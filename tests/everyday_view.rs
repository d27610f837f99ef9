//! The everyday view (issue: one line per callback, hints that teach once, messages that name
//! the cause): what a person sees on a terminal, through the real binary.

mod common;

use common::*;

fn flat(path: &str) -> String {
    read_fixture(path).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_line_cut_short_is_reported_on_its_own_line_and_the_next_is_read() {
    let line = flat("signed/push-started.json");
    for cut in [60, 80] {
        let input = format!("{line}\n{}\n{line}\n", &line[..cut]);
        let output = tiwhook_fixed(&["check", "--key", KEY]).write_stdin(input).output().unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("-:2:"), "blamed on line 2: {first}");
        assert!(first.contains("cut off before its end: line 3 starts another document"), "{first}");
        assert!(text.contains("3 callbacks in 1 source: 2 valid, 1 invalid"), "{text}");
    }
}

#[test]
fn a_misspelt_event_type_is_an_error_that_names_the_right_one() {
    let line = flat("signed/push-stopped.json").replace("WhiteboardPushStopped", "WhiteboardPushStoped");
    let (callbacks, _, code) = run_json(&["check", "--key", KEY], Some(&line));
    assert_eq!(code, 1);
    assert_eq!(callbacks[0]["errors"][0]["code"], "misspelt-event-type");
    assert!(
        callbacks[0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `WhiteboardPushStopped`?")
    );
    // A name far from every known one stays a warning: Tencent adds events.
    let new = flat("signed/push-stopped.json").replace("WhiteboardPushStopped", "WhiteboardPushPaused");
    let (callbacks, _, code) = run_json(&["check", "--key", KEY], Some(&new));
    assert_eq!((code, callbacks[0]["warnings"][0]["code"].as_str()), (0, Some("unknown-event-type")));
}

#[test]
fn json_that_is_no_object_is_not_an_object_not_invalid_json() {
    for text in ["true", "false", "null", "-0.1", "42", "\"x\""] {
        let (callbacks, _, code) = run_json(&["check"], Some(text));
        assert_eq!(code, 1);
        assert_eq!(callbacks[0]["errors"][0]["code"], "not-an-object", "{text}");
    }
    let (callbacks, _, _) = run_json(&["check"], Some("tru"));
    assert_eq!(callbacks[0]["errors"][0]["code"], "invalid-json");
}

#[test]
fn each_help_is_shown_once_per_run_with_how_often_it_came_again() {
    let input: String = (0..200).map(|i| started_line(&format!("t{i}")) + "\n").collect();
    let output =
        tiwhook_fixed(&["check", "--key", "the-wrong-key"]).write_stdin(input.clone()).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("error[signature-mismatch]").count(), 200, "every finding is listed");
    let help = "each TIW feature (push, recording, transcoding, ...) has its own callback key";
    assert_eq!(text.matches(help).count(), 1, "once, under the first finding: {text}");
    assert!(
        text.contains("= help: the same applies to 199 more findings above (each TIW feature (push, recording, transcoding, …)"),
        "{text}"
    );
    assert!(text.lines().count() < 210, "{} lines", text.lines().count());
    // The detailed view likewise; machine formats keep every finding's help.
    let detailed = tiwhook_fixed(&["--key", "the-wrong-key"]).write_stdin(input.clone()).output().unwrap();
    let detailed = String::from_utf8(detailed.stdout).unwrap();
    assert_eq!(detailed.matches(help).count(), 1, "{detailed}");
    assert!(detailed.contains("help: the same applies to 199 more findings above"));
    let (callbacks, _, _) = run_json(&["check", "--key", "the-wrong-key"], Some(&input));
    assert!(callbacks.iter().all(|c| c["errors"][0]["message"].as_str().is_some()));
}

#[test]
fn compact_shows_each_callback_of_a_live_pipe_as_it_comes() {
    use std::io::{BufRead, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["-c", "--key", KEY, "--tz", "UTC", "--color", "never", "--now", NOW])
        .env_remove("TIW_CALLBACK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    for task in ["live1", "live2"] {
        stdin.write_all(format!("{}\n", started_line(task)).as_bytes()).unwrap();
        stdin.flush().unwrap();
        // The pipe stays open: the line must come now, not at the end.
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(
            line.contains(&format!("✓ WhiteboardPushStarted  task {task}  room 880528  sign valid")),
            "{line}"
        );
    }
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.starts_with("2 callbacks in 1 source: 2 valid"), "{rest}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn no_callbacks_found_names_the_files_left_out_and_bodies_are_read() {
    let output = tiwhook_fixed(&["check", &fixture("logs")]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("files were left out by their names") && stderr.contains("read them with --extract"),
        "{stderr}"
    );
    assert!(!stderr.contains("--allow-empty"), "the cause is named instead: {stderr}");
    // What `capture bodies --out-dir` writes is read back from its directory.
    let dir = temp_dir("bodies");
    let capture = dir.join("capture.ndjson");
    let line = format!(
        "{{\"tiwhook_capture\":1,\"received_at\":\"2025-11-25T04:00:01.123Z\",\"peer\":\"1.2.3.4:5\",\"method\":\"POST\",\"path\":\"/\",\"content_type\":\"application/json\",\"body\":{}}}\n",
        started_line("from-a-body")
    );
    std::fs::write(&capture, line).unwrap();
    let out = dir.join("bodies");
    tiwhook()
        .args(["capture", "bodies", "--out-dir", out.to_str().unwrap(), capture.to_str().unwrap()])
        .assert()
        .success();
    let (callbacks, _, code) = run_json(&["check", "--key", KEY, out.to_str().unwrap()], None);
    assert_eq!((code, callbacks.len()), (0, 1));
    assert_eq!(callbacks[0]["details"]["task_id"], "from-a-body");
    assert!(callbacks[0]["source"].as_str().unwrap().ends_with("000001.body"));
}

#[test]
fn utf16_files_as_windows_writes_them_are_read_or_named() {
    let dir = temp_dir("utf16");
    let text = format!("{}\r\n{}\r\n", started_line("ps1"), started_line("ps2"));
    let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let with_mark = dir.join("powershell.json");
    std::fs::write(&with_mark, [&[0xff, 0xfe][..], &units].concat()).unwrap();
    let output = tiwhook_fixed(&["check", "--key", KEY, with_mark.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 callbacks in 1 source: 2 valid"));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("this file is UTF-16 text (as PowerShell 5's `>` writes)")
    );
    let without = dir.join("no-mark.json");
    std::fs::write(&without, &units).unwrap();
    let output = tiwhook_fixed(&["check", "--key", KEY, without.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("this looks like UTF-16 text without a byte-order mark")
    );
}

#[test]
fn a_run_of_zero_bytes_is_named_as_such_not_as_utf16() {
    // What a log cut short by a crash often ends in: a callback, then the zeros of space the file
    // was given and never written.
    let dir = temp_dir("zeros");
    let file = dir.join("cut.ndjson");
    std::fs::write(&file, [format!("{}\n", started_line("before")).as_bytes(), &[0u8; 300]].concat())
        .unwrap();
    let output = tiwhook_fixed(&["check", "--key", KEY, file.to_str().unwrap()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout.contains(":2:1: error[invalid-json]"), "{stdout}");
    assert!(stdout.contains("the line is zero bytes, not text"), "{stdout}");
    assert!(!stdout.contains("UTF-16"), "{stdout}");
    assert!(stdout.contains("2 callbacks in 1 source: 1 valid, 1 invalid"), "{stdout}");
}

/// The display width of a line: CJK characters take two columns.
fn columns(line: &str) -> usize {
    line.chars().map(|c| if ('\u{2e80}'..='\u{9fff}').contains(&c) { 2 } else { 1 }).sum()
}

#[test]
fn the_timeline_fits_an_80_column_terminal() {
    // `script` gives the command a terminal of 80 columns; COLUMNS is not exported, as in a shell.
    let command = format!(
        "stty cols 80 rows 50; {} timeline --now 2025-11-25T12:00:00Z --tz UTC --color never fixtures/timeline/day.ndjson 2>/dev/null",
        env!("CARGO_BIN_EXE_tiwhook")
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap().replace('\r', "");
    assert!(text.contains("cq5v8kl2j7s1a0e4m9tb"), "{text}");
    for line in text.lines() {
        assert!(columns(line) <= 80, "{} columns: {line}", columns(line));
    }
    // Wider, the chart comes back.
    let wide =
        tiwhook_fixed(&["timeline", "--width", "160", &fixture("timeline/day.ndjson")]).output().unwrap();
    assert!(String::from_utf8(wide.stdout).unwrap().contains("====="));
}

#[test]
fn columns_align_by_display_width_for_chinese_text() {
    let line = |task: &str| flat("signed/push-stopped.json").replace("cq5v8kl2j7s1a0e4m9tb", task) + "\n";
    let input = line("李老师的课") + &line("plain-task-id");
    let output =
        tiwhook_fixed(&["timeline", "--key", KEY, "--width", "200"]).write_stdin(input).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let room_at = |needle: &str| {
        let row = text.lines().find(|l| l.starts_with(needle)).unwrap();
        columns(&row[..row.find("880528").unwrap()])
    };
    assert_eq!(room_at("李老师的课"), room_at("plain-task-id"), "{text}");
}

#[test]
fn help_and_manual_pages_say_what_the_commands_do() {
    // `man capture` names tiwhook-capture-bodies(1): that page exists.
    let page = tiwhook().args(["man", "capture-bodies"]).output().unwrap();
    assert!(page.status.success());
    assert!(String::from_utf8_lossy(&page.stdout).contains(".TH tiwhook-capture-bodies 1"));
    let check = tiwhook().args(["check", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&check.stdout).contains("Examples:\n  tiwhook check"));
    let sign = String::from_utf8(tiwhook().args(["sign", "--help"]).output().unwrap().stdout).unwrap();
    assert!(sign.contains("its first line is used to sign") && !sign.contains("each tried"), "{sign}");
    tiwhook().args(["listen", "-f", "json", "--addr", "not-an-address"]).assert().code(2);
}

#[test]
fn junit_failures_have_no_stray_space_and_an_expired_signature_points_to_sign() {
    let expired = fixture("docs/push-stopped.json");
    let output = tiwhook_fixed(&[
        "check",
        "--format",
        "junit",
        "--key",
        "Xz4ZgayTr7rMgWQrH",
        "--enforce-expiry",
        &expired,
    ])
    .output()
    .unwrap();
    let xml = String::from_utf8(output.stdout).unwrap();
    assert!(!xml.contains("] :"), "{xml}");
    assert!(xml.contains("error[signature-expired] /ExpireTime: the signature expired"), "{xml}");
    let human = tiwhook_fixed(&["check", "--key", "Xz4ZgayTr7rMgWQrH", "--enforce-expiry", &expired])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("tiwhook sign --expire-in 10y --in-place FILE"));
}
