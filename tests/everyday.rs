//! Everyday values a user types: a misspelt subcommand, a zone as an offset, a port alone.

mod common;

use common::*;
use predicates::str::contains;

#[test]
fn a_misspelt_subcommand_is_named_not_read_as_a_file() {
    tiwhook()
        .args(["chek", "x.json"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("tiwhook: chek: no such file; did you mean the subcommand check?\n");
    tiwhook().args(["timline"]).assert().code(2).stderr(contains("did you mean the subcommand timeline?"));
    // A file of that name is read as the file it is; a word far from any subcommand is a file.
    tiwhook_fixed(&["capture.json"]).assert().code(2).stderr(contains("capture.json: No such file"));
}

#[test]
fn a_zone_may_be_a_fixed_offset() {
    let stopped = fixture("signed/push-stopped.json");
    for (zone, shown) in [
        ("+08:00", "2025-11-25 15:00:00 +08:00"),
        ("-0500", "2025-11-25 02:00:00 -05:00"),
        ("Z", "2025-11-25 07:00:00 +00:00"),
    ] {
        tiwhook()
            .args([&stopped, "--now", NOW, "--color", "never", "--tz", zone])
            .assert()
            .code(0)
            .stdout(contains(format!("Started        {shown}")));
    }
    tiwhook_fixed(&["check", &stopped]).args(["--tz", "+25:00"]).assert().code(2).stderr(contains("--tz"));
}

#[test]
fn listen_takes_a_port_alone_on_loopback() {
    for addr in [":0", "0"] {
        let running = Running::listen(&["--addr", addr]);
        let first = running.first.clone();
        assert_eq!(running.stop(), 0);
        assert!(first.starts_with("listening on http://127.0.0.1:"), "{addr}: {first}");
    }
}

#[test]
fn each_subcommand_has_a_man_page_and_the_reading_ones_list_every_finding_code() {
    for command in ["check", "inspect", "timeline", "listen", "sign", "example"] {
        let output = tiwhook().args(["man", command]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{command}");
        let page = String::from_utf8(output.stdout).unwrap();
        assert!(page.contains(&format!(".TH tiwhook-{command} 1")), "{command}");
        let lists_codes = page.contains(".SH FINDINGS");
        assert_eq!(lists_codes, matches!(command, "check" | "inspect" | "timeline"), "{command}");
        if lists_codes {
            for code in tiwhook::codes::Code::ALL {
                assert!(
                    page.contains(&format!("\\fB{}\\fR ({})", code.as_str(), code.severity().as_str())),
                    "{code}"
                );
            }
        }
    }
    tiwhook().args(["man", "nope"]).assert().code(2).stderr(contains("no subcommand `nope`"));
}

#[test]
fn completions_offer_the_event_names_after_example() {
    for shell in ["bash", "zsh"] {
        let script =
            String::from_utf8(tiwhook().args(["completions", shell]).output().unwrap().stdout).unwrap();
        for event in ["WhiteboardPushStarted", "WhiteboardPushStopped", "TranscodeFinished"] {
            assert!(script.contains(event), "{shell}: {event}");
        }
    }
    // Any name is still taken, and an unknown one is told which there are.
    tiwhook().args(["example", "NoSuchEvent"]).assert().code(2).stderr(contains("known events"));
}
