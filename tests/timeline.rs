//! `tiwhook timeline` through the real binary, on a captured day with retries, a running task,
//! stop-only tasks, an abnormal stop, conflicting stops and an invalid callback.

mod common;

use common::*;
use serde_json::json;

const DAY_NOW: &str = "2025-11-25T09:30:00Z";

fn timeline_json(extra: &[&str]) -> (Vec<serde_json::Value>, i32, String) {
    let mut cmd = tiwhook();
    cmd.args(["timeline", "--format", "json", "--now", DAY_NOW, "--key", KEY])
        .args(extra)
        .arg(fixture("timeline/day.ndjson"));
    let out = cmd.output().unwrap();
    (json_lines(&out.stdout), out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn every_task_and_figure_of_a_day() {
    let (lines, code, stderr) = timeline_json(&[]);
    assert_eq!(code, 1, "an invalid callback makes the run fail");
    assert!(stderr.contains("fixtures/timeline/day.ndjson:11:50: error[missing-field]"), "{stderr}");
    let tasks: Vec<_> = lines.iter().filter(|l| l["type"] == "task").collect();
    let ids: Vec<_> = tasks.iter().map(|t| t["task_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "e8m2x6v1q0w9t4b7n3ks",
            "cq5v8kl2j7s1a0e4m9tb",
            "d1h7c0n3ofp2k8q5rz4x",
            "f3j9w2c6x1z8v5b0n7qm",
            "g4k0e7r2t9y6u1i8o3pw"
        ]
    );
    assert_eq!(
        *tasks[1],
        json!({"type":"task","task_id":"cq5v8kl2j7s1a0e4m9tb","kind":"push","room_id":880528,"state":"finished","start":"2025-11-25T07:00:00Z","stop":"2025-11-25T08:02:05Z","duration_seconds":3725,"finish_reason":"USER_CALL","callbacks":3,"duplicates":1,"warnings":[]})
    );
    assert_eq!(
        (tasks[0]["state"].as_str(), tasks[0]["duration_seconds"].as_u64()),
        (Some("stop-only"), Some(3000))
    );
    assert_eq!(
        (tasks[2]["finish_reason"].as_str(), tasks[2]["duplicates"].as_u64()),
        (Some("EXCEPTION"), Some(1))
    );
    assert_eq!(
        (tasks[3]["state"].as_str(), tasks[3]["stop"].clone()),
        (Some("running"), serde_json::Value::Null)
    );
    assert_eq!(tasks[4]["duration_seconds"], 300, "the first stop delivered stands");
    assert_eq!(
        tasks[4]["warnings"],
        json!([
            "two different stops were delivered for this task",
            "the stop is for room 4243, the task's other callbacks for room 4242"
        ])
    );
    let totals = lines.last().unwrap();
    assert_eq!(
        *totals,
        json!({"type":"totals","tasks":5,"finished":2,"running":1,"stop_only":2,"duplicates":2,"push_seconds":7672,"record_seconds":0,"invalid":1,
               "by_room":{"3107":{"tasks":1,"push_seconds":647},"4242":{"tasks":2,"push_seconds":3300},"880528":{"tasks":2,"push_seconds":3725}},
               "by_reason":{"AUTO":1,"EXCEPTION":1,"USER_CALL":2}})
    );
}

#[test]
fn filters_by_room_and_time() {
    let (lines, _, _) = timeline_json(&["--room", "880528"]);
    let ids: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "task")
        .map(|l| l["task_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["cq5v8kl2j7s1a0e4m9tb", "f3j9w2c6x1z8v5b0n7qm"]);
    let (lines, _, _) =
        timeline_json(&["--since", "2025-11-25T08:10:00Z", "--until", "2025-11-25T08:59:00Z"]);
    let ids: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "task")
        .map(|l| l["task_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["f3j9w2c6x1z8v5b0n7qm"], "only the task running in that window");
}

#[test]
fn the_width_is_bounded() {
    tiwhook().args(["timeline", "--width", "100000", &fixture("timeline/day.ndjson")]).assert().code(2);
    let mut cmd = tiwhook();
    cmd.args(["timeline", "--now", DAY_NOW, "--color", "never", &fixture("timeline/day.ndjson")])
        .env("COLUMNS", "99999999");
    let out = cmd.output().unwrap();
    let longest = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 1000, "{longest}");
}

#[test]
fn a_clean_stream_exits_zero() {
    let mut cmd = tiwhook();
    cmd.args(["timeline", "--format", "json", "--now", NOW, &fixture("signed/stream.ndjson")]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let totals = json_lines(&out.stdout).pop().unwrap();
    assert_eq!((totals["tasks"].as_u64(), totals["finished"].as_u64()), (Some(2), Some(1)));
}

#[test]
fn recording_tasks_are_followed_too() {
    let input = [
        read_fixture("signed/record-started.json"),
        read_fixture("signed/record-stopped.json"),
        read_fixture("signed/record-finished.json"),
    ]
    .concat();
    let mut cmd = tiwhook();
    cmd.args(["timeline", "--format", "json", "--now", NOW]).write_stdin(input);
    let lines = json_lines(&cmd.output().unwrap().stdout);
    assert_eq!(lines[0]["kind"], "record");
    assert_eq!(lines[0]["state"], "finished");
    assert_eq!(lines[0]["duration_seconds"], 3725);
    assert_eq!(lines[0]["callbacks"], 3);
    assert_eq!(lines[1]["record_seconds"], 3725);
}

#[test]
fn the_human_view() {
    let mut cmd = tiwhook();
    cmd.args([
        "timeline",
        "--now",
        DAY_NOW,
        "--tz",
        "UTC",
        "--color",
        "never",
        "--width",
        "120",
        &fixture("timeline/day.ndjson"),
    ]);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn csv_has_one_row_per_task_for_a_spreadsheet() {
    let output =
        tiwhook_fixed(&["timeline", "--format", "csv", &fixture("timeline/day.ndjson")]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "the day holds an invalid callback");
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "task_id,kind,room_id,state,start,stop,duration_seconds,finish_reason,callbacks,duplicates"
    );
    assert_eq!(rows.len(), 6);
    assert!(rows.contains(
        &"cq5v8kl2j7s1a0e4m9tb,push,880528,finished,2025-11-25T07:00:00Z,2025-11-25T08:02:05Z,3725,USER_CALL,3,1"
    ));
    assert!(rows.contains(&"f3j9w2c6x1z8v5b0n7qm,push,880528,running,2025-11-25T08:30:00Z,,,,1,0"));
}

#[test]
fn csv_cells_from_callbacks_cannot_become_formulas() {
    // A comma makes the cell quoted; the leading `=` gets a `'`.
    let line = started_line("=HYPERLINK(1,2)");
    let output =
        tiwhook_fixed(&["timeline", "--format", "csv", "--key", KEY]).write_stdin(line).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let row = text.lines().nth(1).expect("a row");
    assert!(row.starts_with("\"'=HYPERLINK(1,2)\",push,"), "{row}");
}

#[test]
fn a_chart_of_long_ago_dates_its_axis_and_says_how_far_it_was_stretched() {
    let day = fixture("timeline/day.ndjson");
    let output = tiwhook()
        .args([
            "timeline",
            &day,
            "--now",
            "2026-11-25T12:00:00Z",
            "--tz",
            "UTC",
            "--color",
            "never",
            "--width",
            "160",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines().next().unwrap().ends_with("2025-11-25 06:30:00 .. 2026-11-25 12:00:00 (+00:00)"),
        "{text}"
    );
    assert!(
        text.contains("cq5v8kl2j7s1a0e4m9tb  880528  2025-11-25 07:00:00  2025-11-25 08:02:05"),
        "{text}"
    );
    // The note is wrapped to the width: read it as one line.
    assert!(text.replace("\n  ", " ").contains(
        "note: the axis runs on to --now (2026-11-25 12:00:00 +00:00), 1y after the last callback, because 1 task is \
         still running; --until 2025-11-25T09:05:00Z ends it at the last callback"
    ));
    let until = tiwhook()
        .args(["timeline", &day, "--now", "2026-11-25T12:00:00Z", "--until", "2025-11-25T09:05:00Z"])
        .args(["--tz", "UTC", "--color", "never", "--width", "110"])
        .output()
        .unwrap();
    let text = String::from_utf8(until.stdout).unwrap();
    assert!(text.lines().next().unwrap().ends_with("11-25 06:30:00 .. 11-25 09:05:00 (+00:00)"), "{text}");
    assert!(!text.contains("note: the axis"));
}

#[test]
fn warnings_show_times_in_the_zone_asked_for() {
    let start = started_line("zoned");
    let other = start.replace("\"PushStartTime\":1764054000", "\"PushStartTime\":1764054600");
    let stop = r#"{"EventType":"WhiteboardPushStopped","EventData":{"TaskId":"zoned","RoomId":880528,"GroupId":"880528","PushUserId":"u","FinishReason":"AUTO","PushStartTime":1764054600,"PushStopTime":1764058200,"IMSyncTime":1764054600,"ExceptionCnt":0},"SdkAppId":1400313729,"Timestamp":1764058201}"#;
    let input = format!("{start}\n{other}\n{stop}\n");
    let output = tiwhook()
        .args(["timeline", "--now", NOW, "--tz", "+08:00", "--color", "never"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(
            "zoned: the stop says it started at 2025-11-25 15:10:00 +08:00, not 2025-11-25 15:00:00 +08:00"
        ),
        "{text}"
    );
    let output = tiwhook_fixed(&["timeline", "--format", "json"]).write_stdin(input).output().unwrap();
    let lines = json_lines(&output.stdout);
    assert_eq!(
        lines[0]["warnings"][0],
        "the start says it started at 2025-11-25T07:10:00Z, not 2025-11-25T07:00:00Z"
    );
}
