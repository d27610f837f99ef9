//! Hostile input through the real binary: whatever arrives, a clear verdict, no crash, no hang,
//! bounded memory, and nothing from the input driving the terminal.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

/// Address space allowed to the binary in these tests: its normal peak is about 5 MiB of virtual
/// memory, and one callback may take 16 MiB. Past the limit an allocation fails and the process
/// aborts, which the tests see as a failure: memory is bounded whatever the input.
const ADDRESS_SPACE_LIMIT: u64 = 96 * 1024 * 1024;

/// Runs the binary on `input` (stdin) under the address-space limit; returns stdout, stderr and
/// the exit code.
fn run_limited(args: &[&str], input: Vec<u8>) -> (Vec<u8>, String, i32) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiwhook"));
    cmd.args(args)
        .args(["--now", NOW, "--tz", "UTC"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("TIW_CALLBACK_KEY")
        // The limit is on address space, and glibc reserves 64 MiB of it for each thread that
        // allocates (its arena), used or not: one arena keeps the limit about memory in use.
        .env("MALLOC_ARENA_MAX", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe, as a pre_exec hook must be.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: ADDRESS_SPACE_LIMIT, rlim_max: ADDRESS_SPACE_LIMIT };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = cmd.spawn().expect("spawns");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("runs");
    feeder.join().unwrap();
    let code = output.status.code().unwrap_or_else(|| panic!("killed by a signal: {:?}", output.status));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("memory allocation"), "{stderr}");
    (output.stdout, stderr, code)
}

fn run_json_bytes(input: Vec<u8>) -> (Vec<serde_json::Value>, serde_json::Value, i32) {
    let (out, err, code) = run_limited(&["check", "--format", "json"], input);
    assert!(!err.contains("panicked"), "{err}");
    let mut lines = json_lines(&out);
    let summary = lines.pop().expect("a summary");
    (lines, summary, code)
}

#[test]
fn every_truncation_of_a_real_callback_gets_a_verdict() {
    // In process, through the library's pipeline (one file per cut), not one process per cut;
    // the binary reads the same pipeline, and the cut at half the length goes through it too.
    let full = read_fixture("signed/push-stopped-exception.json");
    let bytes = full.as_bytes();
    let dir = temp_dir("truncations");
    let policy = tiwhook::judge::Policy { now: 1_764_072_000, ..tiwhook::judge::Policy::default() };
    for cut in 0..bytes.len() {
        let path = dir.join("cut.json");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let paths = [path];
        let inputs = tiwhook::pipeline::Inputs {
            paths: &paths,
            extract: false,
            allow_empty: false,
            threads: 1 + cut % 2,
        };
        let mut out = Vec::new();
        let mut printer = tiwhook::render::json::JsonPrinter::new(&mut out);
        let (_, code) =
            tiwhook::pipeline::run(inputs, &policy, None, &mut printer, &mut std::io::sink()).unwrap();
        drop(printer);
        let mut lines = json_lines(&out);
        let summary = lines.pop().expect("a summary");
        let code = code as i32;
        if cut == bytes.len() / 2 {
            let (mut binary_lines, binary_summary, binary_code) = run_json_bytes(bytes[..cut].to_vec());
            // The same but for the name of the input (stdin there).
            for line in &mut binary_lines {
                line["source"] = lines[0]["source"].clone();
            }
            assert_eq!((&binary_lines, binary_code), (&lines, code), "cut at {cut}");
            assert_eq!(binary_summary["callbacks"], summary["callbacks"]);
        }
        let blank = bytes[..cut].iter().all(u8::is_ascii_whitespace);
        let whole = bytes[..cut].trim_ascii() == bytes.trim_ascii();
        if whole {
            assert_eq!((lines.len(), code), (1, 0), "cut at {cut}");
        } else if blank {
            // Nothing to check is a failure (see --allow-empty).
            assert_eq!((summary["callbacks"].as_u64(), code), (Some(0), 1), "cut at {cut}");
        } else {
            assert_eq!(code, 1, "cut at {cut}");
            assert_eq!(lines.len(), 1, "cut at {cut}");
            assert_eq!(lines[0]["verdict"], "invalid", "cut at {cut}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn invalid_utf8_and_nul_bytes_are_reported_and_the_rest_read() {
    let good = started_line("ok");
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"EventType\":\"Whiteboard\xff\xfePush\"}\n");
    input.extend_from_slice(b"{\"EventType\":\"A\0B\"}\n");
    input.extend_from_slice(b"{\"\0\": 1}\n");
    input.extend_from_slice(good.as_bytes());
    input.push(b'\n');
    let (lines, summary, code) = run_json_bytes(input);
    assert_eq!(code, 1);
    assert_eq!(summary["callbacks"], 4);
    for line in &lines[..3] {
        assert_eq!(line["errors"][0]["code"], "invalid-json", "{line}");
    }
    assert_eq!(lines[3]["verdict"], "valid");
}

#[test]
fn a_100_mb_string_is_refused_with_bounded_memory() {
    let mut input = b"{\"EventType\":\"WhiteboardPushStarted\",\"EventData\":{\"TaskId\":\"".to_vec();
    input.resize(input.len() + 100 * 1024 * 1024, b'x');
    input.extend_from_slice(b"\"}}\n");
    input.extend_from_slice(started_line("after").as_bytes());
    let (out, _, code) = run_limited(&["check", "--format", "json"], input);
    let lines = json_lines(&out);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["errors"][0]["code"], "document-too-large");
    assert_eq!(lines[1]["details"]["task_id"], "after");
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let mut input = Vec::new();
    input.extend(std::iter::repeat_n(b'[', 10_000));
    input.push(b'\n');
    for _ in 0..10_000 {
        input.extend_from_slice(b"{\"a\":");
    }
    input.push(b'\n');
    input.extend_from_slice(started_line("after").as_bytes());
    let (lines, _, code) = run_json_bytes(input);
    assert_eq!(code, 1);
    // The unclosed `[` makes what follows its elements: the callback is still read, and the
    // array that never closes is reported at the end.
    let after: Vec<_> = lines.iter().filter(|l| l["details"]["task_id"] == "after").collect();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["verdict"], "valid");
    assert_eq!(lines.iter().filter(|l| l["verdict"] == "invalid").count(), lines.len() - 1);
}

