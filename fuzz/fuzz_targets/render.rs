//! Fuzzes the human views: whatever a callback holds, `inspect` and `check` output (colored) may
//! contain no character a terminal would act on, apart from line feeds and tiwhook's own colors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiwhook::read::framing::JsonFramer;
use tiwhook::render::check::CheckPrinter;
use tiwhook::render::human::HumanPrinter;
use tiwhook::render::{Printer, View};
use tiwhook::sanitize::is_unsafe;
use tiwhook::judge::signature::Key;
use tiwhook::judge::{self, Policy};

fuzz_target!(|data: &[u8]| {
    colored::control::set_override(true);
    let policy = Policy { keys: vec![Key::new("k", "fuzz")], now: 1_764_054_000, ..Policy::default() };
    let view = View { zone: jiff::tz::TimeZone::UTC, now: policy.now, key_origins: vec!["fuzz".into()], color: true };
    let (mut human_out, mut check_out) = (Vec::new(), Vec::new());
    {
        let mut human = HumanPrinter::new(&mut human_out, view);
        let mut check = CheckPrinter::new(&mut check_out, true);
        let mut documents = JsonFramer::new(data);
        while let Some(item) = documents.next_item().expect("reading a slice cannot fail") {
            let report = judge::judge_item("fuzz\u{1b}[2J", &item, &policy);
            human.callback(&report).expect("writing to a Vec cannot fail");
            check.callback(&report).expect("writing to a Vec cannot fail");
        }
    }
    for out in [human_out, check_out] {
        let text = String::from_utf8(out).expect("output is UTF-8");
        let mut rest = text.as_str();
        while let Some(at) = rest.find('\u{1b}') {
            let tail = &rest[at..];
            let sgr = tail.strip_prefix("\u{1b}[").and_then(|t| {
                let end = t.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
                (t.as_bytes()[end] == b'm').then_some(end)
            });
            let Some(end) = sgr else { panic!("an escape that is not a color: {tail:?}") };
            assert!(!rest[..at].chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
            rest = &tail[2 + end + 1..];
        }
        assert!(!rest.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
    }
});
