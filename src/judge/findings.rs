//! Every finding code `tiwhook` reports, with its severity and when it is raised: one list for the
//! README's table of checks and the manual pages (a test keeps the README's table equal to it).
//! Codes are stable: scripts match on them.

use crate::judge::report::Severity;

/// One finding code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    /// The severity it is raised with (`missing-field` is a warning for `SdkAppId` alone).
    pub severity: Severity,
    /// When it is raised, in words (Markdown backquotes allowed).
    pub when: &'static str,
}

pub static CODES: &[Code] = &[
    Code {
        code: "invalid-json",
        severity: Severity::Error,
        when: "the input is not JSON (position of the parse error)",
    },
    Code { code: "document-too-large", severity: Severity::Error, when: "one callback over 16 MiB" },
    Code {
        code: "corrupt-archive",
        severity: Severity::Error,
        when: "a gzip or zstd input breaks off or is corrupt (where its text stops; every callback before it is still reported)",
    },
    Code { code: "not-an-object", severity: Severity::Error, when: "a callback that is not a JSON object" },
    Code {
        code: "missing-field",
        severity: Severity::Error,
        when: "a required field is missing (for `SdkAppId`: a warning, as Tencent's own samples lack it)",
    },
    Code {
        code: "wrong-type",
        severity: Severity::Error,
        when: "a field of the wrong JSON type, e.g. `\"RoomId\": \"880528\"` or `1.5` for a time",
    },
    Code { code: "negative-value", severity: Severity::Error, when: "a negative id, count, size or time" },
    Code {
        code: "empty-value",
        severity: Severity::Error,
        when: "an empty `TaskId`, `PushUserId` or other identifier",
    },
    Code {
        code: "out-of-range",
        severity: Severity::Error,
        when: "a time past 9999, a number beyond 64 bits, a `Progress` over 100",
    },
    Code {
        code: "duplicate-key",
        severity: Severity::Error,
        when: "a key twice in any object (receivers disagree on which counts)",
    },
    Code {
        code: "stop-before-start",
        severity: Severity::Error,
        when: "a stop before its start (`PushStopTime` before `PushStartTime`, and the like)",
    },
    Code { code: "sign-malformed", severity: Severity::Error, when: "`Sign` is not 32 hexadecimal digits" },
    Code {
        code: "signature-mismatch",
        severity: Severity::Error,
        when: "no key gives this `Sign` (with hints on what could be wrong)",
    },
    Code {
        code: "signature-missing",
        severity: Severity::Error,
        when: "a key was given and the callback has no `Sign`",
    },
    Code {
        code: "signature-expired",
        severity: Severity::Error,
        when: "`ExpireTime` has passed, with `--enforce-expiry`",
    },
    Code {
        code: "unknown-event-type",
        severity: Severity::Warning,
        when: "an `EventType` tiwhook does not know; its fields are shown unchecked",
    },
    Code { code: "unknown-field", severity: Severity::Warning, when: "a field the docs do not name" },
    Code {
        code: "unknown-value",
        severity: Severity::Warning,
        when: "an undocumented `FinishReason` or `TaskType`",
    },
    Code {
        code: "error-without-exception",
        severity: Severity::Warning,
        when: "an `Error` with a finish reason other than `EXCEPTION`",
    },
    Code {
        code: "bad-format",
        severity: Severity::Error,
        when: "an alarm time that is not `YYYY-MM-DD hh:mm:ss`",
    },
    Code {
        code: "old-event-name",
        severity: Severity::Warning,
        when: "`PPT2H5ProgressChanged`, the older name of `TranscodeProgressChanged`",
    },
    Code {
        code: "progress-as-string",
        severity: Severity::Warning,
        when: "`Progress` sent as a numeric string",
    },
    Code {
        code: "sign-uppercase",
        severity: Severity::Warning,
        when: "`Sign` in upper-case hex (Tencent sends lower case)",
    },
    Code {
        code: "expire-time-without-sign",
        severity: Severity::Warning,
        when: "`ExpireTime` without `Sign`",
    },
    Code {
        code: "too-many-findings",
        severity: Severity::Warning,
        when: "past 50 findings in one callback, the rest are counted, not listed",
    },
    Code {
        code: "several-documents",
        severity: Severity::Warning,
        when: "a request body (to `listen`, or in a capture) that holds more than one document (Tencent sends one callback per request)",
    },
    Code {
        code: "misspelt-event-type",
        severity: Severity::Error,
        when: "an `EventType` a letter or two from a known one, such as `WhiteboardPushStoped` (did you mean …?)",
    },
    Code {
        code: "python-repr",
        severity: Severity::Warning,
        when: "a callback decoded from a Python `dict` repr in a log (`--extract`), not the body Tencent sent",
    },
    Code {
        code: "undecodable-body",
        severity: Severity::Error,
        when: "a request body whose `Content-Encoding` is unknown or does not decode (gzip, deflate and zstd are decoded)",
    },
    Code {
        code: "empty-input",
        severity: Severity::Warning,
        when: "an input holds no callback while others do (`--strict` fails it)",
    },
    Code {
        code: "unexpected-verdict",
        severity: Severity::Error,
        when: "under `check --expect`, a callback whose verdict is not the one expected (at its start)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_of_checks_is_this_list() {
        let readme = include_str!("../../README.md");
        let rows: Vec<(String, String, String)> = readme
            .lines()
            .filter(|l| l.starts_with("| `") && l.matches('|').count() == 4)
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
                (cells[0].trim_matches('`').to_string(), cells[1].to_string(), cells[2].to_string())
            })
            .filter(|(_, severity, _)| severity == "error" || severity == "warning")
            .collect();
        let listed: Vec<(String, String, String)> = CODES
            .iter()
            .map(|c| (c.code.to_string(), c.severity.as_str().to_string(), c.when.to_string()))
            .collect();
        assert_eq!(rows, listed);
    }

    #[test]
    fn every_code_raised_by_the_source_is_listed() {
        let sources = [
            include_str!("walk.rs"),
            include_str!("signature.rs"),
            include_str!("../read/framing.rs"),
            include_str!("../read/extract.rs"),
            include_str!("../pipeline/mod.rs"),
            include_str!("report.rs"),
            include_str!("body.rs"),
        ];
        for source in sources {
            for quoted in source.split('"').skip(1).step_by(2) {
                let kebab = quoted.len() > 3
                    && quoted.contains('-')
                    && quoted.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                    && !quoted.starts_with('-')
                    && !quoted.ends_with('-');
                if kebab && !["no-callbacks"].contains(&quoted) {
                    assert!(CODES.iter().any(|c| c.code == quoted), "`{quoted}` is not in CODES");
                }
            }
        }
    }
}
