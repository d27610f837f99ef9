//! A CI step must not pass having checked nothing: no key, no input, unreadable inputs, through
//! the binary.

mod common;

use common::*;
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn a_required_signature_without_any_key_is_a_usage_error_before_reading() {
    let mismatch = fixture("invalid/signature-mismatch.json");
    tiwhook_fixed(&["check", "--require-signature", &mismatch])
        .env("TIW_CALLBACK_KEY", "")
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("no callback key: --require-signature needs --key, --key-file or TIW_CALLBACK_KEY"));
    // With a key, the signature is checked and the mismatch fails the run.
    tiwhook_fixed(&["check", "--require-signature", "--key", KEY, &mismatch])
        .assert()
        .code(1)
        .stdout(contains("error[signature-mismatch]"));
    tiwhook_fixed(&["check", "--require-signature", &fixture("signed/push-started.json")])
        .env("TIW_CALLBACK_KEY", KEY)
        .assert()
        .code(0);
}

#[test]
fn a_named_key_variable_that_is_unset_or_empty_is_a_usage_error() {
    let signed = fixture("signed/push-started.json");
    tiwhook_fixed(&["check", "--key-env", "NOPE_UNSET", &signed])
        .assert()
        .code(2)
        .stderr(contains("--key-env NOPE_UNSET: the variable is not set"));
    tiwhook_fixed(&["check", "--key-env", "CI_KEY", &signed])
        .env("CI_KEY", "")
        .assert()
        .code(2)
        .stderr(contains("--key-env CI_KEY: the variable is empty"));
    tiwhook_fixed(&["check", "--key-env", "CI_KEY", &signed]).env("CI_KEY", KEY).assert().code(0);
    // The default variable stays optional.
    tiwhook_fixed(&["check", &signed]).assert().code(0);
}

