//! The `tiwhook` binary: parse the command line, resolve it once, run, and map the outcome to the
//! exit status. Everything else lives in the library.

use std::io::{self, Write};

use clap::{CommandFactory, Parser};
use tiwhook::cli::{
    CheckArgs, Cli, Command, ExampleArgs, Expectation, Format, InspectArgs, ListenArgs, ListenFormat,
    SignArgs, TimelineArgs, TimelineFormat,
};
use tiwhook::config::{self, Environment};
use tiwhook::exit_codes::ExitCode;
use tiwhook::render::check::CheckPrinter;
use tiwhook::render::compact::CompactPrinter;
use tiwhook::render::github::GithubPrinter;
use tiwhook::render::human::HumanPrinter;
use tiwhook::render::json::JsonPrinter;
use tiwhook::render::junit::JunitPrinter;
use tiwhook::render::timeline::{TimelineOptions, TimelinePrinter};
use tiwhook::render::{Printer, View};
use tiwhook::report::Verdict;
use tiwhook::validate::Policy;
use tiwhook::{example, listen, run, timefmt};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Inspect,
    Check,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => read(Mode::Inspect, &cli.inspect, None),
        Some(Command::Inspect(args)) => read(Mode::Inspect, &args, None),
        Some(Command::Check(CheckArgs { inspect, expect })) => read(Mode::Check, &inspect, expect),
        Some(Command::Sign(args)) => sign(&args),
        Some(Command::Example(args)) => example(&args),
        Some(Command::Timeline(args)) => timeline(&args),
        Some(Command::Listen(args)) => listen(&args),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "tiwhook", &mut io::stdout());
            Ok(ExitCode::Success)
        }
        Some(Command::Man) => clap_mangen::Man::new(Cli::command())
            .render(&mut io::stdout())
            .map(|()| ExitCode::Success)
            .map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(code) => code.into(),
        Err(message) => {
            eprintln!("tiwhook: {message}");
            ExitCode::Usage.into()
        }
    }
}

/// Ends a run whose output failed: quietly for a closed pipe (`tiwhook … | head -1`).
fn output_failed(error: io::Error) -> Result<ExitCode, String> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::Success)
    } else {
        Err(format!("cannot write the output: {error}"))
    }
}

fn read(mode: Mode, args: &InspectArgs, expect: Option<Expectation>) -> Result<ExitCode, String> {
    let env = Environment::real();
    let config = config::resolve(&args.read, &env)?;
    colored::control::set_override(config.color);
    let out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let view = View {
        zone: config.zone.clone(),
        now: config.policy.now,
        key_origins: config.policy.keys.iter().map(|k| k.origin().to_string()).collect(),
    };
    let mut printer: Box<dyn Printer> = match (mode, args.format) {
        (_, Format::Json) => Box::new(JsonPrinter::new(out)),
        (_, Format::Github) => Box::new(GithubPrinter::new(out)),
        (_, Format::Junit) => Box::new(JunitPrinter::new(out)),
        (Mode::Check, Format::Human) => Box::new(CheckPrinter::new(out)),
        (Mode::Inspect, Format::Human) => Box::new(HumanPrinter::new(out, view)),
    };
    let expected = expect.map(|e| match e {
        Expectation::Valid => Verdict::Valid,
        Expectation::Invalid => Verdict::Invalid,
    });
    let mut stderr = io::stderr().lock();
    if args.read.paths.is_empty() && io::IsTerminal::is_terminal(&io::stdin()) {
        let _ =
            writeln!(stderr, "tiwhook: reading callbacks from stdin (end with Ctrl-D; see tiwhook --help)");
    }
    match run::inspect(&args.read.paths, &config.policy, expected, printer.as_mut(), &mut stderr) {
        Ok((summary, code)) => {
            let caveat_on_stdout = mode == Mode::Inspect && args.format == Format::Human;
            if summary.signatures_checked && !caveat_on_stdout {
                let _ = writeln!(stderr, "tiwhook: note: {}", tiwhook::render::BODY_CAVEAT);
            }
            Ok(code)
        }
        Err(error) => output_failed(error),
    }
}

