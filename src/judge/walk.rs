//! Judges one parsed callback against the event declarations and the signature rules.
//!
//! The walk visits each member once, and for each declared field both reports what is wrong with
//! it and decides its typed [`Value`], so that no printer ever looks at the document again.
//! Every finding in a callback is reported, not only the first, each with a stable code, a JSON
//! Pointer and the line and column of the value. The walk allocates nothing for a valid callback
//! but what its report keeps: paths live on the stack and are written out only for a finding, and
//! [`judge_reusing`] fills a vector handed back by the previous report.

use std::collections::HashSet;

use crate::codes::Code;
use crate::judge::events::{self, Event, Field, Kind, MAX_FIELDS, Presence, Rule};
use crate::judge::report::{
    Choice, Detail, Envelope, Finding, MAX_UNCHECKED_ROWS, Report, Severity, SignatureStatus, UNCHECKED,
    Unchecked, Value, Verdict,
};
use crate::judge::signature::{self, Key};
use crate::read::framing::{Broken, Document, Item};
use crate::read::locate::{self, Anchor, Step};
use crate::read::tape::{JsonDoc, JsonValue, Node};
use crate::read::window::Position;

/// How callbacks are judged: the keys, the clock and the strictness asked for.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub keys: Vec<Key>,
    /// The clock, in Unix seconds.
    pub now: i64,
    /// An expired signature fails.
    pub enforce_expiry: bool,
    /// Warnings fail.
    pub strict: bool,
    /// No view reads the callbacks' details (the terse formats of `check`): each value is still
    /// judged, but none is kept in the report's `fields` or `envelope`.
    pub details_unread: bool,
}

/// Findings shown for one callback at most; a larger haul is summed up in one more.
const MAX_FINDINGS: usize = 50;

/// The report on a piece of input that is not JSON.
pub fn judge_broken<'a>(source: &'a str, broken: &Broken) -> Report<'a> {
    Report {
        source,
        index: broken.index,
        start: broken.start,
        parsed: false,
        event_type: None,
        event: None,
        fields: Vec::new(),
        envelope: empty_envelope(),
        signature: SignatureStatus::Unsigned,
        expire_time: None,
        expired: None,
        findings: vec![Finding {
            severity: Severity::Error,
            code: broken.code,
            path: String::new(),
            message: broken.message.clone(),
            help: broken.help.iter().cloned().collect(),
            at: broken.at,
        }],
        verdict: Verdict::Invalid,
        expected: None,
        arrival: None,
        document: None,
    }
}

/// The report on one item of a reader: a parsed document or a broken piece.
pub fn judge_item<'a>(source: &'a str, item: &Item<'a>, policy: &Policy) -> Report<'a> {
    match item {
        Item::Document(document) => judge(source, document, policy),
        Item::Broken(broken) => judge_broken(source, broken),
    }
}

/// The report on one parsed callback.
pub fn judge<'a>(source: &'a str, document: &Document<'a>, policy: &Policy) -> Report<'a> {
    judge_reusing(source, document, policy, Vec::new())
}

/// [`judge`], filling `fields` (emptied; see [`Report::into_spare_fields`]) instead of a new
/// vector, so that a long stream of callbacks allocates nothing per callback.
pub fn judge_reusing<'a>(
    source: &'a str,
    document: &Document<'a>,
    policy: &Policy,
    fields: Vec<Detail<'static>>,
) -> Report<'a> {
    let mut v = Validator {
        doc: document.doc,
        start: document.start,
        findings: Vec::new(),
        dropped: 0,
        keep_details: !policy.details_unread,
    };
    let root = document.doc.root();
    let mut report = Report {
        source,
        index: document.index,
        start: document.start,
        parsed: true,
        event_type: None,
        event: None,
        fields: crate::judge::report::recycle(fields),
        envelope: empty_envelope(),
        signature: SignatureStatus::Unsigned,
        expire_time: None,
        expired: None,
        findings: Vec::new(),
        verdict: Verdict::Valid,
        expected: None,
        arrival: None,
        document: Some(document.doc),
    };
    if root.is_object() {
        v.judge_object(&mut report, root, policy);
    } else {
        v.not_an_object(root);
    }
    if document.from_repr {
        v.warning(
            Code::PythonRepr,
            &Path::ROOT,
            Anchor::Value,
            "decoded from a Python repr in the log, not the body Tencent sent: strings, numbers and \
             key order may differ from the original"
                .into(),
        );
    }
    report.findings = v.finish();
    settle_verdict(&mut report, policy);
    report
}

