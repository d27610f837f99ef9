//! `tiwhook example`: a realistic sample callback of every event type tiwhook knows.
//!
//! Times are set around the clock given (`--now`), ids look like Tencent's, and with a key the
//! sample is signed with an `ExpireTime` a day after the clock, so that it passes
//! `tiwhook check --strict --enforce-expiry` with that key and clock.

use std::io::{self, Write};

use anyhow::bail;
use serde_json::{Value, json};

use crate::cli::ExampleArgs;
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::events;
use crate::judge::signature;

pub fn run(args: &ExampleArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    let written = if args.list {
        names().try_for_each(|name| writeln!(out, "{name}"))
    } else {
        let name = args.event.as_deref().unwrap_or_default();
        let now = config::clock(args.now.as_deref(), env).map_err(anyhow::Error::msg)?;
        let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
        let key = keys.first().map(|k| k.secret_for_signing());
        let Some(sample) = example(name, now, key) else {
            let known: Vec<_> = names().collect();
            bail!("no example of `{name}`; known events: {}", known.join(", "));
        };
        let text = serde_json::to_string_pretty(&sample)?;
        writeln!(out, "{text}")
    };
    super::finished(written.map(|()| ExitCode::Success))
}

/// How long a signed example stays valid after the clock.
pub const VALID_FOR: i64 = 86_400;

/// The sample `EventData` of an event, its times around `now`; `None` for an unknown event.
fn event_data(name: &str, now: i64) -> Option<Value> {
    let room = 880_528;
    let video = |user: &str, ms: u64, size: u64, id: &str| {
        json!({
            "UserId": user, "VideoDuration": ms, "VideoFormat": "mp4", "VideoId": id, "VideoPlayTime": 0,
            "VideoSize": size, "VideoType": 0,
            "VideoUrl": format!("https://1400313729.vod2.myqcloud.com/f1e2d3c4vodtransgzp1400313729/{id}/f0.mp4"),
        })
    };
    let transcode = json!({
        "TaskId": "t5q8w1e4r7y0u3i6o9pa", "Progress": 24, "Resolution": "1024x768",
        "Title": "lesson-3.pptx", "Pages": 36,
    });
    let data = match name {
        "WhiteboardPushStarted" => json!({
            "TaskId": "cq5v8kl2j7s1a0e4m9tb", "RoomId": room, "PushUserId": "tic_push_user_880528_01",
            "PushStartTime": now - 3725,
        }),
        "WhiteboardPushStopped" => json!({
            "TaskId": "cq5v8kl2j7s1a0e4m9tb", "RoomId": room, "GroupId": "880528",
            "PushUserId": "tic_push_user_880528_01", "FinishReason": "USER_CALL",
            "PushStartTime": now - 3725, "PushStopTime": now - 1, "IMSyncTime": now - 3725, "ExceptionCnt": 0,
        }),
        "OnlineRecordStarted" | "OnlineRecordStopped" => json!({
            "TaskId": "r7x2kq9m4v1c8b3n6zpd", "RoomId": room, "RecordUserId": "tic_record_user_880528_01",
        }),
        "OnlineRecordFinished" => json!({
            "TaskId": "r7x2kq9m4v1c8b3n6zpd", "RoomId": room, "GroupId": "880528",
            "RecordUserId": "tic_record_user_880528_01", "RecordStartTime": now - 3725,
            "RecordStopTime": now - 5, "TotalTime": 3_718_250u64, "FinishReason": "USER_CALL",
            "ExceptionCnt": 0, "OmittedDurations": [],
            "VideoInfos": [video("tic_record_user_880528_01", 3_718_250, 412_351_283, "387702299223569371")],
        }),
        "OnlineRecordLongPauseWarning" => json!({
            "TaskId": "r7x2kq9m4v1c8b3n6zpd", "RoomId": room, "RecordUserId": "tic_record_user_880528_01",
            "PauseTime": now - 1200, "EstimateStopTime": now + 600,
        }),
        "OnlineRecordLongPauseForceStopped" => json!({
            "TaskId": "r7x2kq9m4v1c8b3n6zpd", "RoomId": room, "RecordUserId": "tic_record_user_880528_01",
            "PauseTime": now - 1800, "StopTime": now,
        }),
        "TranscodeProgressChanged" => transcode,
        "TranscodeFinished" => {
            let mut data = transcode;
            let base = "https://tiw-cos-1259648581.file.myqcloud.com/1400313729/t5q8w1e4r7y0u3i6o9pa";
            data["Progress"] = json!(100);
            data["ResultUrl"] = json!(format!("{base}/index.html"));
            data["ThumbnailUrl"] = json!(format!("{base}/thumbnail/"));
            data["ThumbnailResolution"] = json!("200x150");
            data["CompressFileUrl"] = json!(format!("{base}.zip"));
            data
        }
        "OfflineRecordProgressChanged" => {
            json!({"TaskId": "o2k5m8n1b4v7c0x3z6la", "RoomId": 3107, "Progress": 60})
        }
        "OfflineRecordFinished" => json!({
            "TaskId": "o2k5m8n1b4v7c0x3z6la", "GroupId": "3107", "RoomId": 3107, "Progress": 100,
            "RecordStartTime": now - 647, "TotalTime": 647_000,
            "VideoInfos": [video("tic_record_user_3107_01", 647_000, 70_254_592, "387702299223569373")],
        }),
        "TaskQueuedAmountLimitWarning" | "TaskQueuedTimeLimitWarning" => json!({
            "TaskType": "WhiteboardPush", "Total": 1,
            "Tasks": [{
                "TaskID": "p9o8i7u6y5t4r3e2w1qa", "CreateTime": beijing_time(now - 600), "CancelTime": "",
                "RoomID": room, "FileURL": "", "SdkAppID": 1_400_313_729u64,
            }],
        }),
        _ => return None,
    };
    Some(data)
}

/// A time as the alarms write it: `YYYY-MM-DD hh:mm:ss`, in Beijing time (UTC+8).
fn beijing_time(seconds: i64) -> String {
    let rfc = crate::timefmt::rfc3339((seconds + 8 * 3600).max(0) as u64);
    rfc.trim_end_matches('Z').replacen('T', " ", 1)
}

/// Names of the events there are examples of: every event tiwhook knows.
pub fn names() -> impl Iterator<Item = &'static str> {
    events::EVENTS.iter().map(|e| e.name)
}

/// A sample callback of `name` around `now`, signed with `key` if given; `None` for an event
/// tiwhook does not know.
pub fn example(name: &str, now: i64, key: Option<&[u8]>) -> Option<Value> {
    let event = events::find(name)?;
    let data = event_data(event.name, now)?;
    let mut callback = json!({"EventType": name, "EventData": data, "SdkAppId": 1_400_313_729u64});
    if !event.optional_envelope.contains(&"Timestamp") {
        callback["Timestamp"] = json!(now);
    }
    if let Some(key) = key {
        let expire = (now + VALID_FOR).max(0) as u64;
        callback["ExpireTime"] = json!(expire);
        callback["Sign"] = json!(signature::sign(key, expire));
    }
    Some(callback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_an_example() {
        for name in names() {
            assert!(example(name, 1_764_054_000, None).is_some(), "{name}");
        }
        assert!(example("NoSuchEvent", 0, None).is_none());
    }

    #[test]
    fn alarm_times_are_beijing_wall_clock() {
        assert_eq!(beijing_time(1_764_054_000), "2025-11-25 15:00:00");
    }
}
