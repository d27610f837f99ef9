//! The reading commands through the real binary: inputs, framing, validation, signatures, expiry,
//! output formats and exit statuses.

mod common;

use tiwhook::render::contract::{CALLBACK_FIELDS, SUMMARY_FIELDS};

use common::*;
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn the_signed_fixtures_pass_strictly() {
    tiwhook_fixed(&["check", "--strict", "--enforce-expiry", "--key", KEY, &fixture("signed")])
        .assert()
        .code(0)
        .stdout(predicate::eq("21 callbacks in 18 sources: 21 valid, 0 invalid, 0 warnings\n"));
}

#[test]
fn the_docs_samples_do_not_verify_under_the_documented_key() {
    let (lines, _, code) = run_json(
        &[
            "--key",
            "Xz4ZgayTr7rMgWQrH",
            &fixture("docs/push-started.json"),
            &fixture("docs/push-stopped.json"),
        ],
        None,
    );
    assert_eq!(code, 1);
    for line in &lines {
        assert_eq!(line["signature"], "mismatch");
        assert_eq!(line["errors"][0]["code"], "signature-mismatch");
        assert_eq!(line["expired"], true);
    }
    assert_eq!(lines.len(), 2);
}

#[test]
fn reads_stdin_when_no_path_or_dash_is_given() {
    let input = format!("{}\n{}\n", started_line("a"), started_line("b"));
    for args in [vec!["check", "--key", KEY], vec!["check", "--key", KEY, "-"]] {
        let (lines, summary, code) = run_json(&args, Some(&input));
        assert_eq!(code, 0);
        assert_eq!(summary["callbacks"], 2);
        assert_eq!(lines[1]["source"], "-");
        assert_eq!(lines[1]["index"], 1);
        assert_eq!(lines[1]["line"], 2);
        assert_eq!(lines[1]["details"]["task_id"], "b");
    }
}

