//! Every TIW event tiwhook knows, through the real binary: recording, transcoding, alarms, the
//! older post-class recording, failed tasks and unknown types.

mod common;

use common::*;
use serde_json::{Value, json};

/// The one callback line of `--format json` for a fixture, checked with the test key.
fn details_of(path: &str) -> (Value, i32) {
    let (lines, _, code) =
        run_json(&["check", "--strict", "--enforce-expiry", "--key", KEY, &fixture(path)], None);
    assert_eq!(lines.len(), 1, "{path}");
    (lines[0].clone(), code)
}

fn codes(line: &Value, key: &str) -> Vec<String> {
    line[key].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn every_known_event_has_a_valid_signed_fixture() {
    let (lines, summary, code) =
        run_json(&["check", "--strict", "--enforce-expiry", "--key", KEY, &fixture("signed")], None);
    assert_eq!(code, 0, "{lines:?}");
    let mut seen: Vec<&str> = lines.iter().map(|l| l["event_type"].as_str().unwrap()).collect();
    seen.sort();
    seen.dedup();
    let mut known: Vec<&str> = tiwhook::judge::events::EVENTS.iter().map(|e| e.name).collect();
    known.sort();
    assert_eq!(seen, known);
    assert_eq!(summary["invalid"], 0);
}

#[test]
fn a_finished_recording_shows_its_span_total_time_and_videos() {
    let (line, code) = details_of("signed/record-finished.json");
    assert_eq!(code, 0);
    let d = &line["details"];
    assert_eq!(d["start"], "2025-11-25T07:00:05Z");
    assert_eq!(d["stop"], "2025-11-25T08:02:10Z");
    assert_eq!(d["duration_seconds"], 3725);
    assert_eq!(d["total_time_ms"], 3718250);
    assert_eq!(d["finish_reason"], "USER_CALL");
    assert_eq!(d["omitted_durations"], json!([]));
    assert_eq!(d["videos"][0]["size_bytes"], 412351283);
    assert_eq!(d["videos"][1]["user_id"], "teacher_li");
    assert_eq!(d["videos"][1]["duration_ms"], 3702000);
    let out = tiwhook_fixed(&["--key", KEY, &fixture("signed/record-finished.json")]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Replay length  1h 01m 58s"), "{text}");
    assert!(text.contains("    User                       Duration    Size       Format"), "{text}");
    assert!(text.contains("teacher_li                 1h 01m 42s  94.0 MiB   mp4     1"), "{text}");
}

#[test]
fn force_stop_is_a_documented_recording_finish_reason() {
    let input = read_fixture("signed/record-finished.json").replace("USER_CALL", "FORCE_STOP");
    let (lines, _, code) = run_json(&["check", "--strict", "--key", KEY], Some(&input));
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines[0]["details"]["finish_reason"], "FORCE_STOP");
    let push = read_fixture("signed/push-stopped.json").replace("USER_CALL", "FORCE_STOP");
    let (lines, _, _) = run_json(&["check", "--key", KEY], Some(&push));
    assert_eq!(codes(&lines[0], "warnings"), ["unknown-value"], "push has no FORCE_STOP");
}

#[test]
fn a_failed_task_holding_only_an_error_is_valid_and_shows_the_error_first() {
    for (path, code_text) in [
        ("signed/record-failed.json", "FailedOperation.Record"),
        ("signed/transcode-failed.json", "InvalidParameter.UrlFormatError"),
    ] {
        let (line, code) = details_of(path);
        assert_eq!(code, 0, "{path}");
        assert_eq!(line["details"]["error"]["code"], code_text);
        assert_eq!(line["details"]["task_id"], Value::Null);
        let out = tiwhook_fixed(&[&fixture(path)]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let second_line = text.lines().nth(1).unwrap();
        assert!(second_line.starts_with("  Error") && second_line.contains(code_text), "{text}");
    }
    let half = r#"{"EventType":"OnlineRecordFinished","EventData":{"TaskId":"t","Error":{"Code":"c","Message":"m"}},"SdkAppId":1,"Timestamp":1}"#;
    let (lines, _, code) = run_json(&["check"], Some(half));
    assert_eq!(code, 1, "an Error beside some fields is not the failure shape");
    assert!(codes(&lines[0], "errors").iter().all(|c| c == "missing-field"));
}

#[test]
fn pause_warnings_show_how_long_from_pause_to_stop() {
    let (line, code) = details_of("signed/record-long-pause-warning.json");
    assert_eq!(code, 0);
    assert_eq!(line["details"]["pause_time"], "2025-11-25T07:20:05Z");
    assert_eq!(line["details"]["stop"], "2025-11-25T07:50:05Z");
    assert_eq!(line["details"]["duration_seconds"], 1800);
    let out = tiwhook_fixed(&[&fixture("signed/record-long-pause-force-stopped.json")]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("Paused for     30m 00s"));
}

#[test]
fn transcoding_progress_accepts_a_numeric_string_with_a_warning() {
    let (line, code) = details_of("signed/transcode-progress.json");
    assert_eq!((code, line["details"]["progress"].as_u64()), (0, Some(24)));
    assert_eq!(line["details"]["title"], "第三章 函数与极限.pptx");
    let (lines, _, code) =
        run_json(&["check", "--key", KEY, &fixture("invalid/progress-as-string.json")], None);
    assert_eq!(code, 0);
    assert_eq!(codes(&lines[0], "warnings"), ["progress-as-string"]);
    assert_eq!(lines[0]["details"]["progress"], 24);
    let (lines, _, code) =
        run_json(&["check", "--key", KEY, &fixture("invalid/progress-out-of-range.json")], None);
    assert_eq!((code, codes(&lines[0], "errors")), (1, vec!["out-of-range".to_string()]));
}

#[test]
fn a_finished_transcode_shows_its_urls() {
    let (line, code) = details_of("signed/transcode-finished.json");
    assert_eq!(code, 0);
    let d = &line["details"];
    assert!(d["result_url"].as_str().unwrap().ends_with("/index.html"));
    assert_eq!(d["thumbnail_resolution"], "200x150");
    assert_eq!(d["pages"], 36);
}

#[test]
fn the_older_transcode_event_name_is_the_same_event_with_a_warning() {
    let (lines, _, code) = run_json(&["check", &fixture("docs/ppt2h5-progress.json")], None);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["event_type"], "PPT2H5ProgressChanged");
    assert_eq!(codes(&lines[0], "warnings"), ["missing-field", "old-event-name"]);
    assert_eq!(lines[0]["details"]["progress"], 24);
}

#[test]
fn alarms_list_their_tasks_and_need_no_timestamp() {
    let (line, code) = details_of("signed/alarm-queued-amount.json");
    assert_eq!(code, 0);
    let d = &line["details"];
    assert_eq!(d["task_type"], "WhiteboardPush");
    assert_eq!(d["total"], 2);
    assert_eq!(d["event_time"], Value::Null);
    assert_eq!(
        d["tasks"][1],
        json!({"task_id":"p9o8i7u6y5t4r3e2w1qb","create_time":"2025-11-25 15:00:02","cancel_time":"","room_id":880529,"file_url":"","sdk_app_id":1400313729})
    );
    let (lines, _, code) = run_json(&["check", "--key", KEY, &fixture("invalid/bad-format.json")], None);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["errors"][0]["code"], "bad-format");
    assert_eq!(lines[0]["errors"][0]["path"], "/EventData/Tasks/0/CreateTime");
}

