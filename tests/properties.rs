//! Property tests: signing then verifying round-trips for any key and ExpireTime, the human views
//! never let a character from the data act on the terminal, a callback is found in a log line
//! whatever its prefix and form, and compressed data decodes to what was compressed or to an
//! error, never to anything else.

mod common;

use common::strip_colors;
use proptest::prelude::*;
use tiwhook::judge::signature::{self, Key, SignForm, Verification};
use tiwhook::judge::{self, Policy};
use tiwhook::read::archive::{self, ArchiveError};
use tiwhook::read::extract::LogFramer;
use tiwhook::read::framing::{Item, JsonFramer};
use tiwhook::render::check::CheckPrinter;
use tiwhook::render::human::HumanPrinter;
use tiwhook::render::{Printer, View};
use tiwhook::sanitize::is_unsafe;

proptest! {
    #[test]
    fn signing_then_verifying_round_trips(key in proptest::collection::vec(any::<u8>(), 1..80), expire in any::<u64>()) {
        let sign = signature::sign(&key, expire);
        prop_assert_eq!(sign.len(), 32);
        let SignForm::Lowercase(bytes) = signature::parse_sign(sign.as_bytes()) else {
            return Err(TestCaseError::fail("a Sign we made is lower-case hex"));
        };
        let keys = [Key::new(b"another key".to_vec(), "a"), Key::new(key.clone(), "b")];
        prop_assert_eq!(signature::verify(&keys, &bytes, expire), Verification::Valid(1));
        if expire > 0 {
            let verdict = signature::verify(&keys[1..], &bytes, expire - 1);
            prop_assert!(matches!(verdict, Verification::Mismatch(_)));
        }
    }

    #[test]
    fn the_human_views_never_emit_a_control_character_from_the_data(
        text in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z]{0,40}",
        field in 0usize..6,
    ) {
        let fields = ["TaskId", "PushUserId", "GroupId", "FinishReason", "Unknown", "EventType"];
        let value = serde_json::to_string(&text).unwrap();
        let mut data = serde_json::json!({
            "TaskId": "t", "RoomId": 1, "GroupId": "1", "PushUserId": "u", "FinishReason": "AUTO",
            "PushStartTime": 1, "PushStopTime": 2, "IMSyncTime": 1, "ExceptionCnt": 0,
        });
        let mut event_type = "\"WhiteboardPushStopped\"".to_string();
        match fields[field] {
            "EventType" => event_type = value.clone(),
            name => { data[name] = serde_json::Value::String(text.clone()); }
        }
        let json = format!(r#"{{"EventType":{event_type},"EventData":{data},"Timestamp":1,"Sign":{value},"ExpireTime":9}}"#);
        colored::control::set_override(true);
        let policy = Policy { keys: vec![Key::new("k", "p")], now: 10, ..Policy::default() };
        let view = View { zone: jiff::tz::TimeZone::UTC, now: 10, key_origins: vec!["p".into()], color: true };
        let mut human_out = Vec::new();
        let mut check_out = Vec::new();
        {
            let mut human = HumanPrinter::new(&mut human_out, view);
            let mut check = CheckPrinter::new(&mut check_out, true);
            let mut documents = JsonFramer::new(json.as_bytes());
            while let Some(item) = documents.next_item().unwrap() {
                let report = judge::judge_item("p", &item, &policy);
                human.callback(&report).unwrap();
                check.callback(&report).unwrap();
            }
        }
        for out in [human_out, check_out] {
            let text = String::from_utf8(out).unwrap();
            let without_colors = strip_colors(&text);
            let bad = without_colors.chars().find(|&c| c != '\n' && is_unsafe(c));
            prop_assert_eq!(bad, None, "{:?}", without_colors);
        }
    }

    #[test]
    fn a_callback_is_found_in_a_log_line_whatever_its_prefix_and_form(
        prefix in "[^{\\n\\r]{0,60}",
        task in "[a-z0-9\\u{4e00}-\\u{4e10}\"\\\\]{1,20}",
        form in 0usize..3,
    ) {
        let callback = serde_json::json!({
            "EventType": "WhiteboardPushStarted",
            "EventData": {"TaskId": task, "RoomId": 1, "PushUserId": "u", "PushStartTime": 1},
        }).to_string();
        let body = match form {
            0 => callback.clone(),
            1 => serde_json::json!({"msg": "tiw callback", "req": {"body": callback}}).to_string(),
            _ => callback.bytes().map(|b| match b {
                b'"' | b'\\' | 0x80.. => format!("\\x{b:02X}"),
                _ => (b as char).to_string(),
            }).collect(),
        };
        let line = format!("{prefix}{body}\n");
        let mut extracted = LogFramer::new(line.as_bytes());
        let Ok(Some(Item::Document(document))) = extracted.next_item() else {
            return Err(TestCaseError::fail(format!("no callback in {line:?}")));
        };
        let found = document.doc.root().get("EventData").and_then(|d| d.get("TaskId")).and_then(|t| t.as_str());
        prop_assert_eq!(found, Some(task.as_str()));
        prop_assert_eq!(document.start.line, 1);
        if form == 0 {
            prop_assert_eq!(document.start.column, prefix.chars().count() as u64 + 1);
        }
        prop_assert!(extracted.next_item().unwrap().is_none());
    }

    #[test]
    fn compressed_data_decodes_to_what_was_compressed_or_to_an_error(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        zstd in any::<bool>(),
        cut in any::<proptest::sample::Index>(),
    ) {
        use std::io::{Read, Write};
        let compressed = if zstd {
            zstd::encode_all(&data[..], 3).unwrap()
        } else {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&data).unwrap();
            encoder.finish().unwrap()
        };
        let read = |bytes: Vec<u8>| {
            let (mut reader, _) = archive::decompressing(Box::new(std::io::Cursor::new(bytes))).unwrap();
            let mut out = Vec::new();
            let result = reader.read_to_end(&mut out);
            (result, out)
        };
        let (whole, out) = read(compressed.clone());
        prop_assert!(whole.is_ok());
        prop_assert_eq!(&out, &data);
        let at = cut.index(compressed.len());
        let (result, out) = read(compressed[..at].to_vec());
        // Cut short: what came out is a beginning of the data, and the end is an archive error
        // (or, cut before its magic number, the bytes are read as the plain text they are).
        if at >= 4 {
            let error = result.expect_err("a cut archive fails");
            prop_assert!(ArchiveError::of(&error).is_some(), "{}", error);
            prop_assert!(data.starts_with(&out));
        }
    }
}

