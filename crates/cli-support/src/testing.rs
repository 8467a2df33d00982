//! For the tools' own end-to-end tests: run a built binary with its output streams gone, the
//! ways users make them go (`| head -c1`, `>&- 2>&-`, a reader that has already left).
use std::ffi::OsString;
use std::io::{self, Read};
use std::process::{Command, Stdio};

/// How stdout and stderr are gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Both are pipes whose readers closed before the run: the first write fails with EPIPE.
    ReadersLeft,
    /// Both closed outright: `cmd >&- 2>&-`.
    Closed,
    /// Both into `head -c1`: `cmd 2>&1 | head -c1`, which leaves after one byte.
    HeadOneByte,
}

impl Gone {
    /// Every way.
    pub const ALL: [Gone; 3] = [Gone::ReadersLeft, Gone::Closed, Gone::HeadOneByte];
}

/// What a run with its streams gone left behind.
#[derive(Debug)]
pub struct Ran {
    /// The exit status (`None`: killed by a signal); a panic shows as 101.
    pub code: Option<i32>,
    /// What `head -c1` printed (empty for the other ways).
    pub head: Vec<u8>,
}

/// Runs `cmd` (program, arguments, working directory and environment are kept) with its
/// streams gone the way `how` says. stdin is `/dev/null`.
pub fn run(cmd: &Command, how: Gone) -> io::Result<Ran> {
    let mut real = match how {
        Gone::ReadersLeft => {
            let mut c = rebuild(cmd, cmd.get_program().to_os_string(), Vec::new());
            let (out_r, out_w) = io::pipe()?;
            let (err_r, err_w) = io::pipe()?;
            drop((out_r, err_r));
            c.stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
            c
        }
        Gone::Closed | Gone::HeadOneByte => {
            let script = if how == Gone::Closed {
                r#"exec "$0" "$@" >&- 2>&-"#
            } else {
                r#"set -o pipefail; "$0" "$@" 2>&1 | head -c1"#
            };
            let mut wrapper = vec![OsString::from("-c"), script.into()];
            wrapper.push(cmd.get_program().to_os_string());
            let mut c = rebuild(cmd, "bash".into(), wrapper);
            c.stdout(Stdio::piped()).stderr(Stdio::null());
            c
        }
    };
    let mut child = real.stdin(Stdio::null()).spawn()?;
    let mut head = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut head)?;
    }
    let status = child.wait()?;
    Ok(Ran {
        code: status.code(),
        head,
    })
}

/// A command running `program` with `prefix` then `cmd`'s arguments, in `cmd`'s directory
/// and environment.
fn rebuild(cmd: &Command, program: OsString, prefix: Vec<OsString>) -> Command {
    let mut c = Command::new(program);
    c.args(prefix).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        c.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// Asserts the exit status of `cmd` with its streams gone every way: `normal` with them
/// closed (the tool writes into nothing and must not notice), `readers_left` when its readers
/// left first (0 when the data was for stdout, the normal code when the tool only talks on
/// stderr), either under `| head -c1` (whether the pipe is gone before the last write is a
/// race). A panic (101) or a signal always fails.
pub fn assert_exit_codes(cmd: &Command, normal: i32, readers_left: i32) {
    for how in Gone::ALL {
        let ran = run(cmd, how).unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let ok = match how {
            Gone::Closed => ran.code == Some(normal),
            Gone::ReadersLeft => ran.code == Some(readers_left),
            Gone::HeadOneByte => ran.code == Some(normal) || ran.code == Some(readers_left),
        };
        assert!(
            ok,
            "{cmd:?} with its streams gone ({how:?}): exit {:?}, expected {normal} (closed) or \
             {readers_left} (readers left)",
            ran.code
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf` does not ignore SIGPIPE and reports a closed stdout: each way shows.
    #[test]
    fn each_way_takes_the_streams_away() {
        let mut printf = Command::new("printf");
        printf.arg("hello");
        let left = run(&printf, Gone::ReadersLeft).unwrap();
        assert_eq!(left.code, None, "killed by SIGPIPE: {left:?}");
        let closed = run(&printf, Gone::Closed).unwrap();
        assert_eq!(closed.code, Some(1), "write error: {closed:?}");
        let head = run(&printf, Gone::HeadOneByte).unwrap();
        assert_eq!(head.head, b"h");
    }
}