/// Sets the verdict from the findings: an error, or under `--strict` any finding, fails.
pub(crate) fn settle_verdict(report: &mut Report<'_>, policy: &Policy) {
    let fails = |f: &Finding| f.severity == Severity::Error || policy.strict;
    if report.findings.iter().any(fails) {
        report.verdict = Verdict::Invalid;
    }
}

/// The envelope fields `details` shows, with nothing in them yet.
fn empty_envelope() -> Envelope<'static> {
    // SdkAppId, Timestamp and ExpireTime, by their place in the envelope's declaration (a test in
    // `events` keeps that order).
    let [_, _, sdk_app_id, timestamp, expire_time, _] = events::ENVELOPE else {
        unreachable!("the envelope declares six fields")
    };
    Envelope::empty([&sdk_app_id.shown, &timestamp.shown, &expire_time.shown])
}

/// A declared field that is absent.
fn missing<'a>(field: &'static Field) -> Detail<'a> {
    Detail { name: &field.shown, value: Value::Missing }
}

/// Adds the duration each span rule of `event` measures right after its later time, when both
/// times are valid and in order.
fn insert_spans(event: &'static Event, found: &Found, details: &mut Vec<Detail>) {
    for rule in event.rules {
        let Rule::Span { earlier, later, ref shown } = *rule else { continue };
        let time = |name| found.get(name).and_then(unix_time);
        let (Some(from), Some(to)) = (time(earlier), time(later)) else { continue };
        let Some(seconds) = to.checked_sub(from) else { continue };
        let Some(later) = event.field(later) else { continue };
        let Some(at) = details.iter().position(|d| std::ptr::eq(d.name, &later.shown)) else { continue };
        details.insert(at + 1, Detail { name: shown, value: Value::Duration(seconds) });
    }
}

/// The fields of an unknown event, kept as they are: compact JSON and flattened rows.
fn unchecked(data: Node) -> Value<'static> {
    let mut rows = Vec::new();
    flatten(data, String::new(), &mut rows);
    let hidden = rows.len().saturating_sub(MAX_UNCHECKED_ROWS);
    rows.truncate(MAX_UNCHECKED_ROWS);
    Value::Unchecked(Box::new(Unchecked { json: compact_json(data), rows, hidden }))
}

/// The scalar values below `node` as (dotted path, text) rows: `Meta.Teacher`, `Items[0].Name`.
/// Empty objects and arrays are shown as `{}` and `[]`. Stops soon after the rows that are kept.
fn flatten(node: Node, prefix: String, rows: &mut Vec<(String, String)>) {
    if rows.len() > MAX_UNCHECKED_ROWS {
        rows.push((prefix, String::new()));
        return;
    }
    match node.value() {
        JsonValue::Object { len, .. } if len > 0 => {
            for (key, child) in node.members() {
                let key = key.as_str();
                let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
                flatten(child, path, rows);
            }
        }
        JsonValue::Array { len, .. } if len > 0 => {
            for (i, child) in node.elements().enumerate() {
                flatten(child, format!("{prefix}[{i}]"), rows);
            }
        }
        _ => {
            let text = match node.as_str() {
                Some(s) => s.to_string(),
                None => compact_json(node),
            };
            rows.push((prefix, text));
        }
    }
}

/// The value as compact JSON.
fn compact_json(node: Node) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and the tape writes UTF-8.
    let _ = node.write_json(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A value that is not of its declared kind, kept as its JSON text for showing.
fn invalid(node: Node) -> Value<'static> {
    Value::Invalid(compact_json(node).into_boxed_str())
}

