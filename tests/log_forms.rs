//! `--extract` on the forms production logs wrap callbacks in (issue: callbacks wherever
//! production logs keep them): container runtimes' JSON, JSON inside JSON, CRI pieces, CSV
//! exports, journald, nginx `escape=json`, pretty-printed bodies, Python reprs and
//! percent-encoding. The sample logs are written by `scripts/make_log_forms.py`; each holds a
//! callback that passes, one that fails, one cut off, and lines without callbacks.

mod common;

use common::*;

const FORMS: &[&str] = &[
    "cri.log",
    "docker-zap.log",
    "docker.log",
    "export.csv",
    "journald.log",
    "nginx-json.log",
    "percent.log",
    "pretty.log",
    "python-repr.log",
];

#[test]
fn every_form_gives_its_callbacks_and_reports_what_is_broken() {
    for form in FORMS {
        let path = fixture(&format!("logs/forms/{form}"));
        let (callbacks, summary, code) = run_json(&["check", "--extract", "--key", KEY, &path], None);
        assert_eq!(code, 1, "{form}");
        assert_eq!(callbacks.len(), 3, "{form}: one good, one bad, one cut off, noise silent: {callbacks:?}");
        assert_eq!((summary["valid"].as_u64(), summary["invalid"].as_u64()), (Some(1), Some(2)), "{form}");
        let valid = callbacks.iter().find(|c| c["verdict"] == "valid").expect(form);
        assert_eq!(valid["details"]["task_id"], "good", "{form}");
        assert_eq!(valid["signature"], "valid", "{form}");
        let codes: Vec<&str> = callbacks
            .iter()
            .filter(|c| c["verdict"] == "invalid")
            .map(|c| c["errors"][0]["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"wrong-type"), "{form}: {codes:?}");
        // The cut-off callback, or (in the repr log) a repr that is not plain data.
        assert!(codes.contains(&"invalid-json"), "{form}: {codes:?}");
        // Every report names a line of the log.
        for callback in &callbacks {
            assert!(callback["line"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn reports_name_the_logs_own_lines() {
    // The CRI record joined from pieces is reported at its first line; a pretty-printed
    // callback's finding at the line of the value.
    let (callbacks, _, _) =
        run_json(&["check", "--extract", "--key", KEY, &fixture("logs/forms/cri.log")], None);
    assert_eq!(callbacks[0]["line"], 2, "the first piece");
    let (callbacks, _, _) =
        run_json(&["check", "--extract", "--key", KEY, &fixture("logs/forms/pretty.log")], None);
    let bad = callbacks.iter().find(|c| c["errors"][0]["code"] == "wrong-type").unwrap();
    let at = bad["errors"][0]["line"].as_u64().unwrap() as usize;
    let text = read_fixture("logs/forms/pretty.log");
    assert!(text.lines().nth(at - 1).unwrap().contains("\"RoomId\": \"880528\""), "line {at}");
    // A repr is said to be one.
    let (callbacks, _, _) =
        run_json(&["check", "--extract", "--key", KEY, &fixture("logs/forms/python-repr.log")], None);
    assert_eq!(callbacks[0]["warnings"][0]["code"], "python-repr");
}

#[test]
fn the_sample_logs_are_what_the_script_writes() {
    let dir = temp_dir("log-forms");
    let status = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/make_log_forms.py"))
        .arg(&dir)
        .status()
        .expect("python3 runs the script");
    assert!(status.success());
    for form in FORMS {
        let written = std::fs::read(dir.join(form)).unwrap();
        assert_eq!(written, read_fixture(&format!("logs/forms/{form}")).into_bytes(), "{form}");
    }
}
