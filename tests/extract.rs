//! `--extract`: callbacks found inside the lines of real logs, through the binary.

mod common;

use std::io::Write;

use common::{KEY, fixture, read_fixture, run_json, tiwhook_fixed};

/// The 1-based column where `needle` starts in line `line` (1-based) of a fixture.
fn column_of(path: &str, line: usize, needle: &str) -> u64 {
    let text = read_fixture(path);
    let line = text.lines().nth(line - 1).expect("the line exists");
    line[..line.find(needle).expect("the needle is on the line")].chars().count() as u64 + 1
}

#[test]
fn an_application_log_yields_its_callbacks_and_reports_the_cut_one() {
    let (callbacks, summary, code) =
        run_json(&["check", "--extract", "--key", KEY, &fixture("logs/app.log")], None);
    assert_eq!(code, 1, "line 7 holds a callback cut off by the logger");
    assert_eq!(summary["lines"], 9);
    assert_eq!(summary["callbacks"], 4);
    assert_eq!(summary["valid"], 3);
    let lines: Vec<_> = callbacks.iter().map(|c| c["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 6, 7, 8]);
    for c in [&callbacks[0], &callbacks[1], &callbacks[3]] {
        assert_eq!((c["verdict"].as_str(), c["signature"].as_str()), (Some("valid"), Some("valid")), "{c}");
    }
    let cut = &callbacks[2]["errors"][0];
    assert_eq!(cut["code"], "invalid-json");
    assert_eq!(cut["message"], "this line holds a callback cut off before its end", "{cut}");
    // The noise (a config object, a map in braces) is not reported at all.
    assert!(callbacks.iter().all(|c| c["line"] != 5 && c["line"] != 2));
}

#[test]
fn each_log_form_gives_the_line_and_the_column_where_the_callback_starts() {
    for (path, found) in [
        ("logs/python.log", vec![(2, "{\"EventType"), (4, "{\"EventType")]),
        ("logs/nginx.log", vec![(2, "{\\x22EventType"), (3, "{\\x22EventType")]),
        ("logs/json.log", vec![(2, "{\\\"EventType"), (4, "{\\\"EventType"), (5, "{\\\"EventType")]),
    ] {
        let (callbacks, summary, code) =
            run_json(&["check", "--extract", "--key", KEY, &fixture(path)], None);
        assert_eq!(code, 0, "{path}");
        assert_eq!(summary["valid"].as_u64(), Some(found.len() as u64), "{path}");
        assert_eq!(summary["lines"].as_u64(), Some(read_fixture(path).lines().count() as u64), "{path}");
        let got: Vec<_> =
            callbacks.iter().map(|c| (c["line"].as_u64().unwrap(), c["column"].as_u64().unwrap())).collect();
        let want: Vec<_> =
            found.iter().map(|(line, needle)| (*line as u64, column_of(path, *line, needle))).collect();
        assert_eq!(got, want, "{path}");
        assert!(callbacks.iter().all(|c| c["signature"] == "valid"), "{path}");
    }
    // The detailed view names the place as file:line:column.
    let output = tiwhook_fixed(&["--extract", "--key", KEY, &fixture("logs/python.log")]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("fixtures/logs/python.log:2:23  WhiteboardPushStarted  ✓ valid"), "{stdout}");
    assert!(stdout.contains("2 callbacks found in 5 log lines of 1 source: 2 valid"), "{stdout}");
}

#[test]
fn findings_point_into_the_log_line() {
    // A prefix, then a callback whose RoomId is a string: the finding's column is the value's.
    let line = r#"2025-11-25 12:00:01 INFO cb: {"EventType":"WhiteboardPushStarted","EventData":{"TaskId":"t","RoomId":"880528","PushUserId":"u","PushStartTime":1764054000},"SdkAppId":1400313729,"Timestamp":1764054001}"#;
    let (callbacks, summary, code) = run_json(&["check", "--extract"], Some(&format!("noise\n{line}\n")));
    assert_eq!(code, 1);
    assert_eq!(summary["lines"], 2);
    let wrong =
        callbacks[0]["errors"].as_array().unwrap().iter().find(|e| e["code"] == "wrong-type").unwrap();
    assert_eq!(wrong["line"], 2);
    assert_eq!(wrong["column"].as_u64(), Some(line.find("\"880528\"").unwrap() as u64 + 1));
    assert_eq!(callbacks[0]["column"].as_u64(), Some(line.find('{').unwrap() as u64 + 1));
}

#[test]
fn without_extract_a_log_gets_a_hint() {
    let output = tiwhook_fixed(&["check", &fixture("logs/app.log")]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let column = column_of("logs/app.log", 3, "{\"EventType");
    let hint = format!("help: line 3 holds a callback at column {column}: is this a log? try --extract");
    assert!(stdout.contains(&hint), "{stdout}");

    let prefixed = format!("INFO callback: {}\n", common::started_line("t"));
    let output = tiwhook_fixed(&["check"]).write_stdin(prefixed).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("help: a callback starts at column 16: is this a log? try --extract"),
        "{stdout}"
    );
}

#[test]
fn a_compressed_log_is_extracted_and_the_timeline_reads_logs_too() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(read_fixture("logs/json.log").as_bytes()).unwrap();
    let gzip = encoder.finish().unwrap();
    let output = tiwhook_fixed(&["check", "--extract", "--format", "json", "--key", KEY])
        .write_stdin(gzip)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines = common::json_lines(&output.stdout);
    assert_eq!(
        (lines.last().unwrap()["valid"].as_u64(), lines.last().unwrap()["lines"].as_u64()),
        (Some(3), Some(5))
    );

    let output = tiwhook_fixed(&["timeline", "--extract", "--format", "json", &fixture("logs/app.log")])
        .output()
        .unwrap();
    let lines = common::json_lines(&output.stdout);
    let task = lines.iter().find(|l| l["type"] == "task").expect("a task line");
    assert_eq!(task["task_id"], "cq5v8kl2j7s1a0e4m9tb");
    assert_eq!(task["state"], "finished");
}

#[test]
fn broken_callbacks_in_a_log_are_reported_and_the_rest_is_read() {
    let log = concat!(
        r#"{"ts":1,"body":"{\"EventType\":\"WhiteboardPushStarted\",\"EventData\":{\"TaskId\":\"a\q\"}}"}"#,
        "\n",
        r#"nginx {\x22EventType\x22:\x22A\x22,\x22B\x22:\xZZ}"#,
        "\n",
    );
    let mut text = log.to_string();
    text.push_str(&format!("INFO callback: {}\n", common::started_line("still-read")));
    let (callbacks, summary, code) = run_json(&["check", "--extract", "--key", KEY], Some(&text));
    assert_eq!(code, 1);
    assert_eq!((summary["lines"].as_u64(), summary["callbacks"].as_u64()), (Some(3), Some(3)));
    let first = &callbacks[0]["errors"][0];
    assert_eq!(
        first["message"],
        "this line holds a callback in a JSON string whose escapes do not decode: invalid escape"
    );
    assert_eq!(first["column"].as_u64(), Some(log.find("\\q").unwrap() as u64 + 2));
    let second = &callbacks[1]["errors"][0];
    assert!(
        second["message"]
            .as_str()
            .unwrap()
            .starts_with("this line holds what looks like a callback, but is not JSON")
    );
    assert_eq!(callbacks[2]["details"]["task_id"], "still-read");
    assert_eq!(callbacks[2]["verdict"], "valid");
}

#[test]
fn a_log_without_callbacks_is_read_silently() {
    let (callbacks, summary, code) =
        run_json(&["check", "--extract", "--allow-empty"], Some("INFO up\nDEBUG {\"a\":1}\n{not json}\n"));
    assert!(callbacks.is_empty());
    assert_eq!((summary["lines"].as_u64(), summary["callbacks"].as_u64()), (Some(3), Some(0)));
    assert_eq!(code, 0);
}
