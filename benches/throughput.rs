//! Throughput benchmark: `cargo bench --bench throughput`.
//!
//! Generates a stream of signed push callbacks as JSON Lines (500,000 by default: half started,
//! half stopped), then times, best of several runs, each over the same file (in rounds, each mode
//! once a round, so that a shared machine's changing load falls on all of them alike):
//! - the floor: parse each line into a typed struct with serde_json, MD5 the key + ExpireTime and
//!   compare it with Sign, printing nothing (this same program, re-run as `floor FILE`);
//! - `tiwhook check`, `tiwhook check --format json` and the human view (`--color never`);
//! - `jq -c` pulling task, duration and finish reason, when jq is installed.
//!
//! It prints each one's throughput as a ratio of the floor's, and its peak memory (max RSS).
//! First it measures latency on a live pipe: 1,000 callbacks written into `tiwhook check --format
//! json` one at a time, each timed from its last byte written to its report line read back
//! (median, 99th percentile, worst; TIWHOOK_BENCH_LATENCY_CALLBACKS sets how many).
//! Settings: TIWHOOK_BENCH_CALLBACKS (500000), TIWHOOK_BENCH_RUNS (3), TIWHOOK_BENCH_JQ_RUNS (1),
//! and TIWHOOK_BENCH_BEFORE: the path of another `tiwhook` binary (an earlier build, say) whose
//! modes are measured in the same run, for a before-and-after comparison.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde::Deserialize;

