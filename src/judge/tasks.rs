//! Follows tasks across a stream of reports, for `tiwhook timeline`.
//!
//! One callback says little; a day of them says which pushes are still running, which stopped
//! abnormally, how long each room pushed (push is billed by duration), and which callbacks were
//! Tencent's retries. Valid callbacks are grouped by `TaskId` into [`Task`]s; a delivery identical
//! to one already seen (Tencent retries an unanswered callback every 5 seconds) counts as a
//! duplicate, not an event. Everything is read from the reports' typed fields. Memory grows with
//! the number of tasks, not of callbacks.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::judge::report::{ERROR_KEY, Report, Value};

pub use crate::judge::events::TaskKind;
use crate::judge::events::TaskStep;

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Push => "push",
            TaskKind::Record => "record",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Its start and its stop were seen.
    Finished,
    /// Its start was seen, not its stop.
    Running,
    /// Its stop was seen, not its start (which came before the capture, say).
    StopOnly,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Finished => "finished",
            State::Running => "running",
            State::StopOnly => "stop-only",
        }
    }
}

/// One task, as its callbacks tell it.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub kind: TaskKind,
    pub room: Option<u64>,
    pub start: Option<u64>,
    pub stop: Option<u64>,
    pub finish_reason: Option<FinishReason>,
    /// `Code: Message` of the task's `Error`.
    pub error: Option<String>,
    /// Callbacks delivered for it, duplicates included.
    pub callbacks: u64,
    pub duplicates: u64,
    /// Information that does not agree: two different stops, a stop for another room.
    pub warnings: Vec<TaskWarning>,
    started_seen: bool,
    stop_seen: Option<u64>,
    seen: Vec<u64>,
    order: u64,
}

/// Information about a task that does not agree, typed so that each view writes its times its
/// own way (the human view in `--tz`, JSON in RFC 3339).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskWarning {
    /// A callback (`what`: "start", "stop") names another room than the task's others.
    OtherRoom { what: &'static str, room: u64, known: u64 },
    /// A callback gives another start time than the task's others (Unix seconds).
    OtherStart { what: &'static str, start: u64, known: u64 },
    /// Two different stops were delivered; the first stands.
    TwoStops,
}

impl TaskWarning {
    /// The warning in words, with times written by `time`.
    pub fn text(&self, time: impl Fn(u64) -> String) -> String {
        match self {
            TaskWarning::OtherRoom { what, room, known } => {
                format!("the {what} is for room {room}, the task's other callbacks for room {known}")
            }
            TaskWarning::OtherStart { what, start, known } => {
                format!("the {what} says it started at {}, not {}", time(*start), time(*known))
            }
            TaskWarning::TwoStops => "two different stops were delivered for this task".into(),
        }
    }
}

impl Task {
    pub fn state(&self) -> State {
        match (self.started_seen, self.stop_seen.is_some()) {
            (true, true) => State::Finished,
            (false, true) => State::StopOnly,
            _ => State::Running,
        }
    }

    /// How long it ran: from start to stop, for a task that stopped.
    pub fn duration(&self) -> Option<u64> {
        self.stop?.checked_sub(self.start?)
    }

    /// When it began, for ordering: its start, else its stop.
    pub fn begins(&self) -> u64 {
        self.start.or(self.stop).unwrap_or(0)
    }

    fn set_room(&mut self, room: Option<u64>, what: &'static str) {
        let conflict = settle(&mut self.room, room);
        self.warnings.extend(conflict.map(|(known, room)| TaskWarning::OtherRoom { what, room, known }));
    }

    fn set_start(&mut self, start: Option<u64>, what: &'static str) {
        let conflict = settle(&mut self.start, start);
        self.warnings.extend(conflict.map(|(known, start)| TaskWarning::OtherStart { what, start, known }));
    }
}

/// Fills `slot` with `told` when it is empty; when both are known and differ, the first told is
/// kept and the pair `(known, told)` returned for a warning.
fn settle(slot: &mut Option<u64>, told: Option<u64>) -> Option<(u64, u64)> {
    match (*slot, told) {
        (Some(known), Some(new)) if known != new => Some((known, new)),
        (None, Some(new)) => {
            *slot = Some(new);
            None
        }
        _ => None,
    }
}

/// The tasks of a stream, and what did not belong to one.
#[derive(Default)]
pub struct Timeline {
    tasks: HashMap<String, Task>,
    /// Valid callbacks of events that are no task's (transcoding, alarms, unknown events).
    pub other_callbacks: u64,
    scratch: Vec<u8>,
}

/// `Code: Message` of an `Error` object.
fn error_text(value: &Value) -> Option<String> {
    let Value::Group(members) = value else { return None };
    let part =
        |key| members.iter().find(|d| d.key() == key).and_then(|d| d.value.as_text()).unwrap_or_default();
    Some(format!("{}: {}", part("code"), part("message")))
}

/// How a task finished, as its `FinishReason` says (typed here once, for every view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    Auto,
    UserCall,
    Exception,
    /// A value Tencent's docs do not list, kept as sent.
    Other(String),
}

