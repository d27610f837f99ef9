//! Resolves the command line once into what a run needs: keys, clock, zone, color and format.
//!
//! Everything that depends on the environment (variables, the real clock, whether stdout is a
//! terminal) is read here and nowhere else, so the rest of the program is a function of its
//! `Config`.

use std::io::IsTerminal;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::cli::{ColorChoice, KeyArgs, ReadArgs};
use crate::judge::signature::Key;
use crate::judge::walk::Policy;

/// The resolved options of a reading command.
#[derive(Clone, Debug)]
pub struct Config {
    pub policy: Policy,
    pub zone: TimeZone,
    pub color: bool,
}

/// Looks up an environment variable.
pub type VarLookup = Box<dyn Fn(&str) -> Option<String>>;

/// What the environment holds that a run may read.
pub struct Environment {
    pub var: VarLookup,
    pub stdout_is_terminal: bool,
    pub now: i64,
}

impl Environment {
    /// The real environment of this process.
    pub fn real() -> Environment {
        Environment {
            var: Box::new(|name| std::env::var(name).ok()),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            now: Timestamp::now().as_second(),
        }
    }
}

/// Resolves the reading options; an `Err` is a usage error, worded for the user.
pub fn resolve(args: &ReadArgs, env: &Environment) -> Result<Config, String> {
    let keys = keys(&args.keys, env)?;
    if args.require_signature && keys.is_empty() {
        return Err("no callback key: --require-signature needs --key, --key-file or TIW_CALLBACK_KEY".into());
    }
    let now = clock(args.now, env);
    let zone = args.display.tz.clone();
    let color = color(args.display.color, env);
    let policy =
        Policy { keys, now, enforce_expiry: args.enforce_expiry, strict: args.strict, details_unread: false };
    Ok(Config { policy, zone, color })
}

/// The clock: `--now` when given, else the real one.
pub fn clock(now: Option<i64>, env: &Environment) -> i64 {
    now.unwrap_or(env.now)
}

/// Keys in the order they are numbered: `--key` options, `--key-file` lines, the environment.
pub fn keys(args: &KeyArgs, env: &Environment) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    for (i, key) in args.key.iter().enumerate() {
        if key.is_empty() {
            return Err("--key: the key is empty".into());
        }
        keys.push(Key::new(key.as_bytes(), format!("--key #{}", i + 1)));
    }
    for path in &args.key_file {
        let shown = path.display();
        let text = std::fs::read(path).map_err(|e| format!("--key-file {shown}: {e}"))?;
        let before = keys.len();
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                keys.push(Key::new(line, format!("{shown} line {}", n + 1)));
            }
        }
        if keys.len() == before {
            return Err(format!("--key-file {shown}: the file holds no key"));
        }
    }
    // The default variable may be unset; one named with --key-env must hold a key, or a CI step
    // whose secret did not reach it would pass having checked nothing.
    let name = args.key_env.as_deref().unwrap_or(DEFAULT_KEY_ENV);
    match (env.var)(name) {
        Some(key) if !key.is_empty() => keys.push(Key::new(key.into_bytes(), format!("${name}"))),
        value if args.key_env.is_some() => {
            let state = if value.is_some() { "empty" } else { "not set" };
            return Err(format!("--key-env {name}: the variable is {state}"));
        }
        _ => {}
    }
    Ok(keys)
}

/// The variable a key is read from when `--key-env` does not name another.
pub const DEFAULT_KEY_ENV: &str = "TIW_CALLBACK_KEY";

/// Whether to color: `always` and `never` as said; `auto` when stdout is a terminal and
/// `NO_COLOR` is unset or empty, or whenever `CLICOLOR_FORCE` is set to something but `0`.
pub fn color(choice: ColorChoice, env: &Environment) -> bool {
    let set = |name: &str| (env.var)(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if set("CLICOLOR_FORCE") && (env.var)("CLICOLOR_FORCE").as_deref() != Some("0") {
                true
            } else {
                env.stdout_is_terminal && !set("NO_COLOR")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn env(vars: &'static [(&'static str, &'static str)], terminal: bool) -> Environment {
        Environment {
            var: Box::new(move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())),
            stdout_is_terminal: terminal,
            now: 1_000,
        }
    }

    fn args(line: &[&str]) -> ReadArgs {
        let mut argv = vec!["tiwhook", "inspect"];
        argv.extend(line);
        match crate::cli::Cli::parse_from(argv).command {
            Some(crate::cli::Command::Inspect(a)) => a.read,
            _ => unreachable!(),
        }
    }

    #[test]
    fn color_follows_the_conventions() {
        let auto = args(&[]);
        assert!(resolve(&auto, &env(&[], true)).unwrap().color);
        assert!(!resolve(&auto, &env(&[], false)).unwrap().color);
        assert!(!resolve(&auto, &env(&[("NO_COLOR", "1")], true)).unwrap().color);
        assert!(resolve(&auto, &env(&[("NO_COLOR", "")], true)).unwrap().color);
        assert!(resolve(&auto, &env(&[("CLICOLOR_FORCE", "1")], false)).unwrap().color);
        assert!(resolve(&args(&["--color", "always"]), &env(&[("NO_COLOR", "1")], false)).unwrap().color);
    }

    #[test]
    fn keys_are_numbered_in_order_and_the_env_key_comes_last() {
        let config =
            resolve(&args(&["--key", "a", "--key", "b"]), &env(&[("TIW_CALLBACK_KEY", "c")], false)).unwrap();
        let origins: Vec<_> = config.policy.keys.iter().map(|k| k.origin().to_string()).collect();
        assert_eq!(origins, ["--key #1", "--key #2", "$TIW_CALLBACK_KEY"]);
        let none = resolve(&args(&[]), &env(&[("TIW_CALLBACK_KEY", "")], false)).unwrap();
        assert!(none.policy.keys.is_empty());
    }

    #[test]
    fn a_named_key_variable_must_hold_a_key_and_a_required_signature_needs_one() {
        let named = args(&["--key-env", "CI_KEY"]);
        assert_eq!(
            resolve(&named, &env(&[], false)).err().unwrap(),
            "--key-env CI_KEY: the variable is not set"
        );
        assert_eq!(
            resolve(&named, &env(&[("CI_KEY", "")], false)).err().unwrap(),
            "--key-env CI_KEY: the variable is empty"
        );
        assert_eq!(resolve(&named, &env(&[("CI_KEY", "k")], false)).unwrap().policy.keys.len(), 1);
        let required = args(&["--require-signature"]);
        assert!(resolve(&required, &env(&[], false)).err().unwrap().starts_with("no callback key"));
        assert!(resolve(&required, &env(&[("TIW_CALLBACK_KEY", "k")], false)).is_ok());
    }

    #[test]
    fn the_clock_defaults_to_the_environment() {
        assert_eq!(resolve(&args(&[]), &env(&[], false)).unwrap().policy.now, 1_000);
        assert_eq!(resolve(&args(&["--now", "7"]), &env(&[], false)).unwrap().policy.now, 7);
        let refused = crate::cli::Cli::try_parse_from(["tiwhook", "inspect", "--now", "soon"]).unwrap_err();
        assert_eq!(refused.kind(), clap::error::ErrorKind::ValueValidation);
    }
}
