//! The command line, declared with clap: commands, options and the help that teaches them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Inspect Tencent Cloud Interactive Whiteboard (TIW) callbacks";

const LONG_ABOUT: &str = "\
Inspect Tencent Cloud Interactive Whiteboard (TIW) callbacks: read them from files or stdin,
validate their structure and signature, and show task, room, user and timing details.

Inputs may hold one callback, a JSON array of callbacks, or a stream of them (JSON Lines or
concatenated objects), gzip or zstd compressed or not; --extract finds them inside log lines. A
directory stands for every *.json, *.ndjson, *.jsonl and *.body below it (also .gz and .zst).";

const EXAMPLES: &str = "\
Examples:
  tiwhook captured.json                           show each callback in detail
  tail -f callbacks.ndjson | tiwhook -c           one line per callback, as they come
  tail -f app.log | tiwhook --extract             callbacks inside a live log
  tiwhook check --require-signature fixtures/     CI gate: one line per problem, exit 1 on failure
  tiwhook check --format json capture.ndjson.gz   JSON Lines for a machine (key: TIW_CALLBACK_KEY)
  tiwhook send http://127.0.0.1:3000/tiw fixtures/signed/
                                                  drive your receiver like Tencent

Exit status: 0 every callback passed; 1 at least one failed; 2 usage error or unreadable input.";

#[derive(Parser, Debug)]
#[command(
    name = "tiwhook",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `tiwhook PATH...` is `tiwhook inspect PATH...`.
    #[command(flatten)]
    pub inspect: InspectArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show each callback in detail, with its verdict (the default command)
    Inspect(InspectArgs),
    /// Check callbacks: one line per error or warning, then a summary; for CI
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Sign callbacks again with a key and a new ExpireTime (fixtures, say)
    #[command(
        after_help = SIGN_EXAMPLES,
        mut_arg("key_file", |a| a.help("Read the key from a file (its first line is used to sign)")),
        mut_arg("key", |a| a.help("The key to sign with (the first given is used); prefer --key-env, as other users can see this in the process list"))
    )]
    Sign(SignArgs),
    /// Print a realistic sample callback of an event type, signed when a key is given
    Example(ExampleArgs),
    /// Follow push and recording tasks across a stream: lifetimes, retries, totals
    Timeline(TimelineArgs),
    /// Receive Tencent's callbacks over HTTP and show them live, verified
    #[command(after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
    /// Post callbacks to your receiver the way Tencent does, and judge each delivery
    #[command(after_help = SEND_EXAMPLES)]
    Send(SendArgs),
    /// Work with the capture files `listen --save` writes
    #[command(subcommand)]
    Capture(CaptureCommand),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): tiwhook's, or a subcommand's
    Man {
        /// The subcommand whose page to print (check, timeline, listen, ...)
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

const CHECK_EXAMPLES: &str = "\
Examples:
  tiwhook check --key-env TIW_CALLBACK_KEY fixtures/          every callback below a folder
  tiwhook check --require-signature --strict fixtures/        a CI gate that fails closed
  tiwhook check --expect invalid fixtures/invalid/            negative fixtures must fail
  tiwhook check --format github fixtures/                     annotations on a pull request
  tail -f callbacks.ndjson | tiwhook check -c                 one line per callback, live

A callback that passes prints nothing (or one line with -c). Exit status: 0 every callback
passed; 1 at least one failed, or none was found; 2 usage error or unreadable input.";

const SIGN_EXAMPLES: &str = "\
Examples:
  tiwhook sign --key-env FIXTURE_KEY --expire-in 10y --in-place fixtures/
  tiwhook sign --key Xz4ZgayTr7rMgWQrH --expire-at 1588040109 sample.json

Field order and layout are kept: only the values of ExpireTime and Sign change (or are added, in
the document's own style). Inputs are read whole into memory.";

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    #[command(flatten)]
    pub read: ReadArgs,

    /// One line per callback, valid ones included: time, verdict, event, task, room, and for a
    /// stop its duration and finish reason; findings as codes. The view for `tail -f`
    #[arg(short = 'c', long)]
    pub compact: bool,

    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub inspect: InspectArgs,

    /// Assert every callback's verdict instead (for folders of negative fixtures): exit 0 when
    /// every callback met it, 1 naming those that did not
    #[arg(long, value_enum, value_name = "VERDICT")]
    pub expect: Option<Expectation>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Valid,
    Invalid,
}

/// Where the keys come from.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// Read the callback key from this environment variable; named here, it must be set and not
    /// empty [default: TIW_CALLBACK_KEY, when set]
    #[arg(long, value_name = "NAME")]
    pub key_env: Option<String>,

    /// Read keys from a file, one per line; several keys (rotation) are each tried
    #[arg(long, value_name = "PATH")]
    pub key_file: Vec<PathBuf>,

    /// A callback key (repeatable); other users can see it in the process list, prefer --key-env
    #[arg(short = 'k', long, value_name = "KEY")]
    pub key: Vec<String>,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("expiry").required(true).args(["expire_at", "expire_in"])))]