const KEY: &str = "bench-key";
const EXPIRE: u64 = 4_102_444_800;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "floor" {
        floor(Path::new(&args[2]));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return; // what `cargo bench -- --list` asks for
    }
    let callbacks = setting("TIWHOOK_BENCH_CALLBACKS", 500_000);
    let runs = setting("TIWHOOK_BENCH_RUNS", 3);
    let jq_runs = setting("TIWHOOK_BENCH_JQ_RUNS", 1);
    let file = std::env::temp_dir().join(format!("tiwhook-bench-{callbacks}.ndjson"));
    let bytes = generate(&file, callbacks);
    println!("input: {callbacks} callbacks, {:.1} MB ({})", bytes as f64 / 1e6, file.display());

    let me = std::env::current_exe().expect("the benchmark's own path");
    let tiwhook = PathBuf::from(env!("CARGO_BIN_EXE_tiwhook"));
    let file_arg = file.to_str().expect("a UTF-8 temp path").to_string();
    let tw = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["check".into()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(["--key".into(), KEY.into(), "--now".into(), "1764054000".into(), file_arg.clone()]);
        v
    };
    let mut modes: Vec<(&str, PathBuf, Vec<String>, u32)> = vec![
        ("floor (serde_json typed + md5)", me.clone(), vec!["floor".into(), file_arg.clone()], runs),
        ("tiwhook check", tiwhook.clone(), tw(&[]), runs),
        ("tiwhook check --format json", tiwhook.clone(), tw(&["--format", "json"]), runs),
        (
            "tiwhook inspect --color never",
            tiwhook.clone(),
            {
                let mut v = tw(&["--color", "never", "--tz", "UTC"]);
                v[0] = "inspect".into();
                v
            },
            runs,
        ),
    ];
    // Each reading mode at one thread too (-j1: one reading thread, one judging thread), beside
    // the default (one worker per core), for the speed-up.
    let single: Vec<_> = modes
        .iter()
        .skip(1)
        .map(|(name, program, args, runs)| {
            let mut args = args.clone();
            args.extend(["-j".to_string(), "1".to_string()]);
            let label: &str = Box::leak(format!("{name} -j1").into_boxed_str());
            (label, program.clone(), args, *runs)
        })
        .collect();
    modes.extend(single);
    // A log: each callback after a prefix, with three lines of noise (one of them a JSON log
    // line without a callback) for each, read with --extract.
    let log = std::env::temp_dir().join(format!("tiwhook-bench-{callbacks}.log"));
    let log_bytes = generate_log(&file, &log);
    let log_arg = log.to_str().expect("a UTF-8 temp path").to_string();
    println!("log: {:.1} MB, a callback in one line of four ({})", log_bytes as f64 / 1e6, log.display());
    modes.push((
        "tiwhook check --extract (log)",
        tiwhook.clone(),
        vec![
            "check".into(),
            "--extract".into(),
            "--key".into(),
            KEY.into(),
            "--now".into(),
            "1764054000".into(),
            log_arg,
        ],
        runs,
    ));
    if let Some(before) = std::env::var_os("TIWHOOK_BENCH_BEFORE") {
        let tiwhook_modes: Vec<_> = modes.iter().skip(1).cloned().collect();
        for (name, _, args, runs) in tiwhook_modes {
            let label = name.replacen("tiwhook", "before:", 1);
            modes.push((Box::leak(label.into_boxed_str()), PathBuf::from(&before), args, runs));
        }
    }
    let jq_filter = "{task: .EventData.TaskId, duration: ((.EventData.PushStopTime // null) as $s | if $s then $s - .EventData.PushStartTime else null end), reason: .EventData.FinishReason}";
    if Command::new("jq").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        modes.push((
            "jq -c (task, duration, reason)",
            "jq".into(),
            vec!["-c".into(), jq_filter.into(), file_arg.clone()],
            jq_runs,
        ));
    } else {
        println!("jq: not installed, skipped");
    }

    latency(&tiwhook, &file, setting("TIWHOOK_BENCH_LATENCY_CALLBACKS", 1000) as usize);
    println!(
        "{:<34} {:>9} {:>9} {:>10} {:>9} {:>11}",
        "mode", "best s", "cpu s", "MB/s", "ratio", "max RSS MiB"
    );
    // Round by round, each mode once a round, so that the machine's load (a shared machine's moves
    // from minute to minute) falls on every mode alike rather than on whichever ran in a loud
    // minute; each keeps its best round.
    let mut measured = vec![Measured::default(); modes.len()];
    let rounds = modes.iter().map(|(_, _, _, runs)| *runs).max().unwrap_or(1).max(1);
    for round in 0..rounds {
        for ((_, program, args, runs), measured) in modes.iter().zip(&mut measured) {
            if round < (*runs).max(1) {
                measured.add(measure_once(program, args));
            }
        }
    }
    let mut floor_time = None;
    let mut times = Vec::new();
    for ((name, ..), Measured { best, cpu, rss }) in modes.into_iter().zip(measured) {
        let floor = *floor_time.get_or_insert(best);
        println!(
            "{name:<34} {:>9.3} {:>9.3} {:>10.1} {:>9.3} {:>11.1}",
            best.as_secs_f64(),
            cpu.as_secs_f64(),
            bytes as f64 / 1e6 / best.as_secs_f64(),
            floor.as_secs_f64() / best.as_secs_f64(),
            rss as f64 / 1024.0
        );
        times.push((name, best));
    }
    let time_of = |name: &str| times.iter().find(|(n, _)| *n == name).map(|(_, t)| t.as_secs_f64());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("speed-up of the default ({cores} workers) over -j1:");
    for (name, time) in &times {
        if let Some(single) = time_of(&format!("{name} -j1")) {
            println!("  {name:<32} {:>6.2}x", single / time.as_secs_f64());
        }
    }
    if let (Some(jq), Some(json)) =
        (time_of("jq -c (task, duration, reason)"), time_of("tiwhook check --format json"))
    {
        println!("tiwhook check --format json against jq: {:.1}x jq's throughput", jq / json);
    }
}