/// Every callback `--extract` finds in `log`, as JSON values.
fn extracted(log: &[u8]) -> Vec<serde_json::Value> {
    let mut extracted = LogFramer::new(log);
    let mut found = Vec::new();
    while let Some(item) = extracted.next_item().unwrap() {
        if let Item::Document(d) = item {
            found.push(serde_json::from_slice(d.doc.bytes()).unwrap());
        }
    }
    found
}

/// `value` as Python's `repr` writes a dict of plain values.
fn python_repr(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "None".into(),
        serde_json::Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        out.push_str(&format!("\\x{:02x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", "))
        }
        serde_json::Value::Object(members) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&serde_json::Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A callback wrapped in each form production logs use; `--extract` must give it back.
fn wrapped_forms(callback: &serde_json::Value, cut: usize) -> Vec<(&'static str, Vec<u8>)> {
    let compact = serde_json::to_string(callback).unwrap();
    let app = format!("2026-11-30T10:00:01Z INFO tiw callback body={compact}");
    let docker = |text: &str| {
        serde_json::json!({"log": format!("{text}\n"), "stream": "stdout", "time": "t"}).to_string()
    };
    let zap = serde_json::json!({"level": "info", "msg": "tiw callback", "body": compact}).to_string();
    let cut = cut % app.len().max(1);
    let (first, second) = app.split_at(app.char_indices().map(|(i, _)| i).rfind(|&i| i <= cut).unwrap_or(0));
    let cri = format!(
        "2026-11-30T10:00:01.000000001Z stdout P {first}\n2026-11-30T10:00:01.000000002Z stdout F {second}\n"
    );
    let csv = format!("t,INFO,\"{}\"\n", app.replace('"', "\"\""));
    let journald_bytes: Vec<u8> = app.bytes().collect();
    let journald = serde_json::json!({"MESSAGE": journald_bytes, "_PID": "1"}).to_string();
    let escaped = serde_json::to_string(&compact).unwrap();
    let nginx_json = format!("1.2.3.4 \"POST /tiw\" body:\"{}\"", &escaped[1..escaped.len() - 1]);
    let pretty =
        format!("INFO callback body={}\nnext line\n", serde_json::to_string_pretty(callback).unwrap());
    let percent: String = compact
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let repr = format!("INFO:app.tiw:callback {}\n", python_repr(callback));
    vec![
        ("python repr", repr.into_bytes()),
        ("docker", docker(&app).into_bytes()),
        ("zap in docker", docker(&zap).into_bytes()),
        ("cri", cri.into_bytes()),
        ("csv", csv.into_bytes()),
        ("journald bytes", journald.into_bytes()),
        ("nginx escape=json", nginx_json.into_bytes()),
        ("pretty", pretty.into_bytes()),
        ("percent", format!("body={percent}\n").into_bytes()),
    ]
}

proptest! {
    #[test]
    fn every_wrapping_of_a_log_gives_the_callback_back(
        task in "[a-z0-9]{1,20}|\\PC{1,12}",
        user in "\\PC{0,12}",
        room in any::<u32>(),
        cut in any::<usize>(),
    ) {
        let callback = serde_json::json!({
            "EventType": "WhiteboardPushStarted",
            "EventData": {"TaskId": task, "RoomId": room, "PushUserId": user, "PushStartTime": 1764054000},
            "SdkAppId": 1400313729, "Timestamp": 1764054001,
        });
        for (form, log) in wrapped_forms(&callback, cut) {
            prop_assert_eq!(extracted(&log), vec![callback.clone()], "{}: {}", form, String::from_utf8_lossy(&log));
        }
    }
}

/// A JSON value of any of the shapes a field can be sent in, well-formed or not.
fn any_field_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        "[a-zA-Z0-9_]{0,12}|\\PC{0,6}".prop_map(serde_json::Value::String),
        prop_oneof![Just("AUTO"), Just("USER_CALL"), Just("EXCEPTION"), Just("auto"), Just("")]
            .prop_map(|s| json!(s)),
        any::<u64>().prop_map(|n| json!(n)),
        (0u64..5_000_000_000).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(1.5)),
        Just(json!(true)),
        Just(json!(null)),
        Just(json!([])),
        Just(json!([1, {"a": 2}])),
        Just(json!({"Code": "E1", "Message": "failed"})),
        Just(json!({"Code": 3})),
    ]
}

