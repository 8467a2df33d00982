//! One merged Java + native stack view of a live JVM, with a diagnosis.
//!
//! `jnstack <pid>` takes a Java thread dump (over the attach socket, else jstack/jcmd), reads every LWP from
//! `/proc/<pid>/task`, attaches gdb once for native frames, merges the halves on
//! LWP = nid, and explains what is wrong (monitor chains, deadlocks, busy threads).

pub mod attach;
pub mod backtrace;
pub mod child;
pub mod diagnose;
pub mod dump;
pub mod dump_json;
pub mod fd;
pub mod fold;
pub mod gdb;
pub mod group;
pub mod inspect;
pub mod jdk;
pub mod merge;
pub mod native;
pub mod net;
pub mod proc;
pub mod ptrace;
pub mod report;
pub mod runner;
pub mod sampling;
pub mod syscall;
pub mod unwind;
pub mod vm_state;
pub mod vthreads;
pub mod watchdog;

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can stop jnstack. Each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pid does not exist.
    #[error("no process with pid {pid}: list Java processes with `jps -l` or `pgrep -a java`")]
    NoSuchProcess {
        /// The pid asked for.
        pid: u32,
    },
    /// The process has exited but its parent has not reaped it yet.
    #[error("process {pid} has already exited (it is a zombie its parent has not reaped yet): there is nothing left to inspect")]
    Zombie {
        /// The pid asked for.
        pid: u32,
    },
    /// The process is stopped (SIGSTOP, Ctrl-Z): jstack would wait for it forever.
    #[error("process {pid} is stopped (state T: kill -STOP or Ctrl-Z), so jstack cannot attach: resume it with `kill -CONT {pid}` and run jnstack again (jnstack does not resume a process it did not stop)")]
    Stopped {
        /// The pid asked for.
        pid: u32,
    },
    /// The process exited while jnstack was inspecting it.
    #[error(
        "process {pid} exited while jnstack was inspecting it: there is nothing left to inspect"
    )]
    Exited {
        /// The pid asked for.
        pid: u32,
    },
    /// The process does not have libjvm.so mapped.
    #[error("process {pid} ({}) is not a JVM (libjvm.so is not loaded): list Java processes with `jps -l`", exe.display())]
    NotAJvm {
        /// The pid asked for.
        pid: u32,
        /// Its executable.
        exe: PathBuf,
    },
    /// A /proc file of the target could not be read.
    #[error("cannot read /proc/{pid}/{what}: {error}{}: run jnstack as the JVM's user (sudo -u <user> jnstack {pid}) or as root", owner.as_ref().map(|o| format!(" (owned by {o})")).unwrap_or_default())]
    ProcUnreadable {
        /// The pid.
        pid: u32,
        /// Which file.
        what: &'static str,
        /// The OS error (part of the message, so not a `source`: printed once).
        error: std::io::Error,
        /// The user owning the process, when /proc tells.
        owner: Option<String>,
    },
    /// Neither jstack nor jcmd was found.
    #[error("neither jstack nor jcmd found: pass --jdk DIR or set JAVA_HOME to the target's JDK (a JRE has no jstack)")]
    JdkToolsMissing,
    /// jstack and jcmd both failed.
    #[error("jstack/jcmd could not take a thread dump of process {pid}: {details}. {fix}")]
    JstackFailed {
        /// The pid.
        pid: u32,
        /// What each tool said.
        details: String,
        /// How to fix it, chosen from what the tools said.
        fix: String,
        /// A tool did not answer within the dump timeout (no safepoint reached, usually).
        timed_out: bool,
    },
    /// `--jdk DIR` has neither bin/jstack nor bin/jcmd.
    #[error("--jdk {}: no bin/jstack or bin/jcmd in it: pass a JDK's home directory (the one holding bin/jstack, e.g. /usr/lib/jvm/<jdk>), not a JRE", dir.display())]
    BadJdkDir {
        /// The directory given.
        dir: PathBuf,
    },
    /// gdb is not installed.
    #[error("gdb not found on PATH: install it (apt-get install gdb) or pass --no-gdb for the Java + /proc view without native frames")]
    GdbMissing,
    /// The kernel refused the ptrace attach.
    #[error("gdb may not attach to process {pid} (ptrace: Operation not permitted){}: run jnstack as the JVM's user or as root; in a container add CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE); or pass --no-gdb", scope_hint(scope.as_deref()))]
    PtraceDenied {
        /// The pid.
        pid: u32,
        /// Contents of /proc/sys/kernel/yama/ptrace_scope, if present.
        scope: Option<String>,
    },
    /// gdb did not finish in time (it was killed and the JVM resumed).
    #[error("gdb did not finish within {timeout:?}; it was killed and the JVM resumed (raise --gdb-timeout, or use --no-gdb)")]
    GdbTimeout {
        /// The timeout.
        timeout: Duration,
    },
    /// gdb ran but produced nothing usable.
    #[error("gdb failed: {details}")]
    GdbFailed {
        /// What went wrong.
        details: String,
    },
    /// The native unwinder could not run at all.
    #[error("the native unwinder failed: {details} (try --unwinder gdb)")]
    NativeFailed {
        /// What went wrong.
        details: String,
    },
    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// A thread dump file could not be read.
    #[error("cannot read thread dump {}: {error}", path.display())]
    ReadDump {
        /// The file.
        path: PathBuf,
        /// The OS error (part of the message, so not a `source`: printed once).
        error: std::io::Error,
    },
    /// A dump had no threads or was malformed.
    #[error("{reason}")]
    BadDump {
        /// What is wrong with it.
        reason: String,
    },
}

fn scope_hint(scope: Option<&str>) -> String {
    match scope {
        Some(s) if s != "0" => format!(
            "; /proc/sys/kernel/yama/ptrace_scope is {s}, which blocks attaching to non-child processes (as root: echo 0 > /proc/sys/kernel/yama/ptrace_scope)"
        ),
        _ => String::new(),
    }
}