#[test]
fn a_run_that_finds_no_callback_fails_unless_allowed() {
    let dir = temp_dir("nothing");
    let empty_file = dir.join("empty.json");
    std::fs::write(&empty_file, "").unwrap();
    let array = dir.join("array.json");
    std::fs::write(&array, "[]").unwrap();
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let (dir_s, file_s, array_s, sub_s) =
        (dir.to_str().unwrap(), empty_file.to_str().unwrap(), array.to_str().unwrap(), sub.to_str().unwrap());
    for args in [
        vec!["check", sub_s],
        vec!["check", file_s],
        vec!["check", array_s],
        vec!["check", "--expect", "invalid", sub_s],
        vec!["inspect", sub_s],
        vec!["timeline", sub_s],
        vec![sub_s],
    ] {
        tiwhook_fixed(&args)
            .assert()
            .code(1)
            .stderr(contains("error: no callbacks found in").and(contains("--allow-empty")));
    }
    tiwhook_fixed(&["check", "--allow-empty", dir_s]).assert().code(0);
    tiwhook_fixed(&["check"])
        .write_stdin("")
        .assert()
        .code(1)
        .stderr(contains("no callbacks found in stdin"));
    // Machine formats say it in their own output too.
    tiwhook_fixed(&["check", "--format", "github", sub_s])
        .assert()
        .code(1)
        .stdout(contains("::error title=tiwhook no-callbacks::no callbacks found in"));
    let output = tiwhook_fixed(&["check", "--format", "json", sub_s]).output().unwrap();
    let lines = json_lines(&output.stdout);
    assert_eq!(lines[0]["type"], "no_callbacks");
    assert_eq!(lines[1]["callbacks"], 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_input_without_callbacks_among_others_is_a_warning_that_strict_fails() {
    let dir = temp_dir("among");
    std::fs::write(dir.join("a.json"), started_line("a")).unwrap();
    std::fs::write(dir.join("b.json"), "[]").unwrap();
    let dir_s = dir.to_str().unwrap();
    tiwhook_fixed(&["check", "--key", KEY, dir_s])
        .assert()
        .code(0)
        .stdout(contains("1 callback in 2 sources: 1 valid, 0 invalid, 1 warning"))
        .stderr(contains("b.json: warning[empty-input]: holds no callback, while other inputs do"));
    tiwhook_fixed(&["check", "--strict", "--key", KEY, dir_s]).assert().code(1);
    let output = tiwhook_fixed(&["check", "--format", "json", "--key", KEY, dir_s]).output().unwrap();
    let lines = json_lines(&output.stdout);
    let empty = lines.iter().find(|l| l["type"] == "empty_input").expect("an empty_input line");
    assert!(empty["source"].as_str().unwrap().ends_with("b.json"));
    assert_eq!(lines.last().unwrap()["warnings"], 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_machine_format_accounts_for_an_unreadable_input() {
    let signed = fixture("signed/push-started.json");
    let junit = tiwhook_fixed(&["check", "--format", "junit", "nope.json", &signed]).output().unwrap();
    assert_eq!(junit.status.code(), Some(2));
    let xml = String::from_utf8(junit.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("nope.json"))
        .expect("a test case for the unreadable input");
    let error = case.children().find(|n| n.has_tag_name("error")).expect("an error");
    assert!(error.attribute("message").unwrap().contains("No such file"), "{xml}");
    assert_eq!(doc.root_element().attribute("errors"), Some("1"));
    assert_eq!(doc.root_element().attribute("tests"), Some("2"));

    tiwhook_fixed(&["check", "--format", "github", "nope.json", &signed])
        .assert()
        .code(2)
        .stdout(contains("::error file=nope.json,title=tiwhook unreadable::No such file"));

    let json = tiwhook_fixed(&["check", "--format", "json", "nope.json", &signed]).output().unwrap();
    let lines = json_lines(&json.stdout);
    assert_eq!(lines[0]["type"], "unreadable");
    assert_eq!(lines[0]["source"], "nope.json");
    assert!(lines[0]["message"].as_str().unwrap().contains("No such file"));
    assert_eq!(lines[1]["type"], "callback");
    assert_eq!(lines[2]["unreadable"], 1);
}

#[test]
fn without_a_key_an_unchecked_signature_is_said_beside_the_verdict_and_in_the_summary() {
    let mismatch = fixture("invalid/signature-mismatch.json");
    tiwhook_fixed(&[&mismatch])
        .assert()
        .code(0)
        .stdout(contains("✓ valid  signature unchecked (no key given)"))
        .stdout(contains("1 signature not checked: no key (use --key, --key-file or TIW_CALLBACK_KEY)"));
    tiwhook_fixed(&["check", &fixture("signed")])
        .assert()
        .code(0)
        .stdout(contains("signatures not checked: no key (use --key, --key-file or TIW_CALLBACK_KEY)"));
    let (_, summary, _) = run_json(&["check", &mismatch], None);
    assert_eq!(summary["signatures_unchecked"], 1);
    // With a key, nothing of the kind.
    tiwhook_fixed(&["--key", KEY, &fixture("signed/push-started.json")])
        .assert()
        .code(0)
        .stdout(contains("unchecked").not());
}

#[test]
fn short_options_and_quiet() {
    let signed = fixture("signed");
    tiwhook_fixed(&["check", "-q", "-k", KEY, &signed]).assert().code(0).stdout("").stderr("");
    tiwhook_fixed(&["check", "-q", "-k", KEY, &fixture("invalid/stop-before-start.json")])
        .assert()
        .code(1)
        .stdout(contains("error[stop-before-start]").and(contains("1 callback in 1 source")));
    tiwhook_fixed(&["-q", "-k", KEY, &fixture("signed/push-started.json")])
        .assert()
        .code(0)
        .stdout(contains("✓ valid").and(contains("note:").not()))
        .stderr("");
    let (lines, _, code) = run_json(&["check", "-k", KEY, &fixture("signed/push-started.json")], None);
    assert_eq!((code, lines[0]["signature"].as_str()), (0, Some("valid")));
    tiwhook_fixed(&["check", "-f", "github", "-k", KEY, &fixture("invalid/wrong-type.json")])
        .assert()
        .code(1)
        .stdout(contains("::error file=fixtures/invalid/wrong-type.json"));
}
