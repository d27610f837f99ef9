//! Fixture tooling and CI integration through the real binary: sign, example, --expect, GitHub
//! annotations, JUnit XML, completions and the man page.

mod common;

use common::*;
use predicates::str::contains;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tiwhook-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sign_gives_the_documented_worked_example() {
    let out = tiwhook()
        .args([
            "sign",
            "--key",
            "Xz4ZgayTr7rMgWQrH",
            "--expire-at",
            "1588040109",
            &fixture("docs/push-started.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let original = read_fixture("docs/push-started.json");
    // Only the two values change: the docs' Sign is right for this ExpireTime.
    assert_eq!(text, original.replace("\"ExpireTime\": 1590046391", "\"ExpireTime\": 1588040109"));
    assert!(text.contains("\"Sign\": \"a2dabb362a9b811c0e26953a6276a41c\""));
}

#[test]
fn sign_then_check_passes_for_singles_arrays_and_streams_keeping_their_layout() {
    let dir = temp_dir("sign");
    let cases = [
        ("one.json", read_fixture("invalid/signature-missing.json")),
        ("batch.json", read_fixture("signed/batch.json")),
        ("stream.ndjson", read_fixture("signed/stream.ndjson")),
    ];
    for (name, text) in &cases {
        std::fs::write(dir.join(name), text).unwrap();
    }
    tiwhook()
        .args([
            "sign",
            "--key",
            "new-key",
            "--expire-in",
            "10y",
            "--now",
            NOW,
            "--in-place",
            dir.to_str().unwrap(),
        ])
        .assert()
        .code(0)
        .stdout("");
    for (name, before) in &cases {
        let after = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(
            after.lines().count(),
            before.lines().count() + usize::from(*name == "one.json") * 2,
            "{name}: {after}"
        );
        assert_eq!(after.contains("\n  \""), before.contains("\n  \""), "{name}: layout kept");
    }
    tiwhook_fixed(&["check", "--strict", "--enforce-expiry", "--key", "new-key", dir.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout(contains("6 callbacks in 3 sources: 6 valid"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");
}

#[test]
fn sign_needs_a_key_and_an_expiry() {
    let path = fixture("signed/push-started.json");
    tiwhook()
        .args(["sign", "--expire-in", "1d", &path])
        .assert()
        .code(2)
        .stderr(contains("sign needs a key"));
    tiwhook().args(["sign", "--key", "k", &path]).assert().code(2).stderr(contains("--expire-at"));
    tiwhook()
        .args(["sign", "--key", "k", "--expire-in", "soon", &path])
        .assert()
        .code(2)
        .stderr(contains("--expire-in"));
    tiwhook()
        .args(["sign", "--key", "k", "--expire-in", "1d", "--in-place"])
        .assert()
        .code(2)
        .stderr(contains("stdin"));
    tiwhook().args(["sign", "--expire-in", "1d", &path]).env("TIW_CALLBACK_KEY", "from-env").assert().code(0);
}

#[test]
fn sign_reports_what_it_cannot_sign_and_passes_it_through() {
    let input = format!("{}\nnot json\n[1]\n", started_line("a"));
    let out = tiwhook()
        .args(["sign", "--key", "k", "--expire-at", "5"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("\nnot json\n[1]\n"), "{text}");
    assert!(text.contains(&format!("\"Sign\":\"{}\"", tiwhook::judge::signature::sign(b"k", 5))));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("-:2:1: not signed") && stderr.contains("-:3:2: not signed"), "{stderr}");
}

#[test]
fn every_example_passes_strict_checking_with_its_key_and_clock() {
    let list = tiwhook().args(["example", "--list"]).output().unwrap();
    let names: Vec<String> = String::from_utf8(list.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(names.len(), tiwhook::judge::events::EVENTS.len());
    for name in &names {
        let sample = tiwhook().args(["example", name, "--key", "k", "--now", NOW]).output().unwrap();
        assert_eq!(sample.status.code(), Some(0), "{name}");
        tiwhook_fixed(&["check", "--strict", "--enforce-expiry", "--key", "k"])
            .write_stdin(sample.stdout.clone())
            .assert()
            .code(0)
            .stdout(contains("1 valid"));
        let unsigned = tiwhook().args(["example", name, "--now", NOW]).output().unwrap();
        assert!(!String::from_utf8_lossy(&unsigned.stdout).contains("Sign"), "{name}");
    }
    tiwhook().args(["example", "NoSuchEvent"]).assert().code(2).stderr(contains("known events"));
}

#[test]
fn expect_asserts_every_verdict() {
    let strict = ["check", "--strict", "--enforce-expiry", "--key", KEY];
    let invalid = fixture("invalid");
    let mut args = strict.to_vec();
    args.extend(["--expect", "invalid", &invalid]);
    tiwhook_fixed(&args).assert().code(0).stdout(contains("met the expectation (invalid), 0 did not"));
    let signed = fixture("signed");
    let mut args = strict.to_vec();
    args.extend(["--expect", "valid", &signed]);
    tiwhook_fixed(&args).assert().code(0);
    let mut args = strict.to_vec();
    let stopped = fixture("signed/push-stopped.json");
    args.extend(["--expect", "invalid", &stopped]);
    tiwhook_fixed(&args)
        .assert()
        .code(1)
        .stdout(contains("fixtures/signed/push-stopped.json:1:1: error[unexpected-verdict]: expected this callback to be invalid, but it is valid"));
    let (lines, summary, code) = run_json(&["check", "--expect", "invalid", &stopped], None);
    assert_eq!(code, 1);
    assert_eq!((lines[0]["expected"].as_str(), lines[0]["met"].as_bool()), (Some("invalid"), Some(false)));
    assert_eq!(summary["unmet"], 1);
}

#[test]
fn github_annotations_point_at_the_offending_line() {
    let out = tiwhook_fixed(&[
        "check",
        "--format",
        "github",
        &fixture("invalid/wrong-type.json"),
        &fixture("invalid/unknown-field.json"),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "::error file=fixtures/invalid/wrong-type.json,line=5,col=15,title=tiwhook wrong-type::`RoomId` should be an integer, but is a string%0Ahelp: the string holds a number: Tencent sends it unquoted"
    );
    assert_eq!(
        lines[1],
        "::warning file=fixtures/invalid/unknown-field.json,line=8,col=5,title=tiwhook unknown-field::unknown field `PushUrl`"
    );
    assert_eq!(
        lines[2],
        "2 callbacks in 2 sources: 1 valid, 1 invalid, 1 warning; \
         2 signatures not checked: no key (use --key, --key-file or TIW_CALLBACK_KEY)"
    );
}

#[test]
fn junit_xml_has_a_testcase_per_callback_and_failures_with_findings() {
    let out = tiwhook_fixed(&[
        "check",
        "--format",
        "junit",
        "--key",
        KEY,
        &fixture("invalid/stop-before-start.json"),
        &fixture("signed/stream.ndjson"),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let xml = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!((root.attribute("tests"), root.attribute("failures")), (Some("4"), Some("1")));
    let cases: Vec<_> = xml.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 4);
    assert_eq!(
        cases[1].attribute("name"),
        Some("fixtures/signed/stream.ndjson#0 (line 1) WhiteboardPushStarted")
    );
    let failure = cases[0].children().find(|n| n.has_tag_name("failure")).expect("a failure");
    assert_eq!(failure.attribute("type"), Some("stop-before-start"));
    assert!(failure.text().unwrap().contains("10:21: error[stop-before-start] /EventData/PushStopTime"));
    assert!(cases[1..].iter().all(|c| !c.children().any(|n| n.has_tag_name("failure"))));
}

#[test]
fn junit_xml_survives_hostile_strings() {
    let input = r#"{"EventType":"X<&>\"'\u001b]0;t\u0007","EventData":{},"Timestamp":1}"#;
    let out = tiwhook_fixed(&["check", "--format", "junit", "--strict"]).write_stdin(input).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let xml = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(xml.descendants().filter(|n| n.has_tag_name("failure")).count(), 1);
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = tiwhook().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("tiwhook") && text.contains("enforce-expiry"), "{shell}");
    }
    tiwhook().args(["completions", "tcsh"]).assert().code(2);
    let man = tiwhook().arg("man").output().unwrap();
    let text = String::from_utf8(man.stdout).unwrap();
    assert!(text.starts_with(".ie") || text.contains(".TH tiwhook"), "{}", &text[..200.min(text.len())]);
    assert!(text.contains("check") && text.contains("sign"));
}

#[test]
fn clocks_and_expiries_out_of_range_are_usage_errors_not_panics() {
    let path = fixture("signed/push-started.json");
    for now in ["9223372036854775807", "-9223372036854775808", "10000-01-01T00:00:00Z"] {
        let now = format!("--now={now}");
        tiwhook()
            .args(["example", "WhiteboardPushStopped", "--key", "k", &now])
            .assert()
            .code(2)
            .stderr(contains("--now"));
        tiwhook()
            .args(["sign", "--key", "k", "--expire-in", "1d", &now, &path])
            .assert()
            .code(2)
            .stderr(contains("--now"));
        tiwhook().args(["check", &now, &path]).assert().code(2).stderr(contains("--now"));
    }
    tiwhook()
        .args(["sign", "--key", "k", "--expire-in", "99999999999999y", &path])
        .assert()
        .code(2)
        .stderr(contains("--expire-in"));
    tiwhook()
        .args(["sign", "--key", "k", "--expire-in", "9000y", "--now", NOW, &path])
        .assert()
        .code(2)
        .stderr(contains("9999"));
}
