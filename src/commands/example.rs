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
use crate::random::Random;

pub fn run(args: &ExampleArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    if args.list || args.events.is_empty() {
        let listed = names().try_for_each(|name| writeln!(out, "{name}"));
        if !args.list {
            eprintln!("tiwhook: name an event to print its example: tiwhook example WhiteboardPushStarted");
        }
        return super::finished(listed.map(|()| ExitCode::Success));
    }
    let now = config::clock(args.now, env);
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let key = keys.first().map(|k| k.secret_for_signing());
    // Fresh ids each call, unless a seed (or the ids themselves) are given.
    let seed = args.seed.unwrap_or_else(|| {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        (nanos as u64) ^ (u64::from(std::process::id()) << 32)
    });
    let mut random = Random::new(seed);
    let ids = Ids {
        task: args.task.clone().unwrap_or_else(|| random.id(20)),
        room: args.room.unwrap_or_else(|| 100_000 + random.below(900_000)),
    };
    let names: Vec<&str> = args.events.iter().map(String::as_str).collect();
    let Some(samples) = story(&names, now, key, &ids) else {
        let known: Vec<_> = self::names().collect();
        bail!("no example of `{}`; known events: {}", names.join(" "), known.join(", "));
    };
    let written = if let [sample] = &samples[..] {
        writeln!(out, "{}", serde_json::to_string_pretty(sample)?)
    } else {
        // Several callbacks: a stream, one per line, ready for `send` or `timeline`.
        samples.iter().try_for_each(|sample| writeln!(out, "{sample}"))
    };
    super::finished(written.map(|()| ExitCode::Success))
}

/// How long before the clock a story's task started: a push of an hour, 2 minutes and 5 seconds.
pub const STORY_LENGTH: i64 = 3725;

/// Samples of several events that tell one story: one task, one room, one push user, with the
/// events that start a task sent when it started and the others at `now`, so that a start comes
/// before its stop and the timeline shows a positive duration. `None` if an event is unknown.
pub fn story(names: &[&str], now: i64, key: Option<&[u8]>, ids: &Ids) -> Option<Vec<Value>> {
    let starts = ["WhiteboardPushStarted", "OnlineRecordStarted"];
    names
        .iter()
        .map(|name| {
            let at = if names.len() > 1 && starts.contains(name) { now - STORY_LENGTH } else { now };
            example(name, at, key, ids)
        })
        .collect()
}

/// How long a signed example stays valid after the clock.
pub const VALID_FOR: i64 = 86_400;

/// The ids a sample carries.
#[derive(Clone, Debug)]
pub struct Ids {
    pub task: String,
    pub room: u64,
}

impl Default for Ids {
    /// The ids of the bundled fixtures.
    fn default() -> Self {
        Ids { task: "cq5v8kl2j7s1a0e4m9tb".into(), room: 880_528 }
    }
}