pub struct SignArgs {
    /// Files or directories to sign; none, or `-`, reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// The new ExpireTime: Unix seconds or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub expire_at: Option<i64>,

    /// The new ExpireTime as a time from the clock: 90s, 1h, 30d, 10y (a year is 365 days; a
    /// bare number is seconds)
    #[arg(long, value_name = "DURATION", value_parser = whole_seconds)]
    pub expire_in: Option<i64>,

    /// The clock --expire-in counts from: Unix seconds or RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub now: Option<i64>,

    /// Write each file back in place (atomically) instead of to stdout
    #[arg(long)]
    pub in_place: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ExampleArgs {
    /// Event types, such as WhiteboardPushStopped; several tell one story (one task, room and
    /// user, a start before its stop), one callback per line. None lists them
    #[arg(value_name = "EVENT", value_parser = EventName)]
    pub events: Vec<String>,

    /// List the event types there are examples of
    #[arg(long)]
    pub list: bool,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// The clock the sample's times are set around: Unix seconds or RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub now: Option<i64>,

    /// The TaskId [default: a fresh random-looking one]
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,

    /// The RoomId [default: a fresh random one]
    #[arg(long, value_name = "ID")]
    pub room: Option<u64>,

    /// Seed for the ids not given, so that a run can be repeated
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

const LISTEN_EXAMPLES: &str = "\
Examples:
  tiwhook listen                                   on http://127.0.0.1:8080, any path
  tiwhook listen --save received.ndjson --forward-to http://127.0.0.1:3000/tiw
  tiwhook listen --addr 0.0.0.0:8080 --compact     reachable from other hosts: mind who can post
  tiwhook listen --save received.ndjson --ui       and a live page at the URL it prints

Each POST is answered 200 {\"error_code\":0} once handled (400 for an invalid one with
--reject-invalid, so that Tencent retries it); other methods 405, bodies over 1 MiB 413.
Forwards go out in arrival order from a bounded backlog, at least once (a retry after a timeout
may repeat one; X-Tiwhook-Request numbers each request). Ctrl-C stops accepting, forwards what
waits for up to --drain-timeout, prints the tally and, with --save, the `tiwhook send --lines`
command that replays what was not forwarded; a second Ctrl-C exits at once. Exit status: 0
when every request was saved and forwarded, 1 otherwise, 2 for a usage error.";

#[derive(Args, Debug, Clone)]
pub struct ListenArgs {
    /// Address to listen on: 127.0.0.1:8080, localhost:8080, or a port alone (8080, :8080) on
    /// loopback; 0.0.0.0:8080 for every interface; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    pub addr: std::net::SocketAddr,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// Accept expired signatures (by default a live callback whose ExpireTime has passed fails)
    #[arg(long)]
    pub allow_expired: bool,

    /// Fail callbacks with warnings too
    #[arg(long)]
    pub strict: bool,

    /// Answer 400 to an invalid callback instead of 200, so that Tencent retries it
    #[arg(long)]
    pub reject_invalid: bool,

    /// Append every body received to this file, one JSON line each, before answering
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Pass each body on to this http:// URL, after Tencent has been answered, in arrival order,
    /// and show the answer
    #[arg(long, value_name = "URL", value_parser = forward_url)]
    pub forward_to: Option<hyper::Uri>,

    /// How long the application has to answer one forward: 500ms, 5s, 2m (a bare number is
    /// seconds)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub forward_timeout: std::time::Duration,

    /// Forwards tried again when the application does not answer 2xx (Tencent's own schedule: 5)
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub forward_retries: u32,

    /// Pause between forward attempts
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub forward_interval: std::time::Duration,

    /// Forwards in flight at once; each body waits in arrival order for a free one
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub forward_concurrency: u16,

    /// Bodies waiting to be forwarded at most (and 64 MiB of them); past that, a body is skipped
    /// and the skip is said
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub forward_backlog: u32,

    /// Serve a local page that shows the callbacks and their tasks live, on this address
    /// (default 127.0.0.1:4040, never the callback port); the URL printed at start carries the
    /// page's token
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:4040", value_parser = listen_address)]
    pub ui: Option<std::net::SocketAddr>,

    /// On Ctrl-C, how long to go on forwarding what is waiting before exiting (a second Ctrl-C
    /// exits at once)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub drain_timeout: std::time::Duration,

    /// How long a request may take to arrive: a slower head closes the connection, a slower body
    /// is answered 408
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub read_timeout: std::time::Duration,

    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = ListenFormat::Human)]
    pub format: ListenFormat,

