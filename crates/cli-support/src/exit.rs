//! The one exit-code contract of every devtools binary.
use std::process::ExitCode;

/// How a run ended, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, nothing wrong (also: the reader of stdout went away, `| head`).
    Ok,
    /// 1: the run worked and found a problem (unreadable files, a hang, a verification
    /// mismatch).
    Problem,
    /// 2: an error, including a usage error; the output is not to be trusted.
    Error,
    /// 130: interrupted (SIGINT, SIGTERM, SIGHUP), as a shell reports a Ctrl-C.
    Interrupted,
}

impl Exit {
    /// The numeric status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Problem => 1,
            Exit::Error => 2,
            Exit::Interrupted => 130,
        }
    }

    /// The status for a run that found problems or not.
    pub const fn found(problem: bool) -> Exit {
        if problem {
            Exit::Problem
        } else {
            Exit::Ok
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [Exit::Ok, Exit::Problem, Exit::Error, Exit::Interrupted];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 130]);
        assert_eq!(Exit::found(true), Exit::Problem);
        assert_eq!(Exit::found(false), Exit::Ok);
    }
}
