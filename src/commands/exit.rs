//! The process's exit codes, one per kind of failure a script may want to
//! tell apart, and the error that carries one to `main`.

use std::fmt;

use crate::api::ApiError;

/// How the process ends (listed in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Anything else that failed.
    Failure = 1,
    /// The command line was wrong, or the console has no terminal.
    Usage = 2,
    /// The configuration (file, environment or flags) is invalid.
    Config = 3,
    /// Not signed in, the session ended, or the credentials were refused.
    Auth = 4,
    /// The server could not be reached.
    Unreachable = 5,
    /// `eval run`: the pass rate is below `--min-pass`, or below the
    /// version it was compared against.
    EvalBelow = 6,
}

/// The exit codes as `--help` lists them.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  failure (anything not listed below; `doctor`: a check failed)
  2  usage: a wrong command line, or the console started without a terminal
  3  configuration: an invalid config file, environment variable or flag
  4  authentication: not signed in, the session ended, or credentials refused
  5  the server could not be reached
  6  `eval run`: the pass rate is below --min-pass or below the version compared against";

/// An error that ends the process with `code`; it reads as the error it
/// wraps (its message and causes).
struct Coded {
    code: Code,
    error: anyhow::Error,
}

impl fmt::Debug for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Coded {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// `error`, ending the process with `code`.
pub fn with(code: Code, error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        error: error.into(),
    })
}

/// The code an error ends the process with: the one it was given, else
/// what a client error in its chain says (unreachable, or a 401), else 1.
pub fn code_of(error: &anyhow::Error) -> Code {
    for cause in error.chain() {
        if let Some(coded) = cause.downcast_ref::<Coded>() {
            return coded.code;
        }
        if let Some(api) = cause.downcast_ref::<ApiError>() {
            return of_api(api);
        }
    }
    Code::Failure
}

/// What a client error means for the exit code.
pub fn of_api(error: &ApiError) -> Code {
    match error {
        ApiError::Unreachable { .. } => Code::Unreachable,
        ApiError::Problem(p) if p.status == 401 => Code::Auth,
        _ => Code::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_code_survives_context_and_reads_as_its_error() {
        let e = with(Code::Config, anyhow::anyhow!("bad key"));
        let e = Err::<(), _>(e).context("cannot start").unwrap_err();
        assert_eq!(code_of(&e), Code::Config);
        assert_eq!(format!("{e:#}"), "cannot start: bad key");
    }

    #[test]
    fn client_errors_carry_their_meaning() {
        let down = ApiError::Unreachable {
            url: "http://x".into(),
            reason: "refused".into(),
        };
        let e = Err::<(), _>(down).context("sign-in failed").unwrap_err();
        assert_eq!(code_of(&e), Code::Unreachable);
        assert_eq!(code_of(&anyhow::anyhow!("plain failure")), Code::Failure);
    }
}