#[test]
fn numbers_beyond_the_integer_types_are_findings() {
    let cases = [
        ("18446744073709551616", "out-of-range"),
        ("-9223372036854775809", "negative-value"),
        ("-1", "negative-value"),
        ("1764054000.0", "wrong-type"),
        ("1.5e3", "wrong-type"),
        ("253402300800", "out-of-range"),
        ("1e999", "invalid-json"),
    ];
    for (number, code) in cases {
        let input =
            started_line("n").replace("\"PushStartTime\":1764054000", &format!("\"PushStartTime\":{number}"));
        let (lines, _, exit) = run_json_bytes(input.into_bytes());
        assert_eq!(exit, 1, "{number}");
        assert_eq!(lines[0]["errors"][0]["code"], code, "{number}");
    }
}

#[test]
fn lone_surrogates_are_invalid_json() {
    let input = started_line("x").replace("\"TaskId\":\"x\"", "\"TaskId\":\"\\ud800\"");
    let (lines, _, code) = run_json_bytes(input.into_bytes());
    assert_eq!(code, 1);
    assert_eq!(lines[0]["errors"][0]["code"], "invalid-json");
    assert_eq!(lines[0]["errors"][0]["line"], 1);
}

#[test]
fn duplicate_keys_are_found_at_every_level() {
    let input = r#"{"EventType":"WhiteboardPushStopped","EventType":"x","EventData":{"TaskId":"t","TaskId":"u","RoomId":1,"GroupId":"1","PushUserId":"p","FinishReason":"EXCEPTION","PushStartTime":1,"PushStopTime":2,"IMSyncTime":1,"ExceptionCnt":0,"Error":{"Code":"c","Code":"d","Message":"m"},"Extra":{"k":[{"z":1,"z":2}]}},"SdkAppId":1,"Timestamp":1}"#;
    let (lines, _, code) = run_json_bytes(input.as_bytes().to_vec());
    assert_eq!(code, 1);
    let paths: Vec<_> = lines[0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "duplicate-key")
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["/EventType", "/EventData/TaskId", "/EventData/Error/Code", "/EventData/Extra/k/0/z"]);
}

#[test]
fn three_hundred_thousand_empty_objects_are_each_a_finding_in_bounded_memory() {
    let input = "{}\n".repeat(300_000).into_bytes();
    let (out, _, code) = run_limited(&["check", "--format", "json"], input);
    assert_eq!(code, 1);
    let text = String::from_utf8(out).unwrap();
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["callbacks"], 300_000);
    assert_eq!(summary["invalid"], 300_000);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let codes: Vec<_> = first["errors"].as_array().unwrap().iter().map(|f| f["code"].clone()).collect();
    assert_eq!(codes, ["missing-field", "missing-field", "missing-field"]);
}