proptest! {
    /// Keeping no details (the terse formats of `check`) judges every callback alike: the same
    /// findings, verdict and signature, whatever fields it holds or lacks.
    #[test]
    fn keeping_no_details_judges_alike(
        event in prop_oneof![
            Just("WhiteboardPushStarted"), Just("WhiteboardPushStopped"), Just("WhiteboardPushStoped"),
            Just("TranscodeFinished"), Just("SomethingElse"),
        ],
        present in proptest::collection::vec(any::<bool>(), 14),
        values in proptest::collection::vec(any_field_value(), 14),
        data_is_object in any::<bool>(),
    ) {
        let names = [
            "TaskId", "RoomId", "GroupId", "PushUserId", "FinishReason", "PushStartTime", "PushStopTime",
            "IMSyncTime", "ExceptionCnt", "Error", "Extra", "SdkAppId", "Timestamp", "ExpireTime",
        ];
        let mut data = serde_json::Map::new();
        let mut envelope = serde_json::Map::new();
        envelope.insert("EventType".into(), serde_json::json!(event));
        envelope.insert("Sign".into(), serde_json::json!(signature::sign(b"k", 4_102_444_800)));
        for (i, name) in names.iter().enumerate().filter(|(i, _)| present[*i]) {
            let target = if i >= 11 { &mut envelope } else { &mut data };
            target.insert((*name).into(), values[i].clone());
        }
        let data = if data_is_object { serde_json::Value::Object(data) } else { serde_json::json!([1]) };
        envelope.insert("EventData".into(), data);
        let json = serde_json::Value::Object(envelope).to_string();
        let policy = Policy { keys: vec![Key::new("k", "p")], now: 1_764_054_000, ..Policy::default() };
        let terse = Policy { details_unread: true, ..policy.clone() };
        let mut documents = JsonFramer::new(json.as_bytes());
        let item = documents.next_item().unwrap().expect("one document");
        let full = judge::judge_item("p", &item, &policy);
        let lean = judge::judge_item("p", &item, &terse);
        prop_assert_eq!(&full.findings, &lean.findings, "{}", json);
        prop_assert_eq!(full.verdict, lean.verdict);
        prop_assert_eq!(full.signature, lean.signature);
        prop_assert_eq!(full.expire_time, lean.expire_time);
        prop_assert_eq!(full.event_type, lean.event_type);
        prop_assert!(lean.fields.is_empty(), "{:?}", lean.fields);
        prop_assert!(!full.fields.is_empty() || full.event.is_none());
    }
}