/// Latency on a live pipe: each of `count` callbacks (lines of `file`) is written into
/// `tiwhook check --format json`'s stdin on its own, and timed from its last byte written to its
/// report line read from tiwhook's stdout. Prints the median, the 99th percentile and the worst.
fn latency(tiwhook: &Path, file: &Path, count: usize) {
    let lines: Vec<String> = BufReader::new(File::open(file).expect("the stream"))
        .lines()
        .take(count)
        .map(Result::unwrap)
        .collect();
    let mut child = Command::new(tiwhook)
        .args(["check", "--format", "json", "--key", KEY, "--now", "1764054000"])
        .env_remove("TIW_CALLBACK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tiwhook starts");
    let mut stdin = child.stdin.take().expect("piped");
    let mut reports = BufReader::new(child.stdout.take().expect("piped"));
    let mut waits = Vec::with_capacity(lines.len());
    let mut report = String::new();
    for line in &lines {
        stdin.write_all(line.as_bytes()).expect("tiwhook reads");
        stdin.write_all(b"\n").expect("tiwhook reads");
        stdin.flush().expect("tiwhook reads");
        let written = Instant::now();
        report.clear();
        reports.read_line(&mut report).expect("a report line");
        waits.push(written.elapsed());
        assert!(report.contains("\"type\":\"callback\""), "{report}");
    }
    drop(stdin);
    child.wait().expect("tiwhook ends");
    waits.sort();
    let at = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "latency on a live pipe ({} callbacks written one at a time): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        waits.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(waits[waits.len() - 1])
    );
}

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A mode's best run: its wall time and the CPU time (user + system) of that run, and the largest
/// max RSS (KiB) of any run.
#[derive(Clone, Copy)]
struct Measured {
    best: Duration,
    cpu: Duration,
    rss: i64,
}

impl Default for Measured {
    fn default() -> Self {
        Measured { best: Duration::MAX, cpu: Duration::ZERO, rss: 0 }
    }
}

impl Measured {
    fn add(&mut self, (wall, cpu, rss): (Duration, Duration, i64)) {
        if wall < self.best {
            (self.best, self.cpu) = (wall, cpu);
        }
        self.rss = self.rss.max(rss);
    }
}