    /// One line per callback (with --format human)
    #[arg(short = 'c', long)]
    pub compact: bool,

    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenFormat {
    Human,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub read: ReadArgs,

    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = TimelineFormat::Human)]
    pub format: TimelineFormat,

    /// Only tasks in this room
    #[arg(long, value_name = "ID")]
    pub room: Option<u64>,

    /// Only tasks running at or after this time: Unix seconds or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub since: Option<i64>,

    /// Only tasks running at or before this time: Unix seconds or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub until: Option<i64>,

    /// Columns to fit the table and chart in, 40 to 1000 [default: the terminal's width, else
    /// $COLUMNS, else 120]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineFormat {
    /// A table with a bar chart, then totals
    Human,
    /// JSON Lines: one `task` object per task, then `totals`
    Json,
    /// CSV, one row per task (for reconciling a bill in a spreadsheet)
    Csv,
}

const SEND_EXAMPLES: &str = "\
Examples:
  tiwhook example WhiteboardPushStarted --key k | tiwhook send http://127.0.0.1:3000/tiw
  tiwhook send --resign --key-env TIW_CALLBACK_KEY --duplicate 1 --shuffle https://app.example.com/tiw fixtures/signed/
  tiwhook send http://127.0.0.1:3000/tiw received.ndjson     replay a listen --save capture

A delivery is accepted on HTTP 200 within --timeout; anything else is retried --retries times,
every --retry-interval, as Tencent does. Exit status: 0 every callback accepted, 1 otherwise,
2 for a usage error.";

#[derive(Args, Debug, Clone)]
pub struct SendArgs {
    /// The receiver: an http:// or https:// URL
    #[arg(value_name = "URL", value_parser = receiver_url)]
    pub url: hyper::Uri,

    /// Files or directories of callbacks (gzip and zstd are decompressed; capture files of
    /// `listen --save` send their bodies as received); none, or `-`, reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Find the callbacks inside the lines of a log
    #[arg(long)]
    pub extract: bool,

