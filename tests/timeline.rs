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
