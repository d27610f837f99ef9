//! Fuzzes parsing, validation and the signature check, and the JSON Lines printer on the result:
//! every report must be valid JSON with the contract's fields, and the fast writer of callback
//! lines must write what the serde types write, byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiwhook::read::framing::JsonFramer;
use tiwhook::render::Printer;
use tiwhook::render::contract::{CALLBACK_FIELDS, CallbackLine, Line};
use tiwhook::render::json::JsonPrinter;
use tiwhook::judge::signature::Key;
use tiwhook::judge::{self, Policy};

fuzz_target!(|data: &[u8]| {
    let policy = Policy {
        keys: vec![Key::new("tiwhook-test-key", "fuzz"), Key::new(" spaced ", "fuzz 2")],
        now: 1_764_054_000,
        enforce_expiry: data.first().is_some_and(|b| b & 1 == 1),
        strict: data.first().is_some_and(|b| b & 2 == 2),
        details_unread: false,
    };
    let mut out = Vec::new();
    let mut printer = JsonPrinter::new(&mut out);
    let mut documents = JsonFramer::new(data);
    while let Some(item) = documents.next_item().expect("reading a slice cannot fail") {
        let report = judge::judge_item("fuzz", &item, &policy);
        for finding in &report.findings {
            assert!(finding.at.line >= 1 && finding.at.column >= 1);
            assert!(finding.path.is_empty() || finding.path.starts_with('/'));
        }
        let (mut slow, mut fast) = (Vec::new(), Vec::new());
        Line::Callback(CallbackLine::new(&report)).write_to(&mut slow).expect("writing to a Vec cannot fail");
        CallbackLine::new(&report).write_fast(&mut fast);
        assert_eq!(fast, slow, "the fast writer and the serde types differ");
        printer.callback(&report).expect("writing to a Vec cannot fail");
    }
    drop(printer);
    for line in String::from_utf8(out).expect("JSON output is UTF-8").lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        // Every member but the two that only `--expect` adds.
        for key in CALLBACK_FIELDS.iter().filter(|k| !matches!(**k, "expected" | "met")) {
            assert!(value.get(*key).is_some(), "missing {key} in {line}");
        }
    }
});
