//! The everyday view (issue: one line per callback, hints that teach once, messages that name
//! the cause): what a person sees on a terminal, through the real binary.

mod common;

use common::*;

fn flat(path: &str) -> String {
    read_fixture(path).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_line_cut_short_is_reported_on_its_own_line_and_the_next_is_read() {
    let line = flat("signed/push-started.json");
    for cut in [60, 80] {
        let input = format!("{line}\n{}\n{line}\n", &line[..cut]);
        let output = tiwhook_fixed(&["check", "--key", KEY]).write_stdin(input).output().unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("-:2:"), "blamed on line 2: {first}");
        assert!(first.contains("cut off before its end: line 3 starts another document"), "{first}");
        assert!(text.contains("3 callbacks in 1 source: 2 valid, 1 invalid"), "{text}");
    }
}