impl FinishReason {
    pub fn from_text(text: &str) -> FinishReason {
        match text {
            "AUTO" => FinishReason::Auto,
            "USER_CALL" => FinishReason::UserCall,
            "EXCEPTION" => FinishReason::Exception,
            other => FinishReason::Other(other.to_string()),
        }
    }

    /// As Tencent sends it.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Auto => "AUTO",
            FinishReason::UserCall => "USER_CALL",
            FinishReason::Exception => "EXCEPTION",
            FinishReason::Other(text) => text,
        }
    }
}

/// What one valid callback tells the timeline, taken from its report. It owns what it holds, so
/// that it can be taken where the callback is judged and folded, in input order, elsewhere.
#[derive(Clone, Debug)]
pub enum TaskCallback {
    /// A callback of no task: another event, or a task's callback without its TaskId.
    Other,
    Of(TaskFacts),
}

#[derive(Clone, Debug)]
pub struct TaskFacts {
    step: TaskStep,
    kind: TaskKind,
    id: String,
    /// The callback's content, hashed: the same one delivered twice is a duplicate.
    hash: u64,
    room: Option<u64>,
    start: Option<u64>,
    stop: Option<u64>,
    timestamp: Option<u64>,
    finish_reason: Option<FinishReason>,
    error: Option<String>,
}

impl TaskCallback {
    /// The facts of one valid callback; `scratch` is reused for its hash.
    pub fn of(report: &Report, scratch: &mut Vec<u8>) -> TaskCallback {
        // The event table says what each event's callbacks do to their task.
        let Some(role) = report.event.and_then(crate::judge::events::find).and_then(|e| e.task) else {
            return TaskCallback::Other;
        };
        // A failed task's callback may hold nothing but its Error: no task to file it under.
        let Some(id) = report.field("task_id").as_text() else { return TaskCallback::Other };
        scratch.clear();
        report.write_compact(scratch);
        let mut hasher = DefaultHasher::new();
        scratch.hash(&mut hasher);
        let number = |key| report.field(key).as_number();
        TaskCallback::Of(TaskFacts {
            step: role.step,
            kind: role.kind,
            id: id.to_string(),
            hash: hasher.finish(),
            room: number("room_id"),
            start: number("start"),
            stop: number("stop"),
            timestamp: report.envelope.event_time.value.as_number(),
            finish_reason: report.field("finish_reason").as_text().map(FinishReason::from_text),
            error: error_text(report.field(ERROR_KEY)),
        })
    }
}

impl Timeline {
    /// Takes in one valid callback.
    pub fn add(&mut self, report: &Report) {
        let callback = TaskCallback::of(report, &mut self.scratch);
        self.fold(&callback);
    }

