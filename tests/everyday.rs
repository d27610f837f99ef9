//! Everyday values a user types: a misspelt subcommand, a zone as an offset, a port alone.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
            .args(["listen", "--addr", addr, "--color", "never"])
            .env_remove("TIW_CALLBACK_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(first.starts_with("listening on http://127.0.0.1:"), "{addr}: {first}");
    }
}