#[test]
fn the_older_post_class_recording_events() {
    let (line, code) = details_of("signed/offline-record-finished.json");
    assert_eq!(code, 0);
    assert_eq!(line["details"]["total_time_ms"], 647000);
    assert_eq!(line["details"]["progress"], 100);
    let (line, code) = details_of("signed/offline-record-progress.json");
    assert_eq!((code, line["details"]["progress"].as_u64()), (0, Some(60)));
}

#[test]
fn a_bad_video_list_is_reported_element_by_element() {
    let (lines, _, code) =
        run_json(&["check", "--key", KEY, &fixture("invalid/video-infos-wrong-type.json")], None);
    assert_eq!(code, 1);
    let paths: Vec<_> =
        lines[0]["errors"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/EventData/VideoInfos/1/VideoSize", "/EventData/VideoInfos/2"]);
}

#[test]
fn unknown_events_are_verified_and_shown_generically() {
    let input = r#"{"EventType":"WhiteboardSnapshotFinished","EventData":{"TaskId":"s1","Result":{"Images":[{"Url":"https://x/1.png"}]},"Tags":[]},"SdkAppId":1,"Timestamp":1764060000}"#;
    let signed = input.replace(
        "\"Timestamp\"",
        &format!(
            "\"ExpireTime\":9,\"Sign\":\"{}\",\"Timestamp\"",
            tiwhook::judge::signature::sign(KEY.as_bytes(), 9)
        ),
    );
    let (lines, _, code) = run_json(&["check", "--key", KEY], Some(&signed));
    assert_eq!(code, 0);
    assert_eq!(lines[0]["signature"], "valid");
    assert_eq!(codes(&lines[0], "warnings"), ["unknown-event-type"]);
    assert_eq!(lines[0]["details"]["event_data"]["Result"]["Images"][0]["Url"], "https://x/1.png");
    let out = tiwhook_fixed(&[]).write_stdin(input).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  Result.Images[0].Url  https://x/1.png"), "{text}");
    assert!(text.contains("  Tags           []"), "{text}");
}

/// A key of an unknown event that is Chinese takes two columns a character: its value lines up
/// with the others all the same.
#[test]
fn chinese_keys_of_unknown_events_line_up() {
    let input = r#"{"EventType":"WhiteboardSnapshotFinished","EventData":{"教室":"a","RoomId":1},"Timestamp":1764060000}"#;
    let out = tiwhook_fixed(&[]).write_stdin(input).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\n  教室           a\n"), "{text}");
    assert!(text.contains("\n  RoomId         1\n"), "{text}");
}

#[test]
fn a_missing_sdk_app_id_is_a_warning_for_every_event() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/signed");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(object) = value.as_object_mut() else { continue };
        object.remove("SdkAppId");
        let (lines, _, code) = run_json(&["check", "--key", KEY], Some(&value.to_string()));
        assert_eq!(code, 0, "{}", path.display());
        assert_eq!(codes(&lines[0], "warnings"), ["missing-field"], "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 14);
}

#[test]
fn the_readme_lists_every_event() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for event in tiwhook::judge::events::EVENTS {
        assert!(readme.contains(&format!("`{}`", event.name)), "README misses {}", event.name);
        for alias in event.aliases {
            assert!(readme.contains(alias), "README misses {alias}");
        }
    }
}