    /// Send each non-empty line as it is, JSON or not (for testing a receiver's error handling)
    #[arg(long, conflicts_with_all = ["extract", "resign"])]
    pub raw: bool,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// Give each callback a fresh ExpireTime and its Sign, with the first key, before sending
    #[arg(long)]
    pub resign: bool,

    /// With --resign: how long the new signatures are valid
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = whole_seconds)]
    pub expire_in: i64,

    /// The clock for --resign: Unix seconds or RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub now: Option<i64>,

    /// How long a receiver has to answer one attempt (Tencent's: 10s); 500ms, 10s, 1m
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub timeout: std::time::Duration,

    /// Attempts after the first, when one is not accepted (Tencent's: 5)
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,

    /// The pause between attempts (Tencent's: 5s)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub retry_interval: std::time::Duration,

    /// Deliver each callback N more times (a receiver must stay idempotent: answers are compared)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub duplicate: u32,

    /// Deliver in another order (a stop before its start, as networks do); a seed repeats one
    #[arg(long, value_name = "SEED", num_args = 0..=1, require_equals = true, default_missing_value = "0")]
    pub shuffle: Option<Option<u64>>,

    /// Pace the deliveries: 10/s, 30/m, 100/h
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub rate: Option<Rate>,

    /// Deliveries in flight at once
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,

    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = SendFormat::Human)]
    pub format: SendFormat,

    /// Only the callbacks that start on these lines of their input, such as 3,7-9: what
    /// `listen` prints for the callbacks it could not forward from its save file
    #[arg(long, value_name = "LIST", value_parser = line_list)]
    pub lines: Option<LineList>,

    /// No progress line on stderr (it shows only on a terminal, for runs longer than a second)
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Line numbers given as `3,7-9`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineList(Vec<(u64, u64)>);

impl LineList {
    pub fn contains(&self, line: u64) -> bool {
        self.0.iter().any(|&(first, last)| (first..=last).contains(&line))
    }
}

/// Parses `--lines`: numbers and ranges from 1, separated by commas.
pub fn line_list(text: &str) -> Result<LineList, String> {
    let error = || format!("`{text}` is not a list of lines such as 3,7-9");
    let number = |t: &str| t.trim().parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(error);
    let ranges = text
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (number(first)?, number(last)?);
                if first > last { Err(error()) } else { Ok((first, last)) }
            }
            None => number(part).map(|n| (n, n)),
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(LineList(ranges))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFormat {
    /// One line per delivery, then a summary
    Human,
    /// JSON Lines: a `delivery` line per delivery with every attempt, then `delivery_summary`
    Json,
}

