//! `-j N`: the reading commands on several threads write what one judging thread writes, byte for
//! byte (stdout, stderr and exit status), on every fixture, on a long stream of valid, invalid and
//! broken callbacks in every framing the reader knows, and on a directory of gzip, zstd and plain
//! files; and a live pipe is still answered callback by callback.
//!
//! The tests run the debug build, which cuts pieces at `TIWHOOK_PIECE_BYTES` when it is set:
//! small pieces put a piece's end at thousands of places in the stream, next to every kind of
//! line.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{KEY, NOW, temp_dir, tiwhook};
use md5::{Digest, Md5};

/// stdout, stderr and the exit status of `tiwhook ARGS -j THREADS`, with pieces of
/// `piece_bytes` (the release size when `None`).
fn run(args: &[&str], threads: usize, piece_bytes: Option<usize>) -> (String, String, i32) {
    let mut cmd = tiwhook();
    cmd.args(args).args(["--now", NOW, "--tz", "UTC", "--key", KEY, "-j", &threads.to_string()]);
    match piece_bytes {
        Some(bytes) => cmd.env("TIWHOOK_PIECE_BYTES", bytes.to_string()),
        None => cmd.env_remove("TIWHOOK_PIECE_BYTES"),
    };
    let output = cmd.output().expect("runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (text(output.stdout), text(output.stderr), output.status.code().expect("an exit status"))
}

/// Runs `args` with one thread and with `threads`, and requires the same output.
fn assert_same(args: &[&str], threads: usize, piece_bytes: Option<usize>) -> (String, String, i32) {
    let one = run(args, 1, piece_bytes);
    let many = run(args, threads, piece_bytes);
    if one != many {
        let first_difference = one
            .0
            .lines()
            .zip(many.0.lines())
            .position(|(a, b)| a != b)
            .map(|n| format!("line {}: {:?} / {:?}", n + 1, one.0.lines().nth(n), many.0.lines().nth(n)));
        panic!(
            "`{}` differs between -j1 and -j{threads} (pieces {piece_bytes:?}): stdout equal: {}, stderr equal: {}, \
             status {} / {}; first stdout difference: {first_difference:?}\nstderr -j1:\n{}\nstderr -j{threads}:\n{}",
            args.join(" "),
            one.0 == many.0,
            one.1 == many.1,
            one.2,
            many.2,
            one.1,
            many.1
        );
    }
    one
}

const VIEWS: [&[&str]; 7] = [
    &["inspect", "--color", "always"],
    &["check", "--color", "always"],
    &["check", "--format", "json"],
    &["check", "--format", "github"],
    &["check", "--format", "junit"],
    &["inspect", "-c", "--color", "never"],
    &["check", "--expect", "invalid"],
];

#[test]
fn every_fixture_gives_the_same_output_on_four_threads() {
    for view in VIEWS {
        for pieces in [None, Some(200)] {
            let mut args = view.to_vec();
            args.push("fixtures");
            let (stdout, _, _) = assert_same(&args, 4, pieces);
            assert!(!stdout.is_empty(), "{args:?} printed something");
        }
    }
    for extra in [&["--extract", "fixtures/logs"][..], &["fixtures/compressed"], &["fixtures/tour"]] {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(extra);
        assert_same(&args, 4, Some(150));
    }
    assert_same(&["timeline", "--color", "never", "fixtures/timeline"], 4, Some(100));
}

/// A pseudo-random generator for the streams (splitmix64), seeded.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One push callback as a JSON line, signed with the fixtures' key (or with a wrong Sign).
fn callback(i: u64, signed: bool) -> String {
    let expire = 4_102_444_800 + i;
    let digest = Md5::digest(format!("{KEY}{expire}"));
    let sign = if signed { digest.iter().map(|b| format!("{b:02x}")).collect() } else { "0".repeat(32) };
    let reason = ["AUTO", "USER_CALL"][(i % 2) as usize];
    format!(
        r#"{{"EventType":"WhiteboardPushStopped","EventData":{{"TaskId":"task{}","RoomId":{},"GroupId":"880528","PushUserId":"tic_push_user_1","FinishReason":"{reason}","PushStartTime":1764054000,"PushStopTime":{},"IMSyncTime":1764054000,"ExceptionCnt":0}},"SdkAppId":1400313729,"Timestamp":1764057726,"ExpireTime":{expire},"Sign":"{sign}"}}"#,
        i % 500,
        1000 + i % 97,
        1764057000 + i % 100
    )
}

/// `lines` lines of valid, invalid and broken callbacks in every framing the reader knows: JSON
/// Lines, pretty-printed documents, arrays on one line and across lines, concatenated
/// documents, lines cut short (inside a string and between members), log lines, text, blank
/// lines, scalars, a nested object at the first column and an unterminated pretty document.
fn mixed_stream(lines: u64, seed: u64) -> String {
    let mut mix = Mix(seed);
    let mut out = String::new();
    for i in 0..lines {
        let line = match mix.below(100) {
            0..70 => callback(i, true),
            70..78 => callback(i, false),
            78..80 => {
                let whole = callback(i, true);
                whole[..1 + mix.below(whole.len() as u64 - 2) as usize].to_string()
            }
            80 => format!("2025-11-25 12:00:00 INFO got {}", callback(i, true)),
            81 => callback(i, true).replace(",\"", ",\n  \"").replace("{\"", "{\n  \""),
            82 => format!("[{},{}]", callback(i, true), callback(i + 1, false)),
            83 => format!("[\n{},\n{}\n]", callback(i, true), callback(i + 1, true)),
            84 => String::new(),
            85 => "not json at all".into(),
            86 => format!("{}{}", callback(i, true), callback(i + 1, true)),
            87 => {
                "{\n\"EventType\": \"WhiteboardPushStarted\",\n\"EventData\": {\n\"TaskId\": \"x\"}\n".into()
            }
            88 => format!("   {}", callback(i, true)),
            89 => "42".into(),
            90 => "{\"a\":\n{\"b\":1}}".into(),
            91 => "[1, 2,".into(),
            92 => "\r".into(),
            _ => r#"{"EventType":"Nope","EventData":{}}"#.into(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn a_long_mixed_stream_gives_the_same_output_on_three_threads() {
    let dir = temp_dir("parallel-stream");
    let path = dir.join("mixed.jsonl");
    std::fs::write(&path, mixed_stream(100_000, 7)).unwrap();
    let file = path.to_str().unwrap();
    // Pieces of the release size, and small pieces: a piece ends every few lines.
    let (stdout, _, code) = assert_same(&["check", "--format", "json", file], 3, None);
    assert_eq!(code, 1, "the stream holds invalid callbacks");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(summary["callbacks"].as_u64().unwrap() > 1_000, "{summary}");
    assert!(summary["valid"].as_u64().unwrap() > 1_000, "{summary}");
    assert!(summary["invalid"].as_u64().unwrap() > 1_000, "{summary}");
    let small = dir.join("small.jsonl");
    std::fs::write(&small, mixed_stream(8_000, 11)).unwrap();
    let small = small.to_str().unwrap();
    for pieces in [Some(64), Some(700), Some(4096)] {
        assert_same(&["check", "--format", "json", small], 3, pieces);
        assert_same(&["inspect", "--color", "always", small], 3, pieces);
    }
    // The timeline folds its tasks in input order, whoever judged them.
    let (chart, _, _) = assert_same(&["timeline", "--color", "never", small], 3, Some(700));
    assert!(chart.contains("task1"), "{chart}");
    assert_same(&["timeline", "--format", "json", small], 3, Some(700));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_directory_of_compressed_and_plain_files_gives_the_same_output_on_three_threads() {
    let dir = temp_dir("parallel-dir");
    let stream = mixed_stream(6_000, 3);
    let lines: Vec<&str> = stream.split_inclusive('\n').collect();
    let part = |n: usize| lines[n * 1000..(n + 1) * 1000].concat().into_bytes();
    let gzip = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    };
    std::fs::write(dir.join("a.json.gz"), gzip(&part(0))).unwrap();
    std::fs::write(dir.join("b.jsonl.gz"), gzip(&part(1))).unwrap();
    std::fs::write(dir.join("c.json.zst"), zstd::encode_all(&part(2)[..], 3).unwrap()).unwrap();
    std::fs::write(dir.join("d.json"), part(3)).unwrap();
    std::fs::write(dir.join("e.jsonl"), part(4)).unwrap();
    // Cut short: the gzip data breaks off part way.
    let whole = gzip(&part(5));
    std::fs::write(dir.join("f.json.gz"), &whole[..whole.len() / 2]).unwrap();
    std::fs::write(
        dir.join("g.json"),
        b"\xEF\xBB\xBF".iter().copied().chain(callback(1, true).bytes()).collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::write(dir.join("h.json"), format!("[{}]", [callback(2, true), callback(3, false)].join(",\n")))
        .unwrap();
    std::fs::write(dir.join("i.json"), "").unwrap();
    let path = dir.to_str().unwrap();
    for pieces in [None, Some(300)] {
        let (stdout, _, _) = assert_same(&["check", "--format", "json", path], 3, pieces);
        assert!(stdout.contains("corrupt-archive"), "the cut gzip is reported");
        assert_same(&["check", "--color", "never", path], 3, pieces);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_live_pipe_is_answered_callback_by_callback_on_two_threads() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiwhook"))
        .args(["check", "-c", "-j", "2", "--color", "never", "--tz", "UTC", "--now", NOW, "--key", KEY])
        .env_remove("TIWHOOK_PIECE_BYTES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let mut stdin = child.stdin.take().unwrap();
    let (lines, read) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    // Each written line is answered before the next is written: a callback, and a line cut
    // short, which is reported as it stands.
    let sent =
        [callback(1, true), callback(2, false), "{\"EventType\": \"Whiteb".to_string(), callback(3, true)];
    let mut answers = Vec::new();
    for line in &sent {
        let written = Instant::now();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let answer =
            read.recv_timeout(Duration::from_secs(10)).expect("an answer before the next line is written");
        answers.push((answer, written.elapsed()));
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(answers[0].0.contains("✓ WhiteboardPushStopped"), "{answers:?}");
    assert!(answers[1].0.contains("signature-mismatch"), "{answers:?}");
    assert!(answers[2].0.contains("invalid-json"), "{answers:?}");
    assert!(answers[3].0.contains("✓ WhiteboardPushStopped"), "{answers:?}");
    let summary = read.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(summary.starts_with("4 callbacks in 1 source"), "{summary}");
}
