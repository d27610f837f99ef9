//! The callbacks `tiwhook` knows, declared once, as data.
//!
//! Each event is a list of fields (name, JSON type, whether it must be there, what it means, how it
//! is labelled) and a few rules between fields. Validation, the JSON `details` and the human view
//! all read these tables, so that teaching `tiwhook` an event is adding an entry here. Facts come
//! from Tencent's TIW callback documentation; the README's event table lists what each event means.

/// What a field's value must be.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Any string.
    Text,
    /// A non-empty string that names something (a task, a user).
    TextId,
    /// A non-negative integer that names something (a room, an application).
    NumberId,
    /// A non-negative integer count.
    Count,
    /// Unix seconds.
    UnixTime,
    /// A non-negative duration in milliseconds.
    Milliseconds,
    /// A non-negative size in bytes.
    Bytes,
    /// Any integer, shown as sent.
    Integer,
    /// A percentage from 0 to 100: an integer, or (a quirk of the docs' tables) a numeric string.
    Progress,
    /// A `YYYY-MM-DD hh:mm:ss` time as text (the alarms' format), or empty.
    DateTimeText,
    /// An array of objects, each with the fields given.
    ArrayOf(&'static [Field]),
    /// An array of anything.
    Array,
    /// One of a documented set of strings; another value is a warning.
    Choice(&'static [Choice]),
    /// An object with fields of its own.
    Object(&'static [Field]),
    /// The signature: 32 lowercase hexadecimal digits.
    Sign,
    /// The event's own fields, declared by the event type.
    EventData,
}

pub use crate::judge::report::{Choice, Name};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Missing is an error.
    Required,
    /// Missing is a warning.
    Expected,
    /// Missing is fine.
    Optional,
}

/// One field of an object.
#[derive(Debug)]
pub struct Field {
    /// The JSON key.
    pub name: &'static str,
    /// The same, to look members up by.
    pub key: KnownKey,
    pub kind: Kind,
    pub presence: Presence,
    /// Its key in JSON `details` and its label in the human views.
    pub shown: Name,
    /// What the field means, from Tencent's docs.
    pub meaning: &'static str,
}

/// A relation between two fields of an event.
#[derive(Debug)]
pub enum Rule {
    /// `later` may not be before `earlier` (both Unix times); their difference is the duration,
    /// shown right after `later` under the name given (its key is always `duration_seconds`).
    Span { earlier: &'static str, later: &'static str, shown: Name },
    /// An `Error` object belongs with this value of the field; with another it is a warning.
    ErrorGoesWith { field: &'static str, value: &'static str },
}

/// One event type.
#[derive(Debug)]
pub struct Event {
    pub name: &'static str,
    /// Older names of the same event, recognised with a warning.
    pub aliases: &'static [&'static str],
    /// One line on what the event says.
    pub summary: &'static str,
    pub fields: &'static [Field],
    pub rules: &'static [Rule],
    /// Envelope fields this event's callbacks may lack (the alarms carry no `Timestamp`).
    pub optional_envelope: &'static [&'static str],
    /// What its callbacks tell of a task on the timeline (`tiwhook timeline`), if anything.
    pub task: Option<TaskRole>,
}

/// The kind of task an event belongs to on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Push,
    Record,
}

/// What a callback does to its task on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStep {
    /// The task began, at its `start` (or, `at_callback_time`, at the callback's own time).
    Starts { at_callback_time: bool },
    /// The task finished: its `start`, `stop`, finish reason and error.
    Finishes,
    /// The task stopped: its `stop` (or else the callback's time).
    Stops,
    /// Another callback of the task, which tells only its room.
    Tells,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRole {
    pub kind: TaskKind,
    pub step: TaskStep,
}

const fn role(kind: TaskKind, step: TaskStep) -> Option<TaskRole> {
    Some(TaskRole { kind, step })
}