fn sign(args: &SignArgs) -> Result<ExitCode, String> {
    let env = Environment::real();
    let keys = config::keys(&args.keys, &env)?;
    let Some(key) = keys.first() else {
        return Err("sign needs a key: give --key, --key-file or --key-env (default TIW_CALLBACK_KEY)".into());
    };
    let expire = match (&args.expire_at, &args.expire_in) {
        (Some(at), _) => timefmt::parse_time(at).map_err(|e| format!("--expire-at: {e}"))?,
        (None, Some(duration)) => {
            let now = config::clock(args.now.as_deref(), &env)?;
            let duration = timefmt::parse_duration(duration).map_err(|e| format!("--expire-in: {e}"))?;
            now.checked_add(duration).ok_or("--expire-in: the new ExpireTime is past the year 9999")?
        }
        (None, None) => return Err("give --expire-at or --expire-in".into()),
    };
    let expire = u64::try_from(expire).map_err(|_| "the new ExpireTime is before 1970".to_string())?;
    if expire > tiwhook::events::MAX_UNIX_TIME {
        return Err("the new ExpireTime is past the year 9999".into());
    }
    if args.in_place && (args.paths.is_empty() || args.paths.iter().any(|p| p.as_os_str() == "-")) {
        return Err("--in-place needs files: stdin cannot be written back".into());
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut stderr = io::stderr().lock();
    let secret = key.secret_for_signing();
    match run::sign(&args.paths, secret, expire, args.in_place, &mut out, &mut stderr) {
        Ok(code) => Ok(code),
        Err(error) => output_failed(error),
    }
}

fn example(args: &ExampleArgs) -> Result<ExitCode, String> {
    let mut out = io::stdout().lock();
    let written = if args.list {
        example::names().try_for_each(|name| writeln!(out, "{name}"))
    } else {
        let env = Environment::real();
        let name = args.event.as_deref().unwrap_or_default();
        let now = config::clock(args.now.as_deref(), &env)?;
        let keys = config::keys(&args.keys, &env)?;
        let key = keys.first().map(|k| k.secret_for_signing());
        let Some(sample) = example::example(name, now, key) else {
            let known: Vec<_> = example::names().collect();
            return Err(format!("no example of `{name}`; known events: {}", known.join(", ")));
        };
        let text = serde_json::to_string_pretty(&sample).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")
    };
    match written {
        Ok(()) => Ok(ExitCode::Success),
        Err(error) => output_failed(error),
    }
}

fn timeline(args: &TimelineArgs) -> Result<ExitCode, String> {
    let env = Environment::real();
    let config = config::resolve(&args.read, &env)?;
    colored::control::set_override(config.color);
    let time = |option: &str, value: &Option<String>| -> Result<Option<i64>, String> {
        value.as_deref().map(timefmt::parse_time).transpose().map_err(|e| format!("{option}: {e}"))
    };
    let columns = || std::env::var("COLUMNS").ok()?.parse::<usize>().ok();
    let width = args.width.map(usize::from).or_else(columns).unwrap_or(120).clamp(40, 1000);
    let options = TimelineOptions {
        json: args.format == TimelineFormat::Json,
        room: args.room,
        since: time("--since", &args.since)?,
        until: time("--until", &args.until)?,
        width,
        zone: config.zone.clone(),
        now: config.policy.now,
    };
    let out = io::BufWriter::new(io::stdout().lock());
    let mut printer = TimelinePrinter::new(out, io::stderr(), options);
    let mut diagnostics = io::stderr();
    match run::inspect(&args.read.paths, &config.policy, None, &mut printer, &mut diagnostics) {
        Ok((_, code)) => Ok(code),
        Err(error) => output_failed(error),
    }
}

fn listen(args: &ListenArgs) -> Result<ExitCode, String> {
    let env = Environment::real();
    let keys = config::keys(&args.keys, &env)?;
    let zone = timefmt::parse_zone(&args.tz).map_err(|e| format!("--tz: {e}"))?;
    colored::control::set_override(config::color(args.color, &env));
    let forward_to = args.forward_to.as_deref().map(listen::parse_forward_url).transpose()?;
    let view =
        View { zone, now: env.now, key_origins: keys.iter().map(|k| k.origin().to_string()).collect() };
    let printer: Box<dyn Printer + Send> = match (args.format, args.compact) {
        (ListenFormat::Json, _) => Box::new(JsonPrinter::new(io::stdout())),
        (ListenFormat::Human, true) => Box::new(CompactPrinter::new(io::stdout(), view)),
        (ListenFormat::Human, false) => Box::new(HumanPrinter::new(io::stdout(), view)),
    };
    let save = match &args.save {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("--save {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let options = listen::Options {
        read_timeout: std::time::Duration::from_secs(args.read_timeout),
        policy: Policy { keys, now: env.now, enforce_expiry: !args.allow_expired, strict: args.strict },
        reject_invalid: args.reject_invalid,
        save,
        forward_to,
        json: args.format == ListenFormat::Json,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the receiver: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|e| format!("--addr {}: {e}", args.addr))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "listening on http://{bound}");
            let _ = out.flush();
        }
        if !bound.ip().is_loopback() {
            eprintln!("tiwhook: listening on {bound}: anyone who can reach it can post callbacks");
        }
        let summary = listen::serve(listener, options, printer, shutdown_signal())
            .await
            .map_err(|e| format!("the receiver failed: {e}"))?;
        let _ = summary;
        Ok(ExitCode::Success)
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