#[derive(Subcommand, Debug)]
pub enum CaptureCommand {
    /// Write each request's body back exactly as it was received
    Bodies(CaptureBodiesArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CaptureBodiesArgs {
    /// Capture files (gzip and zstd are decompressed); none, or `-`, reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write each body to a file of its own here (000001.body, ...) instead of to stdout, each
    /// followed by a line feed
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Decode a body sent with a Content-Encoding (gzip, deflate, zstd) instead of writing it
    /// as it came
    #[arg(long)]
    pub decode: bool,
}

/// Options shared by the commands that read callbacks.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Files or directories to read (gzip and zstd are decompressed); none, or `-`, reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Find the callbacks inside the lines of a log: after a prefix, as a JSON string in a JSON
    /// log line, or with nginx's \xHH escapes. Lines without a callback are skipped
    #[arg(long)]
    pub extract: bool,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// The clock for expiry: Unix seconds or RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = crate::timefmt::parse_time)]
    pub now: Option<i64>,

    /// Fail callbacks whose signature has expired (by default an expiry is only reported)
    #[arg(long)]
    pub enforce_expiry: bool,

    /// Fail callbacks with warnings too (and inputs that hold no callback)
    #[arg(long)]
    pub strict: bool,

    /// Every callback must carry a signature that verifies under a given key; without any key
    /// this is a usage error, so a CI step whose secret is missing fails instead of passing
    #[arg(long)]
    pub require_signature: bool,

    /// Accept a run that finds no callback at all (by default it fails: nothing was checked)
    #[arg(long)]
    pub allow_empty: bool,

    /// Threads that parse, judge and render [default: one per core]. The output is the same,
    /// byte for byte, whatever the number; 1 reads on one thread and judges on another
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,

    /// Print less: no note about what a signature proves, and no summary when all passed
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub display: DisplayArgs,
}

/// How reports are shown, for every command that shows them.
#[derive(Args, Debug, Clone)]
pub struct DisplayArgs {
    /// Color output: auto (when stdout is a terminal and NO_COLOR is unset), always or never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Time zone for displayed times: an IANA name such as Asia/Shanghai, UTC, local, or an offset
    /// such as +08:00
    #[arg(long, value_name = "ZONE", default_value = "local", allow_hyphen_values = true, value_parser = crate::timefmt::parse_zone)]
    pub tz: jiff::tz::TimeZone,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people
    Human,
    /// JSON Lines, one object per callback, then a summary
    Json,
    /// GitHub Actions annotations (::error file=...,line=...::message), one per finding
    Github,
    /// A JUnit XML report, one testcase per callback (GitLab, Jenkins)
    Junit,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// An event name: any text is taken (`example` itself says which names it knows), but the names
/// of the events are offered to shell completion.
#[derive(Clone, Copy, Debug)]
struct EventName;

impl clap::builder::TypedValueParser for EventName {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = crate::judge::events::EVENTS.iter().map(|e| e.name);
        Some(Box::new(names.map(clap::builder::PossibleValue::new)))
    }
}

/// The subcommand `word` seems to misspell (`chek` for `check`): one within two edits of it.
/// For a first word that is no file, so that `tiwhook chek x.json` is not read as two inputs.
pub fn misspelt_subcommand(word: &str) -> Option<String> {
    use clap::CommandFactory;
    if word.len() < 3 || word.contains(['/', '.']) {
        return None;
    }
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .map(|name| (crate::judge::events::edit_distance(word, &name), name))
        .filter(|(distance, name)| *distance > 0 && *distance <= 2.min(name.len() / 2))
        .min()
        .map(|(_, name)| name)
}

/// An address to listen on: `127.0.0.1:8080`, `localhost:8080`, or just the port, `8080` or
/// `:8080`, on the loopback interface (listening on every interface must be asked for, as
/// `0.0.0.0:8080`).
pub fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let mut found = text.to_socket_addrs().map_err(|e| format!("`{text}`: {e}"))?;
    found.next().ok_or_else(|| format!("`{text}` names no address"))
}

/// The receiver `send` delivers to: http or https, with a host.
pub fn receiver_url(text: &str) -> Result<hyper::Uri, String> {
    let uri: Result<hyper::Uri, _> = text.parse();
    match uri {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => Ok(uri),
        _ if !text.contains("://")
            && format!("http://{text}").parse::<hyper::Uri>().is_ok_and(|u| u.host().is_some()) =>
        {
            Err(format!("`{text}` is not an http:// or https:// URL; did you mean http://{text} ?"))
        }
        Ok(_) => Err(format!("`{text}` is not an http:// or https:// URL")),
        Err(error) => Err(format!("`{text}` is not a URL ({error})")),
    }
}

/// Where `listen` forwards: only plain HTTP, to the team's own application.
pub fn forward_url(text: &str) -> Result<hyper::Uri, String> {
    let uri: hyper::Uri = text.parse().map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some() => Ok(uri),
        Some("https") => Err("only http:// is supported; forward to your application's local address".into()),
        _ => Err(format!("`{text}` is not an http:// URL; try http://{text}")),
    }
}

/// A pace, `--rate R/s` (or `R/m`, `R/h`): carried as the pause between the starts of two
/// deliveries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub pause: std::time::Duration,
}