impl Event {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// How the duration a span rule measures is named.
const fn span(label: &'static str) -> Name {
    Name::new(crate::judge::report::DURATION_KEY, label)
}

const fn field(
    name: &'static str,
    kind: Kind,
    presence: Presence,
    detail: &'static str,
    label: &'static str,
    meaning: &'static str,
) -> Field {
    Field { name, key: KnownKey::new(name), kind, presence, shown: Name::new(detail, label), meaning }
}

use Kind::*;
use Presence::*;

use crate::read::tape::KnownKey;

/// The envelope every callback shares.
pub static ENVELOPE: &[Field] = &[
    field("EventType", Text, Required, "event_type", "Event", "which event this is"),
    field("EventData", EventData, Required, "event_data", "Data", "the event's own fields"),
    field("SdkAppId", NumberId, Expected, "sdk_app_id", "SdkAppId", "the whiteboard application"),
    field("Timestamp", UnixTime, Required, "event_time", "Event time", "when the event was generated"),
    field("ExpireTime", UnixTime, Optional, "expire_time", "Expires", "when the signature stops being valid"),
    field("Sign", Sign, Optional, "sign", "Signature", "md5(CallbackKey + ExpireTime)"),
];

pub static FINISH_REASONS: &[Choice] = &[
    Choice {
        value: "AUTO",
        meaning: "no audio/video upstream and no whiteboard activity in the room for a long time",
    },
    Choice { value: "USER_CALL", meaning: "the stop-push API was called" },
    Choice { value: "EXCEPTION", meaning: "the push ended abnormally" },
];

/// The `Error` object of a failed task.
pub static ERROR_FIELDS: &[Field] = &[
    field("Code", TextId, Required, "code", "Code", "the error code, such as FailedOperation.Record"),
    field("Message", Text, Required, "message", "Message", "the error's description"),
];

const TASK_ID: Field = field("TaskId", TextId, Required, "task_id", "Task", "the task");
const ROOM_ID: Field = field("RoomId", NumberId, Required, "room_id", "Room", "the whiteboard room");
const GROUP_ID: Field = field("GroupId", Text, Required, "group_id", "IM group", "the whiteboard's IM group");
const EXCEPTION_CNT: Field =
    field("ExceptionCnt", Count, Required, "exception_count", "Anomalies", "how many anomalies occurred");
const ERROR: Field =
    field("Error", Object(ERROR_FIELDS), Optional, "error", "Error", "present only on error");
const PUSH_USER_ID: Field = field(
    "PushUserId",
    TextId,
    Required,
    "push_user_id",
    "Push user",
    "the user id the push service entered the room as",
);
const PUSH_START_TIME: Field =
    field("PushStartTime", UnixTime, Required, "start", "Started", "when pushing actually started");
const RECORD_USER_ID: Field = field(
    "RecordUserId",
    TextId,
    Required,
    "record_user_id",
    "Record user",
    "the user id the recording service entered the room as",
);
const PAUSE_TIME: Field =
    field("PauseTime", UnixTime, Required, "pause_time", "Paused", "when recording was paused");

pub static RECORD_FINISH_REASONS: &[Choice] = &[
    Choice { value: "AUTO", meaning: "no upstream audio/video and no whiteboard activity for a long time" },
    Choice { value: "USER_CALL", meaning: "the stop-recording API was called" },
    Choice { value: "EXCEPTION", meaning: "the recording ended abnormally" },
    Choice { value: "FORCE_STOP", meaning: "the recording was stopped by force (a long pause, say)" },
];

/// One replay video of a recording.
pub static VIDEO_FIELDS: &[Field] = &[
    field("UserId", Text, Required, "user_id", "User", "whose stream the video holds"),
    field("VideoDuration", Milliseconds, Required, "duration_ms", "Duration", "the video's length"),
    field("VideoSize", Bytes, Optional, "size_bytes", "Size", "the video's size"),
    field("VideoFormat", Text, Optional, "format", "Format", "the container format"),
    field("VideoType", Integer, Optional, "type", "Type", "the kind of video, as Tencent numbers them"),
    field("VideoId", Text, Optional, "video_id", "Video id", "the video's id in VOD"),
    field("VideoPlayTime", Integer, Optional, "play_time", "Play time", "when the video starts playing"),
    field("VideoUrl", Text, Required, "url", "URL", "where the video can be fetched"),
];

const VIDEO_INFOS: Field =
    field("VideoInfos", ArrayOf(VIDEO_FIELDS), Required, "videos", "Videos", "the recording's videos");
const TOTAL_TIME: Field =
    field("TotalTime", Milliseconds, Required, "total_time_ms", "Replay length", "the replay video's length");
const PROGRESS: Field = field("Progress", Progress, Required, "progress", "Progress", "percent done");

pub static TASK_TYPES: &[Choice] = &[
    Choice { value: "TranscodeH5", meaning: "dynamic (HTML5) document transcoding" },
    Choice { value: "TranscodeJPG", meaning: "static (image) document transcoding" },
    Choice { value: "WhiteboardPush", meaning: "whiteboard push" },
    Choice { value: "OnlineRecord", meaning: "real-time recording" },
];

/// One queued task in an alarm (note the `ID` spellings, unlike everywhere else).
pub static QUEUED_TASK_FIELDS: &[Field] = &[
    field("TaskID", TextId, Required, "task_id", "Task", "the queued task"),
    field("CreateTime", DateTimeText, Required, "create_time", "Created", "when the task was created"),
    field(
        "CancelTime",
        DateTimeText,
        Optional,
        "cancel_time",
        "Cancelled",
        "when it was cancelled, or empty",
    ),
    field("RoomID", Integer, Optional, "room_id", "Room", "the room, for push and recording tasks"),
    field("FileURL", Text, Optional, "file_url", "File", "the document, for transcoding tasks"),
    field("SdkAppID", NumberId, Optional, "sdk_app_id", "SdkAppId", "the application"),
];

const ALARM_FIELDS: &[Field] = &[
    field("TaskType", Choice(TASK_TYPES), Required, "task_type", "Task type", "which kind of task is queued"),
    field("Total", Count, Required, "total", "Queued", "how many tasks are queued"),
    field("Tasks", ArrayOf(QUEUED_TASK_FIELDS), Required, "tasks", "Tasks", "the queued tasks"),
];

const TRANSCODE_PROGRESS_FIELDS: &[Field] = &[
    TASK_ID,
    PROGRESS,
    field("Resolution", Text, Required, "resolution", "Resolution", "such as 1024x768; empty until known"),
    field("Title", Text, Required, "title", "Title", "the document's title; empty until known"),
    field("Pages", Count, Required, "pages", "Pages", "the document's pages; 0 until known"),
    field("ResultUrl", Text, Optional, "result_url", "Result", "the transcoded document"),
];

const fn event(name: &'static str, summary: &'static str, fields: &'static [Field]) -> Event {
    Event { name, aliases: &[], summary, fields, rules: &[], optional_envelope: &[], task: None }
}

pub static EVENTS: &[Event] = &[
    Event {
        task: role(TaskKind::Push, TaskStep::Starts { at_callback_time: false }),
        ..event(
            "WhiteboardPushStarted",
            "the push service is ready and has begun pushing",
            &[TASK_ID, ROOM_ID, PUSH_USER_ID, PUSH_START_TIME],
        )
    },
    Event {
        rules: &[
            Rule::Span { earlier: "PushStartTime", later: "PushStopTime", shown: span("Duration") },
            Rule::ErrorGoesWith { field: "FinishReason", value: "EXCEPTION" },
        ],
        task: role(TaskKind::Push, TaskStep::Finishes),
        ..event(
            "WhiteboardPushStopped",
            "the push ended",
            &[
                TASK_ID,
                ROOM_ID,
                GROUP_ID,
                PUSH_USER_ID,
                PUSH_START_TIME,
                field("PushStopTime", UnixTime, Required, "stop", "Stopped", "when pushing actually stopped"),
                field(
                    "FinishReason",
                    Choice(FINISH_REASONS),
                    Required,
                    "finish_reason",
                    "Finished",
                    "why it ended",
                ),
                field(
                    "IMSyncTime",
                    UnixTime,
                    Required,
                    "im_sync_time",
                    "IM sync",
                    "IM time of the push's first frame, to line up chat with the video",
                ),
                EXCEPTION_CNT,
                ERROR,
            ],
        )
    },
    Event {
        task: role(TaskKind::Record, TaskStep::Starts { at_callback_time: true }),
        ..event("OnlineRecordStarted", "real-time recording has started", &[TASK_ID, ROOM_ID, RECORD_USER_ID])
    },
    Event {
        task: role(TaskKind::Record, TaskStep::Stops),
        ..event("OnlineRecordStopped", "real-time recording has stopped", &[TASK_ID, ROOM_ID, RECORD_USER_ID])
    },
    Event {
        rules: &[
            Rule::Span { earlier: "RecordStartTime", later: "RecordStopTime", shown: span("Duration") },
            Rule::ErrorGoesWith { field: "FinishReason", value: "EXCEPTION" },
        ],
        task: role(TaskKind::Record, TaskStep::Finishes),
        ..event(
            "OnlineRecordFinished",
            "the recording is finished and its videos are ready",
            &[
                TASK_ID,
                ROOM_ID,
                GROUP_ID,
                RECORD_USER_ID,
                field("RecordStartTime", UnixTime, Required, "start", "Started", "when recording started"),
                field("RecordStopTime", UnixTime, Required, "stop", "Stopped", "when recording stopped"),
                TOTAL_TIME,
                field(
                    "FinishReason",
                    Choice(RECORD_FINISH_REASONS),
                    Required,
                    "finish_reason",
                    "Finished",
                    "why it ended",
                ),
                EXCEPTION_CNT,
                field(
                    "OmittedDurations",
                    Array,
                    Optional,
                    "omitted_durations",
                    "Omitted",
                    "stretches left out of the replay",
                ),
                VIDEO_INFOS,
                ERROR,
            ],
        )
    },
    Event {
        rules: &[Rule::Span { earlier: "PauseTime", later: "EstimateStopTime", shown: span("Stops after") }],
        task: role(TaskKind::Record, TaskStep::Tells),
        ..event(
            "OnlineRecordLongPauseWarning",
            "recording has been paused for 20 minutes; it stops itself at 30",
            &[
                TASK_ID,
                ROOM_ID,
                RECORD_USER_ID,
                PAUSE_TIME,
                field(
                    "EstimateStopTime",
                    UnixTime,
                    Required,
                    "stop",
                    "Will stop",
                    "when recording will stop itself",
                ),
            ],
        )
    },
    Event {
        rules: &[Rule::Span { earlier: "PauseTime", later: "StopTime", shown: span("Paused for") }],
        task: role(TaskKind::Record, TaskStep::Stops),
        ..event(
            "OnlineRecordLongPauseForceStopped",
            "recording stopped itself after a long pause",
            &[
                TASK_ID,
                ROOM_ID,
                RECORD_USER_ID,
                PAUSE_TIME,
                field("StopTime", UnixTime, Required, "stop", "Stopped", "when recording stopped"),
            ],
        )
    },
    Event {
        aliases: &["PPT2H5ProgressChanged"],
        ..event("TranscodeProgressChanged", "a document transcode made progress", TRANSCODE_PROGRESS_FIELDS)
    },
    event(
        "TranscodeFinished",
        "a document transcode is finished",
        &[
            TASK_ID,
            PROGRESS,
            field("Resolution", Text, Required, "resolution", "Resolution", "such as 1024x768"),
            field("Title", Text, Required, "title", "Title", "the document's title"),
            field("Pages", Count, Required, "pages", "Pages", "the document's pages"),
            field("ResultUrl", Text, Required, "result_url", "Result", "the transcoded document"),
            field("ThumbnailUrl", Text, Optional, "thumbnail_url", "Thumbnails", "where the thumbnails are"),
            field(
                "ThumbnailResolution",
                Text,
                Optional,
                "thumbnail_resolution",
                "Thumb size",
                "the thumbnails' resolution",
            ),
            field("CompressFileUrl", Text, Optional, "compress_file_url", "Archive", "the compressed result"),
            ERROR,
        ],
    ),
    event(
        "OfflineRecordProgressChanged",
        "a post-class recording made progress",
        &[TASK_ID, ROOM_ID, PROGRESS],
    ),
    event(
        "OfflineRecordFinished",
        "a post-class recording is finished",
        &[
            TASK_ID,
            GROUP_ID,
            ROOM_ID,
            PROGRESS,
            field("RecordStartTime", UnixTime, Required, "start", "Started", "when recording started"),
            TOTAL_TIME,
            VIDEO_INFOS,
            ERROR,
        ],
    ),
    Event {
        optional_envelope: &["Timestamp"],
        ..event("TaskQueuedAmountLimitWarning", "too many tasks are queued", ALARM_FIELDS)
    },
    Event {
        optional_envelope: &["Timestamp"],
        ..event("TaskQueuedTimeLimitWarning", "tasks have been queued too long", ALARM_FIELDS)
    },
];

/// The declaration of an event type, if `tiwhook` knows it.
pub fn find(name: &str) -> Option<&'static Event> {
    EVENTS.iter().find(|e| e.name == name || e.aliases.contains(&name))
}