    /// Takes in what one valid callback tells, in input order.
    pub fn fold(&mut self, callback: &TaskCallback) {
        let TaskCallback::Of(facts) = callback else {
            self.other_callbacks += 1;
            return;
        };
        let TaskFacts { step, kind, ref id, hash, room, start, stop, timestamp, .. } = *facts;
        let order = self.tasks.len() as u64;
        let task = self.tasks.entry(id.clone()).or_insert_with(|| Task {
            id: id.clone(),
            kind,
            room: None,
            start: None,
            stop: None,
            finish_reason: None,
            error: None,
            callbacks: 0,
            duplicates: 0,
            warnings: Vec::new(),
            started_seen: false,
            stop_seen: None,
            seen: Vec::new(),
            order,
        });
        task.callbacks += 1;
        if task.seen.contains(&hash) {
            task.duplicates += 1;
            return;
        }
        task.seen.push(hash);
        match step {
            TaskStep::Starts { at_callback_time } => {
                task.set_room(room, "start");
                task.set_start(if at_callback_time { timestamp } else { start }, "start");
                task.started_seen = true;
            }
            TaskStep::Finishes => {
                // Push and recording times alike are `start` and `stop` in the details.
                if task.stop_seen.is_some_and(|h| h != hash) && task.finish_reason.is_some() {
                    task.warnings.push(TaskWarning::TwoStops);
                }
                task.set_room(room, "stop");
                if kind == TaskKind::Push || !task.started_seen {
                    task.set_start(start, "stop");
                }
                // The first stop delivered stands; a different one only earns a warning.
                if task.finish_reason.is_none() {
                    task.stop = stop.or(task.stop);
                    task.finish_reason = facts.finish_reason.clone();
                    task.error = facts.error.clone();
                }
                task.stop_seen = Some(hash);
            }
            TaskStep::Stops => {
                task.set_room(room, "stop");
                let stop = stop.or(timestamp);
                if task.stop.is_none() {
                    task.stop = stop;
                }
                task.stop_seen.get_or_insert(hash);
            }
            TaskStep::Tells => task.set_room(room, "callback"),
        }
    }

    /// The tasks, in the order they began (then the order they were first seen).
    pub fn tasks(&self) -> Vec<&Task> {
        let mut tasks: Vec<&Task> = self.tasks.values().collect();
        tasks.sort_by_key(|t| (t.begins(), t.order));
        tasks
    }
}

/// Figures over a set of tasks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub tasks: u64,
    pub finished: u64,
    pub running: u64,
    pub stop_only: u64,
    pub duplicates: u64,
    /// Durations of the finished and stop-only push tasks, summed.
    pub push_seconds: u64,
    /// Likewise for recording tasks.
    pub record_seconds: u64,
    /// Per room: tasks and push seconds, by room id.
    pub by_room: Vec<(u64, u64, u64)>,
    /// Per finish reason: how many tasks.
    pub by_reason: Vec<(String, u64)>,
}

pub fn totals(tasks: &[&Task]) -> Totals {
    let mut totals = Totals { tasks: tasks.len() as u64, ..Totals::default() };
    let mut rooms: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut reasons: HashMap<String, u64> = HashMap::new();
    for task in tasks {
        match task.state() {
            State::Finished => totals.finished += 1,
            State::Running => totals.running += 1,
            State::StopOnly => totals.stop_only += 1,
        }
        totals.duplicates += task.duplicates;
        let seconds = if task.state() == State::Running { 0 } else { task.duration().unwrap_or(0) };
        match task.kind {
            TaskKind::Push => totals.push_seconds += seconds,
            TaskKind::Record => totals.record_seconds += seconds,
        }
        if let Some(room) = task.room {
            let entry = rooms.entry(room).or_default();
            entry.0 += 1;
            if task.kind == TaskKind::Push {
                entry.1 += seconds;
            }
        }
        if let Some(reason) = &task.finish_reason {
            *reasons.entry(reason.as_str().to_string()).or_default() += 1;
        }
    }
    totals.by_room = rooms.into_iter().map(|(room, (n, s))| (room, n, s)).collect();
    totals.by_room.sort();
    totals.by_reason = reasons.into_iter().collect();
    totals.by_reason.sort();
    totals
}
