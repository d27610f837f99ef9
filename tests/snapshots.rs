//! Snapshots of the human views, with a fixed clock, zone and color choice.

mod common;

use common::*;

fn stdout(args: &[&str]) -> String {
    let out = tiwhook_fixed(args).output().expect("runs");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn inspect_signed_fixtures_without_color() {
    insta::assert_snapshot!(stdout(&[
        "--key",
        KEY,
        &fixture("signed/push-stopped.json"),
        &fixture("signed/push-stopped-exception.json"),
        &fixture("signed/push-started.json")
    ]));
}

#[test]
fn inspect_the_docs_samples_under_the_documented_key() {
    insta::assert_snapshot!(stdout(&[
        "--key",
        "Xz4ZgayTr7rMgWQrH",
        &fixture("docs/push-started.json"),
        &fixture("docs/push-stopped.json")
    ]));
}

#[test]
fn inspect_invalid_callbacks_without_color() {
    insta::assert_snapshot!(stdout(&[
        &fixture("invalid/wrong-type.json"),
        &fixture("invalid/invalid-json.json"),
        &fixture("invalid/unknown-event-type.json"),
    ]));
}

#[test]
fn inspect_with_color() {
    let mut cmd = tiwhook();
    cmd.args(["--now", NOW, "--tz", "UTC", "--color", "always", "--key", KEY]);
    cmd.args([fixture("signed/push-stopped.json"), fixture("invalid/stop-before-start.json")]);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    insta::assert_snapshot!(out.replace('\x1b', "\\e"));
}

#[test]
fn check_with_color() {
    let mut cmd = tiwhook();
    cmd.args(["check", "--now", NOW, "--tz", "UTC", "--color", "always", "--key", KEY, &fixture("invalid")]);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    insta::assert_snapshot!(out.replace('\x1b', "\\e"));
}

#[test]
fn inspect_in_another_zone() {
    let mut cmd = tiwhook();
    cmd.args([
        "--now",
        NOW,
        "--tz",
        "Asia/Shanghai",
        "--color",
        "never",
        &fixture("signed/push-stopped.json"),
    ]);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn inspect_other_events() {
    insta::assert_snapshot!(stdout(&[
        "--key",
        KEY,
        &fixture("signed/record-finished.json"),
        &fixture("signed/record-failed.json"),
        &fixture("signed/transcode-finished.json"),
        &fixture("signed/alarm-queued-time.json"),
        &fixture("docs/ppt2h5-progress.json"),
    ]));
}

#[test]
fn compact_tour() {
    insta::assert_snapshot!(stdout(&["--compact", "--key", KEY, &fixture("tour")]));
}

#[test]
fn compact_check_with_color() {
    let mut cmd = tiwhook();
    cmd.args([
        "check",
        "-c",
        "--now",
        NOW,
        "--tz",
        "UTC",
        "--color",
        "always",
        "--key",
        KEY,
        &fixture("tour"),
    ]);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    insta::assert_snapshot!(out.replace('\x1b', "\\e"));
}

/// The JSON Lines contract on every signed fixture: a change to any line shows here.
#[test]
fn json_lines_of_the_signed_fixtures() {
    insta::assert_snapshot!(stdout(&["--format", "json", "--key", KEY, &fixture("signed")]));
}