/// The known event a name is a near miss of (a letter or two off, or in another case), for a
/// misspelt `EventType`: `WhiteboardPushStoped` is `WhiteboardPushStopped`. A name as near to
/// two events (`OnlineRecordFinished` and `OfflineRecordFinished` are two edits apart) names
/// neither.
pub fn near_miss(name: &str) -> Option<&'static Event> {
    let lower = name.to_ascii_lowercase();
    let mut near: Vec<(usize, &'static Event)> = EVENTS
        .iter()
        .flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied()).map(move |n| (e, n)))
        .map(|(e, known)| (edit_distance(&lower, &known.to_ascii_lowercase()), e))
        .filter(|&(distance, _)| distance <= 2)
        .collect();
    near.sort_by_key(|&(distance, e)| (distance, e.name));
    near.dedup_by_key(|(_, e)| e.name);
    match &near[..] {
        [(_, only)] => Some(only),
        [(best, e), (next, _), ..] if best < next => Some(e),
        _ => None,
    }
}

/// Levenshtein distance: the single-character insertions, deletions and substitutions that turn
/// `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The most fields one object declares (checked by a test).
pub const MAX_FIELDS: usize = 24;

/// The largest Unix time shown as a date (the last second of 9999).
pub const MAX_UNIX_TIME: u64 = 253_402_300_799;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_keeps_its_order() {
        // The walk reads the envelope's fields by their place in this declaration.
        let names: Vec<_> = ENVELOPE.iter().map(|f| f.name).collect();
        assert_eq!(names, ["EventType", "EventData", "SdkAppId", "Timestamp", "ExpireTime", "Sign"]);
    }

    #[test]
    fn every_rule_names_declared_fields() {
        for event in EVENTS {
            for rule in event.rules {
                let names: &[&str] = match rule {
                    Rule::Span { earlier, later, .. } => &[earlier, later],
                    Rule::ErrorGoesWith { field, .. } => &[field, "Error"],
                };
                for name in names {
                    assert!(event.field(name).is_some(), "{}: {name}", event.name);
                }
            }
        }
    }

    #[test]
    fn no_object_declares_more_fields_than_a_report_holds() {
        assert!(ENVELOPE.len() <= MAX_FIELDS);
        for event in EVENTS {
            assert!(event.fields.len() <= MAX_FIELDS, "{}", event.name);
        }
    }

    /// The JSON contract's fast writer writes keys without escaping them, each as its quoted form.
    #[test]
    fn detail_keys_are_plain_snake_case_and_quoted_as_json_writes_them() {
        fn names(fields: &'static [Field], found: &mut Vec<&'static Name>) {
            for field in fields {
                found.push(&field.shown);
                if let Kind::ArrayOf(inner) | Kind::Object(inner) = field.kind {
                    names(inner, found);
                }
            }
        }
        let mut found = vec![&crate::judge::report::UNCHECKED];
        names(ENVELOPE, &mut found);
        for event in EVENTS {
            names(event.fields, &mut found);
            found.extend(event.rules.iter().filter_map(|rule| match rule {
                Rule::Span { shown, .. } => Some(shown),
                _ => None,
            }));
        }
        for name in found {
            assert!(crate::judge::report::is_plain_key(name.key), "{}", name.key);
            let (padded, used) = (name.quoted.padded(), name.quoted.used());
            assert_eq!(&padded[..used], format!("\"{}\":", name.key).as_bytes());
            assert!(padded[used..].iter().all(|&b| b == 0), "{}", name.key);
        }
    }

    #[test]
    fn detail_keys_are_unique_within_an_event() {
        for event in EVENTS {
            let mut keys: Vec<_> = ENVELOPE.iter().chain(event.fields).map(|f| f.shown.key).collect();
            keys.sort();
            let before = keys.len();
            keys.dedup();
            assert_eq!(before, keys.len(), "{}", event.name);
        }
    }

    #[test]
    fn known_events_are_far_apart_and_near_misses_are_found() {
        let names: Vec<&str> =
            EVENTS.iter().flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied())).collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
                assert!(edit_distance(&a, &b) >= 2, "{a} and {b} are too close to tell apart");
            }
        }
        assert_eq!(near_miss("WhiteboardPushStoped").map(|e| e.name), Some("WhiteboardPushStopped"));
        assert_eq!(near_miss("whiteboardpushstarted").map(|e| e.name), Some("WhiteboardPushStarted"));
        assert!(near_miss("WhiteboardPushPaused").is_none(), "a new event stays unknown");
        assert_eq!(near_miss("OnlineRecordFinishd").map(|e| e.name), Some("OnlineRecordFinished"));
        assert!(near_miss("OfnlineRecordFinished").is_none(), "as near to two events: neither");
    }
}