/// A path into the document, kept on the stack while walking it.
struct Path<'p, 'a> {
    parent: Option<&'p Path<'p, 'a>>,
    step: Option<Step<'a>>,
}

impl<'p, 'a> Path<'p, 'a> {
    const ROOT: Path<'static, 'static> = Path { parent: None, step: None };

    fn key(&'p self, name: &'a str, nth: u32) -> Path<'p, 'a> {
        Path { parent: Some(self), step: Some(Step::Key { name, nth }) }
    }

    fn index(&'p self, i: u32) -> Path<'p, 'a> {
        Path { parent: Some(self), step: Some(Step::Index(i)) }
    }

    fn steps(&self) -> Vec<Step<'a>> {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(path) = at {
            steps.extend(path.step);
            at = path.parent;
        }
        steps.reverse();
        steps
    }
}

/// A JSON Pointer (RFC 6901) for `steps`.
fn pointer(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        out.push('/');
        match step {
            Step::Key { name, .. } => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// Declared fields that may be missing after all, in this callback.
#[derive(Clone, Copy)]
enum Relaxed {
    None,
    Names(&'static [&'static str]),
    All,
}

/// Where each declared field of one object was found: tape indexes in declared order, 0 (the
/// root's, nobody's member) for a field that is absent.
struct Found<'a> {
    doc: JsonDoc<'a>,
    fields: &'static [Field],
    slots: [u32; MAX_FIELDS],
}

impl<'a> Found<'a> {
    fn at(&self, i: usize) -> Option<Node<'a>> {
        self.slots.get(i).copied().filter(|&n| n != 0).map(|n| self.doc.node(n))
    }

    fn get(&self, name: &str) -> Option<Node<'a>> {
        self.at(self.fields.iter().position(|f| f.name == name)?)
    }
}

struct Validator<'a> {
    doc: JsonDoc<'a>,
    start: Position,
    findings: Vec<Finding>,
    dropped: usize,
    /// Values judged are kept as details (see [`Policy::details_unread`]).
    keep_details: bool,
}

impl<'a> Validator<'a> {
    fn finding(
        &mut self,
        severity: Severity,
        code: Code,
        path: &Path,
        anchor: Anchor,
        message: String,
    ) -> Option<&mut Finding> {
        if self.findings.len() >= MAX_FINDINGS {
            self.dropped += 1;
            return None;
        }
        let steps = path.steps();
        let offset = locate::locate(self.doc.bytes(), &steps, anchor);
        let at = self.start.advanced_by(&self.doc.bytes()[..offset]);
        self.findings.push(Finding { severity, code, path: pointer(&steps), message, help: Vec::new(), at });
        self.findings.last_mut()
    }

    fn error(&mut self, code: Code, path: &Path, anchor: Anchor, message: String) -> Option<&mut Finding> {
        self.finding(Severity::Error, code, path, anchor, message)
    }

    fn warning(&mut self, code: Code, path: &Path, anchor: Anchor, message: String) -> Option<&mut Finding> {
        self.finding(Severity::Warning, code, path, anchor, message)
    }

    fn not_an_object(&mut self, root: Node<'a>) {
        let encoded_twice = root.as_str().is_some_and(|s| s.trim_start().starts_with('{'));
        let message = format!("a callback is a JSON object; this is {}", root.type_name());
        if let Some(f) = self.error(Code::NotAnObject, &Path::ROOT, Anchor::Value, message)
            && encoded_twice
        {
            f.help.push("the string holds JSON: was the callback encoded twice?".into());
        }
    }