#[test]
fn walks_directories_in_sorted_order_skipping_other_files_and_linked_directories() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.join("b/nested")).unwrap();
    std::fs::write(dir.join("b/nested/z.jsonl"), started_line("z") + "\n").unwrap();
    std::fs::write(dir.join("a.json"), started_line("a")).unwrap();
    std::fs::write(dir.join("c.ndjson"), started_line("c")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a callback").unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
    let (lines, summary, code) = run_json(&["check", "--key", KEY, dir.to_str().unwrap()], None);
    assert_eq!(code, 0);
    let tasks: Vec<_> = lines.iter().map(|l| l["details"]["task_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(tasks, ["a", "z", "c"]);
    assert_eq!(summary["sources"], 3);
    assert!(lines[1]["source"].as_str().unwrap().ends_with("b/nested/z.jsonl"));
}

#[test]
fn reads_arrays_and_concatenated_objects() {
    let input =
        format!("[{}, {}]\n{}{}", started_line("a"), started_line("b"), started_line("c"), started_line("d"));
    let (lines, summary, code) = run_json(&["check", "--key", KEY], Some(&input));
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(summary["callbacks"], 4);
    let indexes: Vec<_> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
}

#[test]
fn a_broken_line_is_reported_and_every_later_callback_still_read() {
    let input = format!("{}\n{{\"EventType\": \"WhiteboardPush\n{}\n", started_line("a"), started_line("c"));
    let (lines, summary, code) = run_json(&["check", "--key", KEY], Some(&input));
    assert_eq!(code, 1);
    assert_eq!(summary["callbacks"], 3);
    assert_eq!(summary["invalid"], 1);
    let broken = &lines[1];
    assert_eq!(broken["event_type"], serde_json::Value::Null);
    assert_eq!(broken["verdict"], "invalid");
    assert_eq!(broken["line"], 2);
    assert_eq!(broken["errors"][0]["code"], "invalid-json");
    assert_eq!(broken["errors"][0]["line"], 2);
    assert_eq!(lines[2]["details"]["task_id"], "c");
    assert_eq!(lines[2]["line"], 3);
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let input = format!("\u{feff}{}\r\n{}\r\n", started_line("a"), started_line("b"));
    let (lines, _, code) = run_json(&["check", "--key", KEY], Some(&input));
    assert_eq!(code, 0);
    assert_eq!(lines[1]["line"], 2);
}

#[test]
fn every_signature_state() {
    let cases = [
        ("signed/push-started.json", vec!["--key", KEY], "valid", 0),
        ("invalid/signature-mismatch.json", vec!["--key", KEY], "mismatch", 1),
        ("invalid/signature-missing.json", vec!["--key", KEY], "missing", 1),
        ("invalid/sign-malformed.json", vec!["--key", KEY], "malformed", 1),
        ("invalid/sign-malformed.json", vec![], "malformed", 1),
        ("signed/push-started.json", vec![], "unchecked", 0),
        ("invalid/signature-missing.json", vec![], "unchecked", 0),
    ];
    for (file, keys, state, want) in cases {
        let path = fixture(file);
        let mut args = vec!["check"];
        args.extend(keys);
        args.push(&path);
        let (lines, _, code) = run_json(&args, None);
        assert_eq!(lines[0]["signature"], state, "{file}");
        assert_eq!(code, want, "{file}");
    }
}

#[test]
fn an_upper_case_sign_verifies_with_a_warning_and_a_broken_digit_anywhere_is_malformed() {
    let line = started_line("upper");
    let sign = tiwhook::judge::signature::sign(KEY.as_bytes(), 4102444800);
    let upper = line.replace(&sign, &sign.to_ascii_uppercase());
    let (lines, _, code) = run_json(&["check", "--key", KEY, "-"], Some(&upper));
    assert_eq!((lines[0]["signature"].as_str(), code), (Some("valid"), 0), "{}", lines[0]);
    let warnings = lines[0]["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["code"] == "sign-uppercase"), "{warnings:?}");
    // A digit that is not one, first, in the middle or last, and a Sign one digit short.
    for at in [0, 17, 31] {
        let mut broken = sign.clone().into_bytes();
        broken[at] = b'g';
        let input = line.replace(&sign, std::str::from_utf8(&broken).unwrap());
        let (lines, _, code) = run_json(&["check", "--key", KEY, "-"], Some(&input));
        assert_eq!((lines[0]["signature"].as_str(), code), (Some("malformed"), 1), "{at}: {}", lines[0]);
    }
    let short = line.replace(&sign, &sign[1..]);
    let (lines, _, _) = run_json(&["check", "--key", KEY, "-"], Some(&short));
    assert_eq!(lines[0]["signature"], "malformed");
}

#[test]
fn the_key_comes_from_the_environment_or_a_key_file_with_rotation() {
    tiwhook_fixed(&["--format", "json", &fixture("signed/push-started.json")])
        .env("TIW_CALLBACK_KEY", KEY)
        .assert()
        .code(0)
        .stdout(contains(r#""signature":"valid""#));
    tiwhook_fixed(&["--format", "json", "--key-env", "MY_KEY", &fixture("signed/push-started.json")])
        .env("MY_KEY", KEY)
        .assert()
        .code(0)
        .stdout(contains(r#""signature":"valid""#));
    let dir = tempdir();
    let keys = dir.join("keys.txt");
    std::fs::write(&keys, format!("old-key\r\n\n{KEY}\n")).unwrap();
    let out = tiwhook_fixed(&["--key-file", keys.to_str().unwrap(), &fixture("signed/push-started.json")])
        .assert()
        .code(0)
        .stdout(contains("valid (key #2, "))
        .stdout(contains("keys.txt line 3)"))
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8_lossy(&out).contains(KEY), "the key must never be printed");
}

#[test]
fn a_mismatch_explains_what_could_be_wrong() {
    tiwhook_fixed(&["check", &fixture("signed/push-started.json")])
        .arg("--key")
        .arg(format!(" {KEY}\n"))
        .assert()
        .code(1)
        .stdout(contains("error[signature-mismatch]"))
        .stdout(contains("key #1 (--key #1) matches once the white space around it is removed"));
    tiwhook_fixed(&["check", "--key", "wrong", &fixture("signed/push-started.json")])
        .assert()
        .code(1)
        .stdout(contains("each TIW feature"))
        .stdout(contains("covers only the key and ExpireTime"));
}

#[test]
fn expiry_follows_the_clock_and_fails_only_when_enforced() {
    let path = fixture("invalid/signature-expired.json");
    let (lines, _, code) = run_json(&["check", "--key", KEY, &path], None);
    assert_eq!((lines[0]["expired"].as_bool(), code), (Some(true), 0));
    let (lines, _, code) = run_json(&["check", "--key", KEY, "--enforce-expiry", &path], None);
    assert_eq!((lines[0]["errors"][0]["code"].as_str(), code), (Some("signature-expired"), 1));
    let mut cmd = tiwhook();
    cmd.args(["check", "--format", "json", "--enforce-expiry", "--key", KEY, "--now", "1764054000", &path]);
    let lines = json_lines(&cmd.output().unwrap().stdout);
    assert_eq!(lines[0]["expired"], false);
    assert_eq!(lines[0]["verdict"], "valid");
    tiwhook_fixed(&["--key", KEY, &path]).assert().stdout(contains("(expired 4h 50m ago)"));
    tiwhook_fixed(&["--key", KEY, &fixture("docs/push-started.json")])
        .assert()
        .stdout(contains("(expired 5y 6mo ago)"));
}

#[test]
fn strict_makes_warnings_fail() {
    let path = fixture("invalid/unknown-field.json");
    tiwhook_fixed(&["check", &path]).assert().code(0).stdout(contains("warning[unknown-field]"));
    tiwhook_fixed(&["check", "--strict", &path]).assert().code(1);
}

#[test]
fn exit_status_two_for_usage_errors_and_unreadable_inputs_after_reading_the_rest() {
    tiwhook().args(["--color", "sometimes"]).assert().code(2);
    tiwhook_fixed(&["--now", "yesterday"]).assert().code(2).stderr(contains("--now"));
    tiwhook_fixed(&["--tz", "Mars/Olympus"]).assert().code(2).stderr(contains("--tz"));
    tiwhook_fixed(&["--key-file", "/no/such/keys"]).assert().code(2).stderr(contains("/no/such/keys"));
    let (lines, summary, code) =
        run_json(&["check", "/no/such/file.json", &fixture("signed/push-started.json")], None);
    assert_eq!(code, 2);
    assert_eq!(lines.len(), 1, "the readable input is still reported");
    assert_eq!(summary["unreadable"], 1);
    assert_eq!(summary["sources"], 2);
    tiwhook_fixed(&["check", "/no/such/file.json"]).assert().code(2).stderr(contains("/no/such/file.json"));
}

#[test]
fn check_prints_compiler_style_lines_and_nothing_for_valid_callbacks() {
    let (invalid, valid) = (fixture("invalid/stop-before-start.json"), fixture("signed/push-stopped.json"));
    tiwhook_fixed(&["check", "--key", KEY, &invalid, &valid])
        .assert()
        .code(1)
        .stdout(predicate::eq(
            "fixtures/invalid/stop-before-start.json:10:21: error[stop-before-start]: `PushStopTime` (1764053000) is 1000 s before `PushStartTime` (1764054000)\n\
             2 callbacks in 2 sources: 1 valid, 1 invalid, 0 warnings\n",
        ));
}

#[test]
fn every_finding_has_a_code_a_pointer_and_a_position() {
    let expected = [
        ("duplicate-key", "duplicate-key", "/Sign", 13, 3),
        ("empty-value", "empty-value", "/EventData/TaskId", 4, 15),
        ("error-without-exception", "error-without-exception", "/EventData/Error", 13, 5),
        ("invalid-json", "invalid-json", "", 1, 68),
        ("missing-field", "missing-field", "/EventData", 3, 16),
        ("missing-sdk-app-id", "missing-field", "", 1, 1),
        ("negative-value", "negative-value", "/EventData/PushStartTime", 7, 22),
        ("not-an-object", "not-an-object", "", 1, 1),
        ("sign-malformed", "sign-malformed", "/Sign", 12, 11),
        ("signature-mismatch", "signature-mismatch", "/Sign", 12, 11),
        ("stop-before-start", "stop-before-start", "/EventData/PushStopTime", 10, 21),
        ("unknown-event-type", "unknown-event-type", "/EventType", 2, 16),
        ("unknown-field", "unknown-field", "/EventData/PushUrl", 8, 5),
        ("unknown-value", "unknown-value", "/EventData/FinishReason", 8, 21),
        ("wrong-type", "wrong-type", "/EventData/RoomId", 5, 15),
    ];
    for (file, code, path, line, column) in expected {
        let (lines, _, _) =
            run_json(&["check", "--key", KEY, &fixture(&format!("invalid/{file}.json"))], None);
        let report = &lines[0];
        let findings: Vec<_> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .chain(report["warnings"].as_array().unwrap())
            .filter(|f| f["code"] == code)
            .collect();
        let f = findings.first().unwrap_or_else(|| panic!("{file}: no {code} in {report}"));
        assert_eq!(
            (f["path"].as_str().unwrap(), f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()),
            (path, line, column),
            "{file}"
        );
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn every_finding_in_a_callback_is_reported() {
    let input = r#"{"EventType":"WhiteboardPushStopped","EventData":{"TaskId":"","RoomId":-1,"GroupId":5,"PushUserId":"u","FinishReason":"LATER","PushStartTime":20,"PushStopTime":10,"IMSyncTime":1.5,"ExceptionCnt":"0","Extra":1,"Extra":2},"Timestamp":1}"#;
    let (lines, _, code) = run_json(&["check"], Some(input));
    assert_eq!(code, 1);
    let codes = |key: &str| -> Vec<String> {
        lines[0][key].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        codes("errors"),
        [
            "empty-value",
            "negative-value",
            "wrong-type",
            "stop-before-start",
            "wrong-type",
            "wrong-type",
            "duplicate-key"
        ]
    );
    assert_eq!(codes("warnings"), ["missing-field", "unknown-value", "unknown-field"]);
}

#[test]
fn json_output_follows_the_contract() {
    let (lines, summary, code) = run_json(&["--key", KEY, &fixture("signed/push-stopped.json")], None);
    assert_eq!(code, 0);
    let line = &lines[0];
    let keys: Vec<_> = line.as_object().unwrap().keys().cloned().collect();
    // Without --expect, every member of the contract but the two that go with it.
    let mut want: Vec<&str> =
        CALLBACK_FIELDS.iter().copied().filter(|k| !matches!(*k, "expected" | "met")).collect();
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    let details = &line["details"];
    assert_eq!(details["task_id"], "cq5v8kl2j7s1a0e4m9tb");
    assert_eq!(details["room_id"], 880528);
    assert_eq!(details["group_id"], "880528");
    assert_eq!(details["start"], "2025-11-25T07:00:00Z");
    assert_eq!(details["stop"], "2025-11-25T08:02:05Z");
    assert_eq!(details["duration_seconds"], 3725);
    assert_eq!(details["finish_reason"], "USER_CALL");
    assert_eq!(details["exception_count"], 0);
    assert_eq!(details["sdk_app_id"], 1400313729);
    assert_eq!(details["expire_time"], "2100-01-01T00:00:00Z");
    assert_eq!(
        summary,
        serde_json::json!({"type":"summary","callbacks":1,"valid":1,"invalid":0,"warnings":0,"sources":1,"unreadable":0})
    );
    let summary_keys: Vec<&str> = summary.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want: Vec<&str> = SUMMARY_FIELDS
        .iter()
        .copied()
        .filter(|k| !matches!(*k, "expected" | "unmet" | "lines" | "signatures_unchecked"))
        .collect();
    want.sort();
    assert_eq!(summary_keys, want);
    let (lines, _, _) = run_json(&[&fixture("signed/push-stopped-exception.json")], None);
    assert_eq!(
        lines[0]["details"]["error"],
        serde_json::json!({"code":"FailedOperation.Record","message":"push service lost its connection to the room"})
    );
}

#[test]
fn the_body_caveat_is_said_once_on_stderr_where_a_signature_verified() {
    for command in ["inspect", "check"] {
        let output = tiwhook_fixed(&[command, "--key", KEY, &fixture("signed")]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&output.stderr).matches("does not cover the body").count(), 1);
        assert!(!String::from_utf8_lossy(&output.stdout).contains("does not cover the body"), "{command}");
        // Checked, but none verified: nothing to caution about.
        tiwhook_fixed(&[command, "--key", "another-key", &fixture("signed")])
            .assert()
            .stderr(contains("does not cover the body").not());
    }
    tiwhook_fixed(&["check", &fixture("signed")]).assert().stderr(contains("does not cover the body").not());
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let line = started_line("a") + "\n";
    let input = line.repeat(20_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["--color", "never", "--tz", "UTC", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn hostile_strings_never_reach_the_terminal_raw() {
    let input = r#"{"EventType":"WhiteboardPushStarted","EventData":{"TaskId":"a\u001b]0;pwned\u0007b","RoomId":1,"PushUserId":"x\u202ey\u001b[2J","PushStartTime":1,"Evil\u001b[31m":1},"SdkAppId":1,"Timestamp":1}"#;
    for args in [vec!["--color", "always"], vec!["check", "--color", "always"]] {
        let mut cmd = tiwhook();
        cmd.args(&args).args(["--tz", "UTC", "--now", "0"]).write_stdin(input);
        let out = cmd.output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        // The only escapes left are the colors tiwhook writes itself.
        assert!(text.contains("\x1b["), "colors are on: {text:?}");
        assert_terminal_safe(&text, &format!("{args:?}"));
        let without_colors = strip_colors(&text);
        assert!(without_colors.contains(r"Evil\x1b[31m"), "{without_colors}");
    }
    let out = tiwhook_fixed(&[]).write_stdin(input).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(r"a\x1b]0;pwned\x07b"), "{text}");
    assert!(text.contains(r"x\u{202e}y\x1b[2J"), "{text}");
}

#[test]
fn color_follows_the_option_over_the_environment_and_is_never_forced_on_by_it_alone() {
    let input = started_line("colored");
    let run = |args: &[&str], vars: &[(&str, &str)]| {
        let mut cmd = tiwhook();
        cmd.args(args).args(["--tz", "UTC", "--now", NOW]).write_stdin(input.clone());
        for (name, value) in vars {
            cmd.env(name, value);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    for view in [&[][..], &["check"], &["--compact"], &["timeline"]] {
        let always = run(&[view, &["--color", "always"][..]].concat(), &[("NO_COLOR", "1")]);
        assert!(always.contains("\x1b[1") && always.contains("\x1b[0m"), "{view:?}: {always:?}");
        let never = run(&[view, &["--color", "never"][..]].concat(), &[("CLICOLOR_FORCE", "1")]);
        assert!(!never.contains('\x1b'), "{view:?}: {never:?}");
        let forced = run(view, &[("CLICOLOR_FORCE", "1")]);
        assert!(forced.contains("\x1b["), "{view:?}: CLICOLOR_FORCE colors a pipe: {forced:?}");
        let auto = run(view, &[]);
        assert!(!auto.contains('\x1b'), "{view:?}: a pipe is not colored: {auto:?}");
    }
}

#[test]
fn a_callback_over_the_size_limit_is_refused_and_the_next_one_read() {
    let big = format!("{{\"EventType\":\"{}\"}}\n{}\n", "x".repeat(17 * 1024 * 1024), started_line("after"));
    let (lines, summary, code) = run_json(&["check", "--key", KEY], Some(&big));
    assert_eq!(code, 1);
    assert_eq!(lines[0]["errors"][0]["code"], "document-too-large");
    assert_eq!(lines[1]["details"]["task_id"], "after");
    assert_eq!(summary["callbacks"], 2);
}

#[test]
fn help_teaches_the_commands_and_the_exit_status() {
    tiwhook()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(contains("check"))
        .stdout(contains("--key-file"))
        .stdout(contains("Exit status: 0 every callback passed"));
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tiwhook-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_value_of_the_wrong_type_is_null_in_json_details() {
    // `OmittedDurations` is declared an array: an object there is reported, and `details` holds
    // null for it, as for every other field of the wrong type (it used to be copied as it was).
    let callback = read_fixture("signed/record-finished.json")
        .replace("\"OmittedDurations\": []", "\"OmittedDurations\": {\"a\": 1}");
    assert!(callback.contains("{\"a\": 1}"), "the fixture has an empty OmittedDurations");
    let (lines, _, code) = run_json(&["-"], Some(&callback));
    assert_eq!(code, 1);
    assert_eq!(lines[0]["errors"][0]["path"], "/EventData/OmittedDurations");
    assert_eq!(lines[0]["details"]["omitted_durations"], serde_json::Value::Null);
}

#[test]
fn a_time_at_the_end_of_the_calendar_is_shown_in_seconds() {
    // The last second of 9999 is past the last instant the calendar can put in every zone (late
    // on 9999-12-30 in UTC): it stays in seconds, in any zone, with and without color. A time
    // just before that is a date, in every zone.
    let line = r#"{"EventType":"WhiteboardPushStarted","EventData":{"TaskId":"t","RoomId":1,"PushUserId":"u","PushStartTime":253402300799},"SdkAppId":1,"Timestamp":253402207200,"ExpireTime":4102444800,"Sign":"00000000000000000000000000000000"}"#;
    let view = |zone: &str, color: &str| {
        let output = tiwhook()
            .args(["inspect", "--now", NOW, "--tz", zone, "--color", color, "-"])
            .write_stdin(line)
            .output()
            .unwrap();
        strip_colors(&String::from_utf8(output.stdout).unwrap())
    };
    for color in ["never", "always"] {
        let utc = view("UTC", color);
        assert!(utc.contains("  Started        253402300799\n"), "{utc}");
        assert!(utc.contains("  Event time     9999-12-30 22:00:00 +00:00\n"), "{utc}");
        let shanghai = view("Asia/Shanghai", color);
        assert!(shanghai.contains("  Started        253402300799\n"), "{shanghai}");
        assert!(shanghai.contains("  Event time     9999-12-31 06:00:00 +08:00\n"), "{shanghai}");
    }
}