pub fn rate(text: &str) -> Result<Rate, String> {
    let error = || format!("`{text}` is not a rate such as 10/s or 30/m");
    let (count, per) = text.split_once('/').ok_or_else(error)?;
    let count: f64 =
        count.trim().parse().ok().filter(|c: &f64| *c > 0.0 && c.is_finite()).ok_or_else(error)?;
    let period = match per.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(error()),
    };
    Ok(Rate { pause: std::time::Duration::from_secs_f64(period / count) })
}

/// A duration option in whole seconds, such as a signature's validity: `90s`, `1h30m`, `10y`; a
/// bare number is seconds.
pub fn whole_seconds(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(seconds) if seconds >= 0 => Ok(seconds),
        _ => crate::timefmt::parse_duration(text.trim()),
    }
}

/// A duration option: `500ms`, `5s`, `2m`, `1h30m`; a bare number is seconds. More than zero.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    let trimmed = text.trim();
    let millis = match trimmed.parse::<u64>() {
        Ok(seconds) => seconds.checked_mul(1000).ok_or_else(|| format!("`{text}` is too long"))?,
        Err(_) => u64::try_from(crate::timefmt::parse_millis(trimmed)?).unwrap_or(0),
    };
    if millis == 0 {
        return Err(format!("`{text}` must be more than zero"));
    }
    Ok(std::time::Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn line_lists() {
        let lines = line_list("3,7-9").unwrap();
        assert!(lines.contains(3) && lines.contains(8) && !lines.contains(4) && !lines.contains(10));
        assert!(line_list("9-7").is_err());
        assert!(line_list("0").is_err());
        assert!(line_list("x").is_err());
    }

    #[test]
    fn durations_take_one_syntax() {
        assert_eq!(duration("5").unwrap(), std::time::Duration::from_secs(5));
        assert_eq!(duration("5s").unwrap(), std::time::Duration::from_secs(5));
        assert_eq!(duration("500ms").unwrap(), std::time::Duration::from_millis(500));
        assert_eq!(duration("2m").unwrap(), std::time::Duration::from_secs(120));
        assert!(duration("0s").is_err());
        assert!(duration("soon").is_err());
    }

    #[test]
    fn urls_and_rates() {
        assert!(receiver_url("http://127.0.0.1:3000/tiw").is_ok());
        assert!(receiver_url("https://example.com/tiw").is_ok());
        assert!(receiver_url("ftp://example.com/").is_err());
        assert!(receiver_url("localhost:3000").unwrap_err().contains("did you mean http://localhost:3000"));
        assert!(!receiver_url("not a url").unwrap_err().contains("did you mean"));
        assert!(forward_url("http://127.0.0.1:3000/hook").is_ok());
        assert!(forward_url("https://example.com/").is_err());
        assert!(forward_url("localhost:3000").is_err());
        assert_eq!(rate("10/s").unwrap().pause, std::time::Duration::from_millis(100));
        assert_eq!(rate("30/m").unwrap().pause, std::time::Duration::from_secs(2));
        assert!(rate("fast").is_err());
        assert!(rate("0/s").is_err());
    }

    #[test]
    fn misspelt_subcommands_are_recognised() {
        assert_eq!(misspelt_subcommand("chek").as_deref(), Some("check"));
        assert_eq!(misspelt_subcommand("timline").as_deref(), Some("timeline"));
        assert_eq!(misspelt_subcommand("lisen").as_deref(), Some("listen"));
        assert_eq!(misspelt_subcommand("check"), None);
        assert_eq!(misspelt_subcommand("capture"), None);
        assert_eq!(misspelt_subcommand("chek.json"), None);
        assert_eq!(misspelt_subcommand("man"), None);
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(listen_address("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(listen_address(":8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(listen_address("0.0.0.0:9000").unwrap().to_string(), "0.0.0.0:9000");
        assert!(listen_address("localhost:8080").unwrap().ip().is_loopback());
        assert!(listen_address("no such host:1").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