    /// The envelope, the event type, the event's data and the signature of a callback that is an
    /// object.
    fn judge_object(&mut self, report: &mut Report<'a>, root: Node<'a>, policy: &Policy) {
        // The event decides which envelope fields it may lack, so find it first.
        let declared_type = root.get("EventType").and_then(Node::as_str);
        let event = declared_type.and_then(events::find);
        report.event = event.map(|e| e.name);
        let relaxed = event.map_or(Relaxed::None, |e| Relaxed::Names(e.optional_envelope));
        let envelope = self.check_fields(root, events::ENVELOPE, &Path::ROOT, relaxed, &mut report.fields);
        let [event_type, event_data, _sdk_app_id, _timestamp, expire_time, sign] =
            [0, 1, 2, 3, 4, 5].map(|i| envelope.at(i));
        // Three of the envelope's values are shown with the event's fields; the event type, its
        // data and the signature are shown otherwise.
        for (i, detail) in report.fields.drain(..).enumerate() {
            let shown = match i {
                2 => &mut report.envelope.sdk_app_id.value,
                3 => &mut report.envelope.event_time.value,
                4 => &mut report.envelope.expire_time.value,
                _ => {
                    detail.value.discard();
                    continue;
                }
            };
            std::mem::replace(shown, detail.value).discard();
        }
        report.event_type = event_type.and_then(Node::as_str);
        self.check_event_type(report.event_type, event);
        self.check_event_data(event, event_data, &mut report.fields);
        report.expire_time = expire_time.and_then(unix_time);
        self.check_signature(report, sign, expire_time, policy);
    }

    /// An `EventType` that is no event's: a near miss, an unknown one, or an older name.
    fn check_event_type(&mut self, declared: Option<&str>, event: Option<&'static Event>) {
        let type_path = Path::ROOT.key("EventType", 0);
        match (declared, event) {
            (Some(name), None) => match events::near_miss(name) {
                Some(near) => {
                    let message = format!("`{name}` is not an event type: did you mean `{}`?", near.name);
                    self.error(Code::MisspeltEventType, &type_path, Anchor::Value, message);
                }
                None => {
                    let message = format!(
                        "`{name}` is not an event type tiwhook knows; its fields are shown unchecked"
                    );
                    self.warning(Code::UnknownEventType, &type_path, Anchor::Value, message);
                }
            },
            (Some(name), Some(event)) if name != event.name => {
                let message = format!("`{name}` is an older name of `{}`, checked as that event", event.name);
                self.warning(Code::OldEventName, &type_path, Anchor::Value, message);
            }
            _ => {}
        }
    }

    /// `EventData` against the event's declared fields (each appended to `fields`), or shown
    /// unchecked for an unknown event.
    fn check_event_data(
        &mut self,
        event: Option<&'static Event>,
        event_data: Option<Node<'a>>,
        fields: &mut Vec<Detail<'a>>,
    ) {
        let path = Path::ROOT.key("EventData", 0);
        match (event, event_data) {
            (Some(event), Some(data)) if data.is_object() => {
                // A failed task's callback may hold nothing but its `Error`.
                let only_error = event.field("Error").is_some()
                    && data.members().count() == 1
                    && data.get("Error").is_some();
                let relaxed = if only_error { Relaxed::All } else { Relaxed::None };
                let found = self.check_fields(data, event.fields, &path, relaxed, fields);
                self.check_rules(event, &found, &path);
                if self.keep_details {
                    insert_spans(event, &found, fields);
                }
            }
            (Some(event), _) if self.keep_details => fields.extend(event.fields.iter().map(missing)),
            (Some(_), _) => {}
            (None, Some(data)) => {
                if data.is_object() {
                    self.check_duplicates(data, &path);
                }
                if self.keep_details {
                    fields.push(Detail { name: &UNCHECKED, value: unchecked(data) });
                }
            }
            (None, None) => {}
        }
    }

