//! The exit status, a contract: scripts and CI branch on it.

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Every callback passed.
    Success = 0,
    /// At least one callback failed.
    Failure = 1,
    /// A usage error, or an input that could not be read at all.
    Usage = 2,
}

impl ExitCode {
    /// The worse of two outcomes (a usage error over a failure over success): what a run that
    /// met both ends with.
    pub fn worse(self, other: ExitCode) -> ExitCode {
        self.max(other)
    }

    /// The outcome once `unreadable` inputs could not be opened at all (each is a usage error).
    pub fn with_unreadable(self, unreadable: u64) -> ExitCode {
        if unreadable > 0 { self.worse(ExitCode::Usage) } else { self }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
