//! The exit status, a contract: scripts and CI branch on it.

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Every callback passed.
    Success = 0,
    /// At least one callback failed.
    Failure = 1,
    /// A usage error, or an input that could not be read at all.
    Usage = 2,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