    /// The findings in the order they stand in the source.
    fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by_key(|f| (f.at.line, f.at.column));
        if self.dropped > 0 {
            let at = self.start;
            self.findings.push(Finding {
                severity: Severity::Warning,
                code: Code::TooManyFindings,
                path: String::new(),
                message: format!("{} more findings in this callback are not shown", self.dropped),
                help: Vec::new(),
                at,
            });
        }
        self.findings
    }

    /// Checks an object's members against its declared fields, appends a detail for each
    /// declared field to `details` (in declared order), and says where each was found.
    fn check_fields(
        &mut self,
        object: Node<'a>,
        fields: &'static [Field],
        path: &Path<'_, 'a>,
        relaxed: Relaxed,
        details: &mut Vec<Detail<'a>>,
    ) -> Found<'a> {
        let mut found = Found { doc: self.doc, fields, slots: [0; MAX_FIELDS] };
        let mut unknown = KeySet::default();
        // Callbacks mostly list their fields in the declared order: try the next one first.
        let mut next = 0;
        for (member, (key, node)) in object.members().enumerate() {
            let declared = match fields.get(next) {
                Some(f) if key.is_known(&f.key) => Some(next),
                _ => fields.iter().position(|f| key.is_known(&f.key)),
            };
            match declared {
                Some(i) if found.slots[i] == 0 => {
                    next = i + 1;
                    found.slots[i] = node.index();
                }
                Some(i) => self.duplicate(object, member, fields[i].name, path),
                None if !unknown.insert(key.as_str()) => self.duplicate(object, member, key.as_str(), path),
                None => {
                    let key = key.as_str();
                    let here = path.key(key, 0);
                    let near = fields.iter().find(|f| f.name.eq_ignore_ascii_case(key));
                    let message = match near {
                        Some(f) => format!("unknown field `{key}`: did you mean `{}`?", f.name),
                        None => format!("unknown field `{key}`"),
                    };
                    self.warning(Code::UnknownField, &here, Anchor::Key, message);
                    self.check_duplicates(node, &here);
                }
            }
        }
        // Each value is judged in declared order, which is the order of the details.
        for (i, field) in fields.iter().enumerate() {
            if let Some(node) = found.at(i) {
                let value = self.check_value(node, field, &path.key(field.name, 0));
                if self.keep_details {
                    details.push(Detail { name: &field.shown, value });
                } else {
                    value.discard();
                }
                continue;
            }
            if self.keep_details {
                details.push(missing(field));
            }
            let presence = match relaxed {
                Relaxed::All => Presence::Optional,
                Relaxed::Names(names) if names.contains(&field.name) => Presence::Optional,
                _ => field.presence,
            };
            let message = || format!("`{}` is missing ({})", field.name, field.meaning);
            match presence {
                Presence::Required => self.error(Code::MissingField, path, Anchor::Value, message()),
                Presence::Expected => self.warning(Code::MissingField, path, Anchor::Value, message()),
                Presence::Optional => None,
            };
        }
        found
    }

    /// Reports the key of `object`'s member number `member`, which repeats an earlier one.
    fn duplicate(&mut self, object: Node<'a>, member: usize, key: &'a str, path: &Path<'_, 'a>) {
        if self.findings.len() >= MAX_FINDINGS {
            self.dropped += 1;
            return;
        }
        let nth = object.members().take(member).filter(|(k, _)| k.is(key)).count() as u32;
        self.error(
            Code::DuplicateKey,
            &path.key(key, nth),
            Anchor::Key,
            format!("`{key}` appears more than once in this object; receivers disagree on which one counts"),
        );
    }

    /// Reports every repeated key in `node` and below it (for values without declarations).
    fn check_duplicates(&mut self, node: Node<'a>, path: &Path<'_, 'a>) {
        match node.value() {
            JsonValue::Object { .. } => {
                let mut keys = KeySet::default();
                for (member, (key, child)) in node.members().enumerate() {
                    let key = key.as_str();
                    if keys.insert(key) {
                        self.check_duplicates(child, &path.key(key, 0));
                    } else {
                        self.duplicate(node, member, key, path);
                    }
                }
            }
            JsonValue::Array { .. } => {
                for (i, element) in node.elements().enumerate() {
                    self.check_duplicates(element, &path.index(i as u32));
                }
            }
            _ => {}
        }
    }

    /// Reports what is wrong with a declared field's value, and decides what the value is.
    fn check_value(&mut self, node: Node<'a>, field: &Field, path: &Path<'_, 'a>) -> Value<'a> {
        let name = field.name;
        match field.kind {
            Kind::Text => match node.as_str() {
                Some(text) => Value::Text(text),
                None => self.wrong_type(node, name, "a string", path).1,
            },
            // Its form and what it proves are judged by `check_signature`; no view shows it.
            Kind::Sign => match node.str_bytes() {
                Some(_) => Value::Missing,
                None => self.wrong_type(node, name, "a string", path).1,
            },
            Kind::TextId => match node.as_str() {
                None => self.wrong_type(node, name, "a string", path).1,
                Some("") => {
                    self.error(Code::EmptyValue, path, Anchor::Value, format!("`{name}` is empty"));
                    Value::Text("")
                }
                Some(text) => Value::Text(text),
            },
            Kind::NumberId
            | Kind::Count
            | Kind::UnixTime
            | Kind::Milliseconds
            | Kind::Bytes
            | Kind::Integer => self.check_integer(node, field, path),
            Kind::Progress => self.check_progress(node, field, path),
            Kind::DateTimeText => self.check_date_text(node, name, path),
            Kind::ArrayOf(fields) => self.check_rows(node, name, fields, path),
            Kind::Array => match node.value() {
                JsonValue::Array { len, .. } => {
                    self.check_duplicates(node, path);
                    Value::List((len > 0).then(|| compact_json(node).into_boxed_str()))
                }
                _ => self.wrong_type(node, name, "an array", path).1,
            },
            Kind::Choice(choices) => self.check_choice(node, name, choices, path),
            Kind::Object(fields) => {
                if node.is_object() {
                    let mut group = Vec::with_capacity(fields.len());
                    self.check_fields(node, fields, path, Relaxed::None, &mut group);
                    Value::Group(group.into_boxed_slice())
                } else {
                    self.wrong_type(node, name, "an object", path).1
                }
            }
            Kind::EventData => {
                if !node.is_object() {
                    self.wrong_type(node, name, "an object", path);
                }
                // Judged field by field, with the event's declarations.
                Value::Missing
            }
        }
    }

    /// An alarm's `YYYY-MM-DD hh:mm:ss` time (or an empty one).
    fn check_date_text(&mut self, node: Node<'a>, name: &str, path: &Path<'_, 'a>) -> Value<'a> {
        match node.as_str() {
            None => self.wrong_type(node, name, "a string", path).1,
            Some(text) if text.is_empty() || is_date_time(text.as_bytes()) => Value::DateText(text),
            Some(text) => {
                let message = format!("`{name}` is `{text}`, not a time like 2023-03-14 15:00:00");
                self.error(Code::BadFormat, path, Anchor::Value, message);
                Value::DateText(text)
            }
        }
    }

    /// An array of objects, each checked against `fields` (a recording's videos).
    fn check_rows(
        &mut self,
        node: Node<'a>,
        name: &str,
        fields: &'static [Field],
        path: &Path<'_, 'a>,
    ) -> Value<'a> {
        if !matches!(node.value(), JsonValue::Array { .. }) {
            return self.wrong_type(node, name, "an array", path).1;
        }
        let mut rows = Vec::new();
        for (i, element) in node.elements().enumerate() {
            let here = path.index(i as u32);
            if element.is_object() {
                let mut row = Vec::with_capacity(fields.len());
                self.check_fields(element, fields, &here, Relaxed::None, &mut row);
                rows.push(Some(row.into_boxed_slice()));
            } else {
                let message = format!("each of `{name}` should be an object, but is {}", element.type_name());
                self.error(Code::WrongType, &here, Anchor::Value, message);
                rows.push(None);
            }
        }
        Value::Rows(rows.into_boxed_slice())
    }

    /// One of the documented values; another is kept, with a warning that lists them.
    fn check_choice(
        &mut self,
        node: Node<'a>,
        name: &str,
        choices: &'static [Choice],
        path: &Path<'_, 'a>,
    ) -> Value<'a> {
        let Some(bytes) = node.str_bytes() else {
            return self.wrong_type(node, name, "a string", path).1;
        };
        if let Some(choice) = choices.iter().find(|c| c.value.as_bytes() == bytes) {
            return Value::Choice(choice);
        }
        let value = node.as_str().unwrap_or_default();
        let known: Vec<_> = choices.iter().map(|c| c.value).collect();
        let message = format!("`{value}` is not a documented {name} (documented: {})", known.join(", "));
        self.warning(Code::UnknownValue, path, Anchor::Value, message);
        Value::Undocumented(value)
    }

    fn check_integer(&mut self, node: Node<'a>, field: &Field, path: &Path<'_, 'a>) -> Value<'a> {
        let name = field.name;
        let too_large = |n: u64| matches!(field.kind, Kind::UnixTime) && n > events::MAX_UNIX_TIME;
        match node.value() {
            JsonValue::UInt(n) if too_large(n) => {
                self.error(
                    Code::OutOfRange,
                    path,
                    Anchor::Value,
                    format!("`{name}` is {n}, past the year 9999: not a Unix time in seconds"),
                );
                invalid(node)
            }
            JsonValue::UInt(n) => match field.kind {
                Kind::UnixTime => Value::Time(n),
                Kind::Milliseconds => Value::Milliseconds(n),
                Kind::Bytes => Value::Bytes(n),
                _ => Value::Count(n),
            },
            JsonValue::Int(n) if matches!(field.kind, Kind::Integer) => Value::Negative(n),
            JsonValue::Int(n) => {
                self.error(Code::NegativeValue, path, Anchor::Value, format!("`{name}` is {n}, below zero"));
                invalid(node)
            }
            JsonValue::Float(f) if f < 0.0 && !matches!(field.kind, Kind::Integer) => {
                self.error(Code::NegativeValue, path, Anchor::Value, format!("`{name}` is {f}, below zero"));
                invalid(node)
            }
            JsonValue::Float(f) if f.is_finite() && f.fract() == 0.0 && f >= 1.8e19 => {
                self.error(
                    Code::OutOfRange,
                    path,
                    Anchor::Value,
                    format!("`{name}` is too large for a 64-bit integer"),
                );
                invalid(node)
            }
            _ => {
                let numeric =
                    node.as_str().is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
                let (finding, value) = self.wrong_type(node, name, "an integer", path);
                if let Some(f) = finding
                    && numeric
                {
                    f.help.push("the string holds a number: Tencent sends it unquoted".into());
                }
                value
            }
        }
    }

    fn check_progress(&mut self, node: Node<'a>, field: &Field, path: &Path<'_, 'a>) -> Value<'a> {
        let name = field.name;
        let expected = "a percentage (an integer from 0 to 100)";
        let percent = match (node.value(), node.as_str().map(|text| (text, text.parse::<u64>()))) {
            (JsonValue::UInt(n), _) => n,
            (_, Some((text, Ok(n)))) => {
                self.warning(
                    Code::ProgressAsString,
                    path,
                    Anchor::Value,
                    format!("`{name}` is the string \"{text}\"; Tencent's samples send an integer"),
                );
                n
            }
            _ => return self.wrong_type(node, name, expected, path).1,
        };
        if percent > 100 {
            self.error(
                Code::OutOfRange,
                path,
                Anchor::Value,
                format!("`{name}` is {percent}, past 100 percent"),
            );
        }
        Value::Percent(percent)
    }

    /// Reports a value of the wrong JSON type; the value is kept as its JSON text.
    fn wrong_type(
        &mut self,
        node: Node<'a>,
        name: &str,
        expected: &str,
        path: &Path<'_, 'a>,
    ) -> (Option<&mut Finding>, Value<'a>) {
        let message = format!("`{name}` should be {expected}, but is {}", node.type_name());
        (self.error(Code::WrongType, path, Anchor::Value, message), invalid(node))
    }

    fn check_rules(&mut self, event: &Event, found: &Found<'a>, path: &Path<'_, 'a>) {
        for rule in event.rules {
            match *rule {
                Rule::Span { earlier, later, .. } => {
                    let time = |name| found.get(name).and_then(unix_time);
                    if let (Some(from), Some(to)) = (time(earlier), time(later))
                        && to < from
                    {
                        self.error(
                            Code::StopBeforeStart,
                            &path.key(later, 0),
                            Anchor::Value,
                            format!("`{later}` ({to}) is {} s before `{earlier}` ({from})", from - to),
                        );
                    }
                }
                Rule::ErrorGoesWith { field, value } => {
                    let actual = found.get(field).and_then(Node::as_str);
                    if found.get("Error").is_some()
                        && let Some(actual) = actual.filter(|a| *a != value)
                    {
                        self.warning(
                            Code::ErrorWithoutException,
                            &path.key("Error", 0),
                            Anchor::Key,
                            format!("an `Error` is present, but `{field}` is {actual}, not {value}"),
                        );
                    }
                }
            }
        }
    }

    /// Records what the signature rules of [`signature::judge`] make of the callback, each
    /// problem placed at the member it is about.
    fn check_signature(
        &mut self,
        report: &mut Report<'a>,
        sign: Option<Node<'a>>,
        expire_time: Option<Node<'a>>,
        policy: &Policy,
    ) {
        let carried = signature::Carried {
            sign: sign.map(|s| s.str_bytes()),
            expire_time_present: expire_time.is_some(),
            expire_time: report.expire_time,
        };
        let judged = signature::judge(carried, &policy.keys, policy.now, policy.enforce_expiry);
        report.signature = judged.status;
        report.expired = judged.expired;
        for problem in judged.problems {
            let path = match problem.about {
                signature::Member::Sign => Path::ROOT.key("Sign", 0),
                signature::Member::ExpireTime => Path::ROOT.key("ExpireTime", 0),
                signature::Member::Callback => Path::ROOT,
            };
            let severity = problem.code.severity();
            if let Some(finding) = self.finding(severity, problem.code, &path, Anchor::Value, problem.message)
            {
                finding.help = problem.help;
            }
        }
    }
}

/// Whether `text` is a `YYYY-MM-DD hh:mm:ss` time.
fn is_date_time(text: &[u8]) -> bool {
    let shape = b"dddd-dd-dd dd:dd:dd";
    text.len() == shape.len()
        && text.iter().zip(shape).all(|(&c, &s)| if s == b'd' { c.is_ascii_digit() } else { c == s })
}

/// The value of a field if it is the Unix time it should be: a non-negative integer up to the
/// end of the year 9999.
pub fn unix_time(node: Node) -> Option<u64> {
    match node.value() {
        JsonValue::UInt(n) if n <= events::MAX_UNIX_TIME => Some(n),
        _ => None,
    }
}

/// The keys of one object seen so far: a list while small, a hash set once large, so that an
/// object with a hundred thousand keys costs linear time.
#[derive(Default)]
struct KeySet<'a> {
    small: Vec<&'a str>,
    large: Option<HashSet<&'a str>>,
}

impl<'a> KeySet<'a> {
    /// Adds `key`; false if it was there already.
    fn insert(&mut self, key: &'a str) -> bool {
        if let Some(large) = &mut self.large {
            return large.insert(key);
        }
        if self.small.contains(&key) {
            return false;
        }
        self.small.push(key);
        if self.small.len() > 16 {
            self.large = Some(self.small.drain(..).collect());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let steps = [Step::Key { name: "a/b~c", nth: 0 }, Step::Index(2)];
        assert_eq!(pointer(&steps), "/a~1b~0c/2");
    }

    #[test]
    fn key_set_switches_to_hashing() {
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let mut set = KeySet::default();
        assert!(names.iter().all(|n| set.insert(n)));
        assert!(!set.insert("k3") && !set.insert("k39"));
    }
}