#[test]
fn mixed_line_endings_keep_line_numbers_right() {
    let input = format!("{}\r\n\r\n{}\n\r{}\r\n", started_line("a"), started_line("b"), started_line("c"));
    let (lines, _, code) = run_json_bytes(input.into_bytes());
    assert_eq!(code, 0);
    let found: Vec<_> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(found, [1, 3, 4]);
}

#[test]
fn a_tree_with_a_link_loop_odd_files_and_a_vanished_file() {
    let dir = std::env::temp_dir().join(format!("tiwhook-hostile-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(dir.join("no-such-target.json"), dir.join("gone.json")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not JSON at all \x1b[2J").unwrap();
    std::fs::write(dir.join("image.png"), [0x89, b'P', b'N', b'G', 0, 0xff]).unwrap();
    std::fs::write(dir.join("sub/a.json"), started_line("a")).unwrap();
    let mut cmd = tiwhook_fixed(&["check", "--format", "json", dir.to_str().unwrap()]);
    let output = cmd.timeout(std::time::Duration::from_secs(60)).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "the vanished file is unreadable");
    let lines = json_lines(&output.stdout);
    let types: Vec<_> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    // In sorted order: `gone.json` comes before `sub/a.json`.
    assert_eq!(types, ["unreadable", "callback", "summary"], "the vanished file, one callback, the summary");
    assert!(lines[0]["source"].as_str().unwrap().ends_with("gone.json"));
    assert_eq!(lines[1]["details"]["task_id"], "a");
    assert_eq!(lines[2]["unreadable"], 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("gone.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

const HOSTILE: &str = "\u{1b}]8;;http://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}]0;title\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{2066}\u{200b}\r\n\t\u{7f}";

/// A callback with `HOSTILE` in every string field, an unknown key and an unknown value.
fn hostile_callback() -> String {
    let h = serde_json::to_string(HOSTILE).unwrap();
    format!(
        r#"{{"EventType":"WhiteboardPushStopped","EventData":{{"TaskId":{h},"RoomId":1,"GroupId":{h},"PushUserId":{h},"FinishReason":{h},"PushStartTime":1,"PushStopTime":2,"IMSyncTime":1,"ExceptionCnt":0,"Error":{{"Code":{h},"Message":{h}}},{h}:{h}}},"SdkAppId":1,"Timestamp":1,"ExpireTime":5,"Sign":{h}}}
{{"EventType":{h},"EventData":{{{h}:{h}}},"Timestamp":1}}
"#
    )
}

#[test]
fn no_byte_of_a_callback_reaches_the_terminal_raw() {
    let input = hostile_callback();
    for args in [
        vec!["--color", "always"],
        vec!["--color", "never"],
        vec!["check", "--color", "always"],
        vec!["check", "--color", "never", "--key", "k"],
    ] {
        let (out, err, code) = run_limited(&args, input.clone().into_bytes());
        assert_eq!(code, 1, "{args:?}");
        let out = String::from_utf8(out).unwrap();
        assert_terminal_safe(&out, &format!("stdout of {args:?}"));
        assert_terminal_safe(&err, &format!("stderr of {args:?}"));
        assert!(out.contains(r"\x1b]8;;http://evil.example/\x07"), "{args:?}: {out}");
    }
}

#[test]
fn json_output_carries_hostile_strings_exactly() {
    let (lines, _, _) = run_json_bytes(hostile_callback().into_bytes());
    assert_eq!(lines[0]["details"]["task_id"], HOSTILE);
    assert_eq!(lines[0]["details"]["error"]["message"], HOSTILE);
    assert_eq!(lines[1]["event_type"], HOSTILE);
}

#[test]
fn hostile_file_names_are_escaped_too() {
    let dir = std::env::temp_dir().join(format!("tiwhook-hostile-name-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let name = dir.join("evil\x1b[2J\u{202e}.json");
    std::fs::write(&name, "{}").unwrap();
    for args in [vec!["check"], vec![]] {
        let output = tiwhook_fixed(&args).arg(&name).arg(dir.join("missing\x07.json")).output().unwrap();
        assert_terminal_safe(&String::from_utf8_lossy(&output.stdout), "stdout");
        assert_terminal_safe(&String::from_utf8_lossy(&output.stderr), "stderr");
        assert!(String::from_utf8_lossy(&output.stdout).contains(r"evil\x1b[2J\u{202e}.json"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