/// Runs `program` once, its output discarded: its wall time, CPU time and peak memory (KiB).
fn measure_once(program: &Path, args: &[String]) -> (Duration, Duration, i64) {
    let start = Instant::now();
    // Reaped by `wait4` below, which also reports the child's peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(program)
        .args(args)
        .env_remove("TIW_CALLBACK_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let (status, max_rss, cpu) = wait_with_rusage(child.id() as i32);
    let wall = start.elapsed();
    assert!(status == 0, "{} {args:?} exited with {status}", program.display());
    (wall, cpu, max_rss)
}

/// Waits for a child and returns its exit status, max RSS in KiB and CPU time.
fn wait_with_rusage(pid: i32) -> (i32, i64, Duration) {
    let mut status = 0;
    // SAFETY: `rusage` is plain old data that wait4 fills in; `pid` is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4 failed");
    let time =
        |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    (libc::WEXITSTATUS(status), usage.ru_maxrss, time(usage.ru_utime) + time(usage.ru_stime))
}

/// Writes the log form of the stream at `stream` to `path` (once); its size.
fn generate_log(stream: &Path, path: &Path) -> u64 {
    if let Ok(meta) = std::fs::metadata(path) {
        return meta.len();
    }
    let partial = path.with_extension("partial");
    let mut out = BufWriter::new(File::create(&partial).expect("temp file"));
    for (n, line) in BufReader::new(File::open(stream).expect("the stream")).lines().enumerate() {
        let line = line.expect("a line");
        writeln!(out, "2026-11-30 10:00:01,123 INFO [http] GET /health 200 in {} ms", n % 17).unwrap();
        writeln!(
            out,
            "{{\"ts\":\"2026-11-30T10:00:01Z\",\"level\":\"debug\",\"msg\":\"queue\",\"depth\":{n}}}"
        )
        .unwrap();
        writeln!(out, "2026-11-30 10:00:01,124 DEBUG [db] pool idle={}", n % 8).unwrap();
        writeln!(out, "2026-11-30 10:00:01,125 INFO [tiw] callback body={line}").unwrap();
    }
    out.into_inner().expect("flushed").sync_all().ok();
    std::fs::rename(&partial, path).expect("renamed");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn generate(path: &Path, callbacks: u32) -> u64 {
    if let Ok(meta) = std::fs::metadata(path) {
        return meta.len();
    }
    let sign = hex::encode(Md5::digest(format!("{KEY}{EXPIRE}").as_bytes()));
    let partial = path.with_extension("partial");
    let mut out = BufWriter::new(File::create(&partial).expect("temp file"));
    for i in 0..callbacks / 2 {
        let task = format!("bench{:015x}", i as u64 * 2_654_435_761 % 0xffff_ffff_ffff);
        let room = 100_000 + i % 5000;
        let start = 1_764_000_000 + i as u64 * 7;
        let stop = start + 60 + (i as u64 * 37) % 7200;
        let reason = ["USER_CALL", "AUTO", "EXCEPTION"][i as usize % 3];
        writeln!(
            out,
            r#"{{"EventType":"WhiteboardPushStarted","EventData":{{"TaskId":"{task}","RoomId":{room},"PushUserId":"tic_push_user_{room}_01","PushStartTime":{start}}},"SdkAppId":1400313729,"Timestamp":{start},"ExpireTime":{EXPIRE},"Sign":"{sign}"}}"#
        )
        .unwrap();
        let error = if reason == "EXCEPTION" {
            r#","Error":{"Code":"FailedOperation.Record","Message":"push service lost its connection"}"#
        } else {
            ""
        };
        writeln!(
            out,
            r#"{{"EventType":"WhiteboardPushStopped","EventData":{{"TaskId":"{task}","RoomId":{room},"GroupId":"{room}","PushUserId":"tic_push_user_{room}_01","FinishReason":"{reason}","PushStartTime":{start},"PushStopTime":{stop},"IMSyncTime":{start},"ExceptionCnt":{}{error}}},"SdkAppId":1400313729,"Timestamp":{stop},"ExpireTime":{EXPIRE},"Sign":"{sign}"}}"#,
            if reason == "EXCEPTION" { 2 } else { 0 }
        )
        .unwrap();
    }
    out.into_inner().expect("flushed").sync_all().ok();
    std::fs::rename(&partial, path).expect("rename");
    std::fs::metadata(path).expect("written").len()
}

#[allow(non_snake_case, dead_code)]
#[derive(Deserialize)]
struct Envelope<'a> {
    EventType: &'a str,
    #[serde(borrow)]
    EventData: Data<'a>,
    SdkAppId: u64,
    Timestamp: u64,
    ExpireTime: u64,
    Sign: &'a str,
}

#[allow(non_snake_case, dead_code)]
#[derive(Deserialize)]
struct Data<'a> {
    TaskId: &'a str,
    RoomId: u64,
    GroupId: Option<&'a str>,
    PushUserId: &'a str,
    FinishReason: Option<&'a str>,
    PushStartTime: u64,
    PushStopTime: Option<u64>,
    IMSyncTime: Option<u64>,
    ExceptionCnt: Option<u64>,
    #[serde(borrow)]
    Error: Option<ErrorObject<'a>>,
}

#[allow(non_snake_case, dead_code)]
#[derive(Deserialize)]
struct ErrorObject<'a> {
    Code: &'a str,
    Message: &'a str,
}

/// The floor: the least work that still reads every callback and checks its signature.
fn floor(path: &Path) {
    let mut reader = BufReader::with_capacity(256 * 1024, File::open(path).expect("input"));
    let mut line = Vec::with_capacity(1024);
    let (mut valid, mut invalid) = (0u64, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).expect("read") == 0 {
            break;
        }
        let envelope: Envelope = serde_json::from_slice(&line).expect("valid JSON");
        let mut decimal = itoa::Buffer::new();
        let digest: [u8; 16] =
            Md5::new().chain_update(KEY).chain_update(decimal.format(envelope.ExpireTime)).finalize().into();
        let mut sign = [0u8; 16];
        if hex::decode_to_slice(envelope.Sign, &mut sign).is_ok() && sign == digest {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    std::hint::black_box((valid, invalid));
}
