//! Compressed captures and inputs that are not regular files, through the binary.

mod common;

use std::io::Write;

use common::{KEY, fixture, run_json, tiwhook_fixed};

#[test]
fn gzip_members_and_zstd_frames_are_read_in_order() {
    for file in ["compressed/stream-two-members.ndjson.gz", "compressed/stream-two-frames.ndjson.zst"] {
        let (callbacks, summary, code) = run_json(&["check", "--key", KEY, &fixture(file)], None);
        assert_eq!(code, 0, "{file}");
        assert_eq!(summary["callbacks"], 3, "{file}");
        assert_eq!(summary["valid"], 3, "{file}");
        let lines: Vec<_> = callbacks.iter().map(|c| c["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [1, 2, 3], "{file}");
        assert!(callbacks.iter().all(|c| c["signature"] == "valid"), "{file}");
    }
}

#[test]
fn compression_is_known_by_content_from_stdin_and_without_a_name() {
    let gzip = std::fs::read(fixture("compressed/stream-two-members.ndjson.gz")).unwrap();
    let output =
        tiwhook_fixed(&["check", "--format", "json", "--key", KEY]).write_stdin(gzip).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines = common::json_lines(&output.stdout);
    assert_eq!(lines.last().unwrap()["valid"], 3);

    let (_, summary, code) = run_json(&["check", "--key", KEY, &fixture("compressed/no-extension")], None);
    assert_eq!((code, summary["valid"].as_u64()), (0, Some(2)));

    // Plain text under a compressed name is read as the text it is.
    let (_, summary, code) =
        run_json(&["check", "--key", KEY, &fixture("compressed/plain-text-named.json.gz")], None);
    assert_eq!((code, summary["valid"].as_u64()), (0, Some(1)));
}

#[test]
fn an_archive_cut_short_is_a_finding_after_every_callback_before_it() {
    let (callbacks, summary, code) =
        run_json(&["check", "--key", KEY, &fixture("compressed/cut-short.ndjson.gz")], None);
    assert_eq!(code, 1);
    assert_eq!(summary["unreadable"], 0);
    assert_eq!(callbacks.len(), 3);
    assert!(callbacks[..2].iter().all(|c| c["verdict"] == "valid"));
    let broken = &callbacks[2]["errors"][0];
    assert_eq!(broken["code"], "corrupt-archive");
    assert_eq!(broken["line"], 3, "{broken}");
    let message = broken["message"].as_str().unwrap();
    assert!(message.starts_with("the gzip data breaks off after 567 compressed bytes"), "{message}");
}

#[test]
fn a_directory_walk_takes_compressed_captures() {
    let (callbacks, summary, code) = run_json(&["check", "--key", KEY, &fixture("compressed")], None);
    assert_eq!(code, 1, "the cut archive fails the run");
    // cut-short, plain-text-named, two-frames and two-members; `no-extension` is not taken.
    assert_eq!(summary["sources"], 4);
    let sources: std::collections::BTreeSet<_> =
        callbacks.iter().map(|c| c["source"].as_str().unwrap()).collect();
    assert!(sources.iter().all(|s| !s.ends_with("no-extension")), "{sources:?}");
}

#[test]
fn a_large_document_inside_an_archive_is_refused_and_reading_goes_on() {
    let mut text = b"{\"EventType\":\"WhiteboardPushStarted\",\"Padding\":\"".to_vec();
    text.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    text.extend(b"\"}\n");
    text.extend(common::started_line("after-the-big-one").as_bytes());
    text.push(b'\n');
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&text).unwrap();
    let gzip = encoder.finish().unwrap();
    assert!(gzip.len() < 1024 * 1024, "{} bytes compressed", gzip.len());
    let output =
        tiwhook_fixed(&["check", "--format", "json", "--key", KEY]).write_stdin(gzip).output().unwrap();
    let lines = common::json_lines(&output.stdout);
    assert_eq!(lines[0]["errors"][0]["code"], "document-too-large");
    assert_eq!(lines[1]["details"]["task_id"], "after-the-big-one");
    assert_eq!(lines[1]["verdict"], "valid");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn fifos_in_a_directory_are_skipped_and_named_ones_are_read() {
    let dir = tempfile_dir();
    std::fs::write(dir.join("a.json"), common::started_line("regular")).unwrap();
    let fifo = dir.join("b.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let output =
        tiwhook_fixed(&["check", "--format", "json", "--key", KEY, dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("b.json: skipped: a FIFO, not a regular file"), "{stderr}");
    assert_eq!(common::json_lines(&output.stdout).last().unwrap()["callbacks"], 1);

    // Named on the command line, the FIFO is a stream: read what a writer sends until it closes.
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        writeln!(pipe, "{}", common::started_line("through-the-fifo")).unwrap();
    });
    let output =
        tiwhook_fixed(&["check", "--format", "json", "--key", KEY, fifo.to_str().unwrap()]).output().unwrap();
    writer.join().unwrap();
    let lines = common::json_lines(&output.stdout);
    assert_eq!(lines[0]["details"]["task_id"], "through-the-fifo");
    assert_eq!(output.status.code(), Some(0));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A fresh directory in the system temp directory, unique to this test process.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tiwhook-compressed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
