//! The README shows real output: each `$ tiwhook …` console example that prints something is run
//! again and compared with what the README shows, stdout then stderr, as a terminal shows them
//! (the `listen` and `send` sessions need a live peer and are left out; JSON examples are
//! compared as JSON, since the README pretty-prints them).

mod common;

use common::*;

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let (first, shown) = block.split_once('\n').unwrap();
        let Some(command) = first.strip_prefix("$ tiwhook ") else { continue };
        // `listen` and `send` need a live peer; their examples are sessions, shown as they ran.
        if command.starts_with("listen") || command.starts_with("send") || shown.trim().is_empty() {
            continue;
        }
        let args: Vec<&str> = command.split_whitespace().collect();
        let output = tiwhook().args(&args).args(["--color", "never"]).output().unwrap();
        let mut printed = String::from_utf8(output.stdout).unwrap();
        if command.contains("--format json") {
            let shown: Vec<serde_json::Value> =
                serde_json::Deserializer::from_str(shown).into_iter().map(Result::unwrap).collect();
            assert_eq!(json_lines(printed.as_bytes()), shown, "{command}");
        } else {
            // A terminal shows stderr too, after stdout here: the notes come last (CSV is for a
            // file, where stderr does not go).
            if !command.contains("--format csv") {
                printed.push_str(&String::from_utf8(output.stderr).unwrap());
            }
            assert_eq!(printed.trim_end(), shown.trim_end(), "{command}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} examples checked");
}

/// The README's first command, the tour, prints what the README shows (but for the ages, which
/// follow the real clock), on one screen, and exits with status 1 as the README says.
#[test]
fn the_first_run_fits_one_screen_and_is_shown_as_it_prints() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let command = "$ cargo run --release -- --key tiwhook-test-key fixtures/tour/\n";
    let block = &readme[readme.find(command).expect("the tour is in the README") + command.len()..];
    let shown = &block[..block.find("```").unwrap()];
    let output = tiwhook()
        .args(["--key", KEY, "fixtures/tour/", "--color", "never"])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let printed = String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap();
    assert!(printed.lines().count() < 60, "{} lines", printed.lines().count());
    let without_ages = |text: &str| -> Vec<String> {
        text.lines().map(|l| l.split(" (valid for ").next().unwrap().to_string()).collect()
    };
    assert_eq!(without_ages(&printed), without_ages(shown));
}
