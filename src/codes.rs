//! Every finding code `tiwhook` reports, with its severity and when it is raised: one table the
//! compiler checks, from which the manual pages are made and against which a test holds the
//! README's table of checks. Codes are stable: scripts match on them. The module sits below
//! everything else because readers raise codes too (`invalid-json`, `corrupt-archive`) before a
//! judge sees the document.

/// How bad a finding is: an error fails the callback, a warning only does under `--strict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Declares [`Code`] from rows of `Variant = "code", Severity, "when it is raised";`.
macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $when:expr;)*) => {
        /// One finding code: what scripts match on, with its severity and when it is raised.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of the README's table.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case name, as printed and in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The severity it is raised with (`missing-field` is a warning for `SdkAppId` alone).
            pub const fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// When it is raised, in words (Markdown backquotes allowed).
            pub const fn when(self) -> &'static str {
                match self {
                    $(Code::$variant => $when,)*
                }
            }
        }
    };
}

codes! {
    InvalidJson = "invalid-json", Error,
        "the input is not JSON (position of the parse error)";
    DocumentTooLarge = "document-too-large", Error,
        "one callback over 16 MiB";
    CorruptArchive = "corrupt-archive", Error,
        "a gzip or zstd input breaks off or is corrupt (where its text stops; every callback before it is still reported)";
    NotAnObject = "not-an-object", Error,
        "a callback that is not a JSON object";
    MissingField = "missing-field", Error,
        "a required field is missing (for `SdkAppId`: a warning, as Tencent's own samples lack it)";
    WrongType = "wrong-type", Error,
        "a field of the wrong JSON type, e.g. `\"RoomId\": \"880528\"` or `1.5` for a time";
    NegativeValue = "negative-value", Error,
        "a negative id, count, size or time";
    EmptyValue = "empty-value", Error,
        "an empty `TaskId`, `PushUserId` or other identifier";
    OutOfRange = "out-of-range", Error,
        "a time past 9999, a number beyond 64 bits, a `Progress` over 100";
    DuplicateKey = "duplicate-key", Error,
        "a key twice in any object (receivers disagree on which counts)";
    StopBeforeStart = "stop-before-start", Error,
        "a stop before its start (`PushStopTime` before `PushStartTime`, and the like)";
    SignMalformed = "sign-malformed", Error,
        "`Sign` is not 32 hexadecimal digits";
    SignatureMismatch = "signature-mismatch", Error,
        "no key gives this `Sign` (with hints on what could be wrong)";
    SignatureMissing = "signature-missing", Error,
        "a key was given and the callback has no `Sign`";
    SignatureExpired = "signature-expired", Error,
        "`ExpireTime` has passed, with `--enforce-expiry`";
    UnknownEventType = "unknown-event-type", Warning,
        "an `EventType` tiwhook does not know; its fields are shown unchecked";
    UnknownField = "unknown-field", Warning,
        "a field the docs do not name";
    UnknownValue = "unknown-value", Warning,
        "an undocumented `FinishReason` or `TaskType`";
    ErrorWithoutException = "error-without-exception", Warning,
        "an `Error` with a finish reason other than `EXCEPTION`";
    BadFormat = "bad-format", Error,
        "an alarm time that is not `YYYY-MM-DD hh:mm:ss`";
    OldEventName = "old-event-name", Warning,
        "`PPT2H5ProgressChanged`, the older name of `TranscodeProgressChanged`";
    ProgressAsString = "progress-as-string", Warning,
        "`Progress` sent as a numeric string";
    SignUppercase = "sign-uppercase", Warning,
        "`Sign` in upper-case hex (Tencent sends lower case)";
    ExpireTimeWithoutSign = "expire-time-without-sign", Warning,
        "`ExpireTime` without `Sign`";
    TooManyFindings = "too-many-findings", Warning,
        "past 50 findings in one callback, the rest are counted, not listed";
    SeveralDocuments = "several-documents", Warning,
        "a request body (to `listen`, or in a capture) that holds more than one document (Tencent sends one callback per request)";
    MisspeltEventType = "misspelt-event-type", Error,
        "an `EventType` a letter or two from a known one, such as `WhiteboardPushStoped` (did you mean …?)";
    PythonRepr = "python-repr", Warning,
        "a callback decoded from a Python `dict` repr in a log (`--extract`), not the body Tencent sent";
    UndecodableBody = "undecodable-body", Error,
        "a request body whose `Content-Encoding` is unknown or does not decode (gzip, deflate and zstd are decoded)";
    EmptyInput = "empty-input", Warning,
        "an input holds no callback while others do (`--strict` fails it)";
    UnexpectedVerdict = "unexpected-verdict", Error,
        "under `check --expect`, a callback whose verdict is not the one expected (at its start)";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_of_checks_is_this_list() {
        let readme = include_str!("../README.md");
        let rows: Vec<(String, String, String)> = readme
            .lines()
            .filter(|l| l.starts_with("| `") && l.matches('|').count() == 4)
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
                (cells[0].trim_matches('`').to_string(), cells[1].to_string(), cells[2].to_string())
            })
            .filter(|(_, severity, _)| severity == "error" || severity == "warning")
            .collect();
        let listed: Vec<(String, String, String)> = Code::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.severity().as_str().to_string(), c.when().to_string()))
            .collect();
        assert_eq!(rows, listed);
    }
}
