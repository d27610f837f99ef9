//! The callbacks `tiwhook` knows, declared once, as data.
//!
//! Each event is a list of fields (name, JSON type, whether it must be there, what it means, how it
//! is labelled) and a few rules between fields. Validation, the JSON `details` and the human view
//! all read these tables, so that teaching `tiwhook` an event is adding an entry here. Facts come
//! from Tencent's TIW documentation, as summarised in the project's SPEC.

/// What a field's value must be.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Any string.
    Text,
    /// A non-empty string that names something (a task, a user).
    Identifier,
    /// A non-negative integer that names something (a room, an application).
    Id,
    /// A non-negative integer count.
    Count,
    /// Unix seconds.
    UnixTime,
    /// One of a documented set of strings; another value is a warning.
    Choice(&'static [Choice]),
    /// An object with fields of its own.
    Object(&'static [Field]),
    /// The signature: 32 lowercase hexadecimal digits.
    Sign,
    /// The event's own fields, declared by the event type.
    EventData,
}

/// A documented value of a [`Kind::Choice`] field and what it means.
#[derive(Debug)]
pub struct Choice {
    pub value: &'static str,
    pub meaning: &'static str,
}

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
    pub kind: Kind,
    pub presence: Presence,
    /// The key in JSON `details`.
    pub detail: &'static str,
    /// The label in the human view.
    pub label: &'static str,
    /// What the field means, from Tencent's docs.
    pub meaning: &'static str,
}

/// A relation between two fields of an event.
#[derive(Debug)]
pub enum Rule {
    /// `later` may not be before `earlier` (both Unix times); their difference is the duration.
    Span { earlier: &'static str, later: &'static str, label: &'static str },
    /// An `Error` object belongs with this value of the field; with another it is a warning.
    ErrorGoesWith { field: &'static str, value: &'static str },
}

/// One event type.
#[derive(Debug)]
pub struct Event {
    pub name: &'static str,
    /// One line on what the event says.
    pub summary: &'static str,
    pub fields: &'static [Field],
    pub rules: &'static [Rule],
}

impl Event {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn field(
    name: &'static str,
    kind: Kind,
    presence: Presence,
    detail: &'static str,
    label: &'static str,
    meaning: &'static str,
) -> Field {
    Field { name, kind, presence, detail, label, meaning }
}

use Kind::*;
use Presence::*;

/// The envelope every callback shares.
pub static ENVELOPE: &[Field] = &[
    field("EventType", Text, Required, "event_type", "Event", "which event this is"),
    field("EventData", EventData, Required, "event_data", "Data", "the event's own fields"),
    field("SdkAppId", Id, Expected, "sdk_app_id", "SdkAppId", "the whiteboard application"),
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
    field("Code", Identifier, Required, "code", "Code", "the error code, such as FailedOperation.Record"),
    field("Message", Text, Required, "message", "Message", "the error's description"),
];

const TASK_ID: Field = field("TaskId", Identifier, Required, "task_id", "Task", "the push task");
const ROOM_ID: Field = field("RoomId", Id, Required, "room_id", "Room", "the whiteboard room");
const PUSH_USER_ID: Field = field(
    "PushUserId",
    Identifier,
    Required,
    "push_user_id",
    "Push user",
    "the user id the push service entered the room as",
);
const PUSH_START_TIME: Field =
    field("PushStartTime", UnixTime, Required, "start", "Started", "when pushing actually started");

pub static EVENTS: &[Event] = &[
    Event {
        name: "WhiteboardPushStarted",
        summary: "the push service is ready and has begun pushing",
        fields: &[TASK_ID, ROOM_ID, PUSH_USER_ID, PUSH_START_TIME],
        rules: &[],
    },
    Event {
        name: "WhiteboardPushStopped",
        summary: "the push ended",
        fields: &[
            TASK_ID,
            ROOM_ID,
            field("GroupId", Text, Required, "group_id", "IM group", "the whiteboard's IM group"),
            PUSH_USER_ID,
            PUSH_START_TIME,
            field("PushStopTime", UnixTime, Required, "stop", "Stopped", "when pushing actually stopped"),
            field(
                "FinishReason",
                Choice(FINISH_REASONS),
                Required,
                "finish_reason",
                "Finished",
                "why the push ended",
            ),
            field(
                "IMSyncTime",
                UnixTime,
                Required,
                "im_sync_time",
                "IM sync",
                "IM time of the push's first frame, to line up chat with the video",
            ),
            field(
                "ExceptionCnt",
                Count,
                Required,
                "exception_count",
                "Anomalies",
                "how many anomalies occurred during the push",
            ),
            field("Error", Object(ERROR_FIELDS), Optional, "error", "Error", "present only on error"),
        ],
        rules: &[
            Rule::Span { earlier: "PushStartTime", later: "PushStopTime", label: "Duration" },
            Rule::ErrorGoesWith { field: "FinishReason", value: "EXCEPTION" },
        ],
    },
];

/// The declaration of an event type, if `tiwhook` knows it.
pub fn find(name: &str) -> Option<&'static Event> {
    EVENTS.iter().find(|e| e.name == name)
}

/// The most fields one object declares (checked by a test).
pub const MAX_FIELDS: usize = 24;

/// The largest Unix time shown as a date (the last second of 9999).
pub const MAX_UNIX_TIME: u64 = 253_402_300_799;

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn detail_keys_are_unique_within_an_event() {
        for event in EVENTS {
            let mut keys: Vec<_> = ENVELOPE.iter().chain(event.fields).map(|f| f.detail).collect();
            keys.sort();
            let before = keys.len();
            keys.dedup();
            assert_eq!(before, keys.len(), "{}", event.name);
        }
    }
}
