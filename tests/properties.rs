//! Property tests: signing then verifying round-trips for any key and ExpireTime, and the human
//! views never let a character from the data act on the terminal.

mod common;

use common::strip_colors;
use proptest::prelude::*;
use tiwhook::judge::signature::{self, Key, SignForm, Verification};
use tiwhook::judge::{self, Policy};
use tiwhook::read::framing::Documents;
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
            let mut documents = Documents::new(json.as_bytes());
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
}