/// The sample `EventData` of an event, its times around `now`; `None` for an unknown event.
fn event_data(name: &str, now: i64, ids: &Ids) -> Option<Value> {
    let room = ids.room;
    let task = ids.task.as_str();
    let group = room.to_string();
    let push_user = format!("tic_push_user_{room}_01");
    let record_user = format!("tic_record_user_{room}_01");
    let video = |user: &str, ms: u64, size: u64, id: &str| {
        json!({
            "UserId": user, "VideoDuration": ms, "VideoFormat": "mp4", "VideoId": id, "VideoPlayTime": 0,
            "VideoSize": size, "VideoType": 0,
            "VideoUrl": format!("https://1400313729.vod2.myqcloud.com/f1e2d3c4vodtransgzp1400313729/{id}/f0.mp4"),
        })
    };
    let transcode = json!({
        "TaskId": task, "Progress": 24, "Resolution": "1024x768",
        "Title": "lesson-3.pptx", "Pages": 36,
    });
    let data = match name {
        // A push starts when its callback is sent.
        "WhiteboardPushStarted" => json!({
            "TaskId": task, "RoomId": room, "PushUserId": push_user, "PushStartTime": now,
        }),
        "WhiteboardPushStopped" => json!({
            "TaskId": task, "RoomId": room, "GroupId": group,
            "PushUserId": push_user, "FinishReason": "USER_CALL",
            "PushStartTime": now - STORY_LENGTH, "PushStopTime": now - 1, "IMSyncTime": now - STORY_LENGTH,
            "ExceptionCnt": 0,
        }),
        "OnlineRecordStarted" | "OnlineRecordStopped" => json!({
            "TaskId": task, "RoomId": room, "RecordUserId": record_user,
        }),
        "OnlineRecordFinished" => json!({
            "TaskId": task, "RoomId": room, "GroupId": group,
            "RecordUserId": record_user, "RecordStartTime": now - STORY_LENGTH,
            "RecordStopTime": now - 5, "TotalTime": 3_718_250u64, "FinishReason": "USER_CALL",
            "ExceptionCnt": 0, "OmittedDurations": [],
            "VideoInfos": [video(&record_user, 3_718_250, 412_351_283, "387702299223569371")],
        }),
        "OnlineRecordLongPauseWarning" => json!({
            "TaskId": task, "RoomId": room, "RecordUserId": record_user,
            "PauseTime": now - 1200, "EstimateStopTime": now + 600,
        }),
        "OnlineRecordLongPauseForceStopped" => json!({
            "TaskId": task, "RoomId": room, "RecordUserId": record_user,
            "PauseTime": now - 1800, "StopTime": now,
        }),
        "TranscodeProgressChanged" => transcode,
        "TranscodeFinished" => {
            let mut data = transcode;
            let base = format!("https://tiw-cos-1259648581.file.myqcloud.com/1400313729/{task}");
            data["Progress"] = json!(100);
            data["ResultUrl"] = json!(format!("{base}/index.html"));
            data["ThumbnailUrl"] = json!(format!("{base}/thumbnail/"));
            data["ThumbnailResolution"] = json!("200x150");
            data["CompressFileUrl"] = json!(format!("{base}.zip"));
            data
        }
        "OfflineRecordProgressChanged" => {
            json!({"TaskId": task, "RoomId": room, "Progress": 60})
        }
        "OfflineRecordFinished" => json!({
            "TaskId": task, "GroupId": group, "RoomId": room, "Progress": 100,
            "RecordStartTime": now - 647, "TotalTime": 647_000,
            "VideoInfos": [video(&record_user, 647_000, 70_254_592, "387702299223569373")],
        }),
        "TaskQueuedAmountLimitWarning" | "TaskQueuedTimeLimitWarning" => json!({
            "TaskType": "WhiteboardPush", "Total": 1,
            "Tasks": [{
                "TaskID": task, "CreateTime": beijing_time(now - 600), "CancelTime": "",
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

/// A sample callback of `name` around `now`, with `ids`, signed with `key` if given; `None` for
/// an event tiwhook does not know.
pub fn example(name: &str, now: i64, key: Option<&[u8]>, ids: &Ids) -> Option<Value> {
    let event = events::find(name)?;
    let data = event_data(event.name, now, ids)?;
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
            assert!(example(name, 1_764_054_000, None, &Ids::default()).is_some(), "{name}");
        }
        assert!(example("NoSuchEvent", 0, None, &Ids::default()).is_none());
    }

    #[test]
    fn alarm_times_are_beijing_wall_clock() {
        assert_eq!(beijing_time(1_764_054_000), "2025-11-25 15:00:00");
    }

    #[test]
    fn distinct_seeds_give_distinct_ids() {
        let tasks: std::collections::HashSet<String> =
            (0..10_000u64).map(|seed| Random::new(seed).id(20)).collect();
        assert_eq!(tasks.len(), 10_000);
    }

    #[test]
    fn a_story_has_one_task_and_its_times_in_order() {
        let ids = Ids::default();
        let story =
            story(&["WhiteboardPushStarted", "WhiteboardPushStopped"], 1_764_054_000, None, &ids).unwrap();
        let (start, stop) = (&story[0], &story[1]);
        assert_eq!(start["EventData"]["TaskId"], stop["EventData"]["TaskId"]);
        assert_eq!(start["EventData"]["PushUserId"], stop["EventData"]["PushUserId"]);
        assert_eq!(start["EventData"]["PushStartTime"], stop["EventData"]["PushStartTime"]);
        assert!(start["Timestamp"].as_i64() < stop["Timestamp"].as_i64());
        assert!(stop["EventData"]["PushStartTime"].as_i64() < stop["EventData"]["PushStopTime"].as_i64());
    }
}
