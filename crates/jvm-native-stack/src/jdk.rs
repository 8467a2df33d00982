//! Taking the Java thread dump: over the JVM's attach socket ([`crate::attach`]), else with
//! the JDK tools (`jstack`, `jcmd`) found here.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::attach::{self, AttachError};
use crate::runner::{is_executable, which, Job, RunError, Runner};
use crate::Error;

/// Where to look for JDK tools, in order.
#[derive(Debug, Clone, Default)]
pub struct JdkSearch {
    /// `--jdk DIR`.
    pub jdk: Option<PathBuf>,
    /// `$JAVA_HOME`.
    pub java_home: Option<PathBuf>,
    /// The target's own executable (`/proc/<pid>/exe`, e.g. `…/bin/java`).
    pub target_exe: Option<PathBuf>,
}

impl JdkSearch {
    /// Every candidate path for `tool`, in search order, ending with `PATH`.
    pub fn candidates(&self, tool: &str) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        dirs.extend(self.jdk.iter().map(|d| d.join("bin")));
        dirs.extend(self.java_home.iter().map(|d| d.join("bin")));
        dirs.extend(self.target_dirs());
        let mut found: Vec<PathBuf> = dirs.into_iter().map(|d| d.join(tool)).collect();
        found.extend(which(tool));
        found
    }

    /// The target JVM's own `bin` directories (from its executable).
    fn target_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(bin) = self.target_exe.as_ref().and_then(|exe| exe.parent()) {
            dirs.push(bin.to_path_buf());
            // …/jre/bin/java in JDK 8 has no jstack; its JDK is one level up.
            if let Some(jre) = bin.parent().filter(|p| p.ends_with("jre")) {
                dirs.extend(jre.parent().map(|jdk| jdk.join("bin")));
            }
        }
        dirs
    }

    /// The target JVM's own `tool`, if its JDK has one.
    pub fn target_own(&self, tool: &str) -> Option<PathBuf> {
        self.target_dirs()
            .into_iter()
            .map(|d| d.join(tool))
            .find(|p| is_executable(p))
    }

    /// The first executable `tool`, if any.
    pub fn find(&self, tool: &str) -> Option<PathBuf> {
        self.candidates(tool).into_iter().find(|p| is_executable(p))
    }
}

/// Takes a thread dump of `pid` over its attach socket (no JDK needed, no second JVM),
/// falling back to `jstack -l`, then `jcmd Thread.print -l`.
pub fn thread_dump(
    runner: &dyn Runner,
    search: &JdkSearch,
    pid: u32,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, Error> {
    let mut failures = Vec::new();
    match attach::thread_dump(pid, timeout, cancel) {
        Ok(text) if text.contains(" nid=") => return Ok(text),
        Ok(text) => failures.push(format!(
            "the attach socket gave no thread dump: {}",
            summary(&text, "")
        )),
        Err(AttachError::Interrupted) => return Err(Error::Interrupted),
        // Not a JVM: nothing jstack could do either (check_jvm said so already).
        Err(AttachError::NotHotSpot { .. }) => {}
        // The JVM does not answer: jstack would wait as long again, for nothing.
        Err(e) if e.timed_out() => {
            if !crate::proc::is_alive(pid) {
                return Err(Error::Exited { pid });
            }
            let details = e.to_string();
            return Err(Error::JstackFailed {
                pid,
                fix: fix_for(pid, &details, true),
                details,
                timed_out: true,
            });
        }
        // No tool can attach to such a JVM either (and starting one costs seconds).
        Err(e @ (AttachError::Disabled { .. } | AttachError::NoSigquitHandler { .. })) => {
            let details = e.to_string();
            return Err(Error::JstackFailed {
                pid,
                fix: fix_for(pid, &details, false),
                details,
                timed_out: false,
            });
        }
        Err(e) => failures.push(e.to_string()),
    }
    match tools_dump(runner, search, pid, timeout, cancel, &mut failures) {
        Err(Error::JdkToolsMissing) if !failures.is_empty() => {
            let details = failures.join("; ");
            Err(Error::JstackFailed {
                pid,
                fix: fix_for(pid, &details, false),
                details,
                timed_out: false,
            })
        }
        other => other,
    }
}

/// The fallback: `jstack -l`, then `jcmd Thread.print -l`, of every JDK found.
fn tools_dump(
    runner: &dyn Runner,
    search: &JdkSearch,
    pid: u32,
    timeout: Duration,
    cancel: &AtomicBool,
    earlier: &mut Vec<String>,
) -> Result<String, Error> {
    let attempts: [(&str, Vec<String>); 2] = [
        ("jstack", vec!["-l".into(), pid.to_string()]),
        (
            "jcmd",
            vec![pid.to_string(), "Thread.print".into(), "-l".into()],
        ),
    ];
    // Every jstack and jcmd found, in search order (--jdk, JAVA_HOME, the target's own
    // JDK, PATH), each real file once: a broken or mismatched JDK early in the list (a
    // JAVA_HOME of an older JDK, a target JDK whose tools were deleted or damaged) must
    // not hide a working one later.
    let mut programs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let jstacks = search.candidates("jstack");
    let jcmds = search.candidates("jcmd");
    for pair in jstacks.iter().zip(&jcmds) {
        for (program, (_, args)) in [pair.0, pair.1].into_iter().zip(&attempts) {
            if !is_executable(program) {
                continue;
            }
            let real = std::fs::canonicalize(program).unwrap_or_else(|_| program.clone());
            if !seen.contains(&real) {
                seen.push(real);
                programs.push((program.clone(), args.clone()));
            }
        }
    }
    if programs.is_empty() {
        return Err(Error::JdkToolsMissing);
    }
    let failures = earlier;
    for (program, args) in programs {
        if failures
            .iter()
            .any(|f: &String| f.contains("did not finish within"))
        {
            // A tool that hangs on this JVM will hang again: do not multiply the wait.
            break;
        }
        let job = Job::new(program.clone(), args, timeout);
        match runner.run(&job, cancel) {
            Err(RunError::Interrupted) => return Err(Error::Interrupted),
            Err(e) => failures.push(e.to_string()),
            // jstack exits 0 on some attach failures, so also require a thread header.
            Ok(out) if out.code == Some(0) && out.stdout.contains(" nid=") => return Ok(out.stdout),
            Ok(out) => failures.push(format!(
                "{} exited with {}: {}",
                program.display(),
                out.code
                    .map_or_else(|| "a signal".to_string(), |c| format!("code {c}")),
                summary(&out.stdout, &out.stderr)
            )),
        }
    }
    // A JVM that exits mid-attach makes jstack say "No such process" or "Connection
    // refused": that is not a permission problem.
    if !crate::proc::is_alive(pid) {
        return Err(Error::Exited { pid });
    }
    let details = failures.join("; ");
    let timed_out = details.contains("did not finish within");
    Err(Error::JstackFailed {
        pid,
        fix: fix_for(pid, &details, timed_out),
        details,
        timed_out,
    })
}

/// Takes the JSON thread dump (`Thread.dump_to_file -format=json FILE`, JDK 21+), the
/// only one listing unmounted virtual threads: over the attach socket (the file goes to
/// the JVM's own `/tmp`), else with `jcmd`. The JVM writes the file itself, so with jcmd it
/// goes to a fresh directory the target's user can write to; it is removed afterwards.
pub fn json_dump(
    runner: &dyn Runner,
    search: &JdkSearch,
    pid: u32,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, Error> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |details: String| Error::JstackFailed {
        pid,
        fix: "virtual threads are listed only while mounted".into(),
        timed_out: details.contains("did not finish within"),
        details,
    };
    let attached = match attach::json_dump(pid, timeout, cancel) {
        Ok(json) => return Ok(json),
        Err(AttachError::Interrupted) => return Err(Error::Interrupted),
        Err(e) if e.timed_out() => return Err(failed(e.to_string())),
        Err(e) => e.to_string(),
    };
    let failed = |details: String| failed(format!("{attached}; {details}"));
    let jcmd = search
        .target_own("jcmd")
        .or_else(|| search.find("jcmd"))
        .ok_or_else(|| failed("no jcmd found".into()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("jnstack-{}-{pid}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    // Writable but not listable by others: the JVM may run as another user than we do.
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o733));
    let file = dir.join("threads.json");
    let job = Job::new(
        jcmd.clone(),
        vec![
            pid.to_string(),
            "Thread.dump_to_file".into(),
            "-format=json".into(),
            file.display().to_string(),
        ],
        timeout,
    );
    let result = match runner.run(&job, cancel) {
        Err(RunError::Interrupted) => Err(Error::Interrupted),
        Err(e) => Err(failed(e.to_string())),
        Ok(out) => std::fs::read_to_string(&file).map_err(|e| {
            failed(format!(
                "{} wrote no {} ({e}): {}",
                jcmd.display(),
                file.display(),
                summary(&out.stdout, &out.stderr)
            ))
        }),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// How to fix a failed attach, from what jstack/jcmd said and who we are: the advice
/// must fit the facts (no "run as the JVM's user" to root or to that very user).
fn fix_for(pid: u32, details: &str, timed_out: bool) -> String {
    if timed_out {
        return format!(
            "jstack does not answer: the JVM is probably not reaching a safepoint (a thread \
             stuck in the VM, e.g. in a page fault on a hung mapped file); `jhsdb jstack \
             --mixed --pid {pid}` reads the threads without a safepoint"
        );
    }
    if details.contains("does not handle SIGQUIT") {
        return "The JVM runs with -Xrs: its attach listener starts with the JVM and cannot be \
                started again, and its socket (/tmp/.java_pid<pid> as the JVM sees it) is gone, \
                perhaps removed by a /tmp cleaner; take the dump from inside the application, \
                or restart the JVM"
            .into();
    }
    if details.contains("does not support the attach mechanism") {
        return format!(
            "The JVM runs with -XX:+DisableAttachMechanism, so no tool can attach: make it print \
             a dump with `kill -3 {pid}` (it goes to the JVM's stdout or log) and run \
             `jnstack --from-file LOG`"
        );
    }
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let same_user = euid == 0 || crate::proc::process_uid(pid) == Some(euid);
    if same_user {
        format!(
            "Use the target's own JDK (--jdk DIR); if it is the same JDK, check that the JVM's \
             temporary directory (/proc/{pid}/root/tmp) is the one jstack sees (containers)"
        )
    } else {
        format!(
            "Run jnstack as the JVM's user (sudo -u <user> jnstack {pid}) with the target's own \
             JDK (--jdk DIR)"
        )
    }
}

/// The first few non-empty lines of a tool's output, joined for a one-line error.
fn summary(stdout: &str, stderr: &str) -> String {
    stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect::<Vec<_>>()
        .join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for jstack/jcmd: those under `good` produce a dump, others fail.
    struct OnlyFrom {
        good: PathBuf,
        ran: std::sync::Mutex<Vec<PathBuf>>,
    }

    impl Runner for OnlyFrom {
        fn run(&self, job: &Job, _cancel: &AtomicBool) -> Result<crate::runner::Output, RunError> {
            self.ran.lock().unwrap().push(job.program.clone());
            let ok = job.program.starts_with(&self.good);
            Ok(crate::runner::Output {
                code: Some(if ok { 0 } else { 1 }),
                stdout: if ok {
                    "\"main\" #1 prio=5 tid=0x1 nid=0x2 runnable\n".into()
                } else {
                    String::new()
                },
                stderr: if ok {
                    String::new()
                } else {
                    "Unable to open socket file".into()
                },
            })
        }
    }

    fn fake_tools(dir: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        for tool in ["java", "jstack", "jcmd"] {
            let path = dir.join("bin").join(tool);
            std::fs::write(&path, "#!/bin/sh\nexit 1\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn a_mismatched_java_home_falls_back_to_the_targets_own_jdk() {
        let home = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        fake_tools(home.path());
        fake_tools(target.path());
        let search = JdkSearch {
            jdk: None,
            java_home: Some(home.path().to_path_buf()),
            target_exe: Some(target.path().join("bin/java")),
        };
        let runner = OnlyFrom {
            good: target.path().to_path_buf(),
            ran: std::sync::Mutex::default(),
        };
        let dump = thread_dump(
            &runner,
            &search,
            std::process::id(),
            Duration::from_secs(5),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(dump.contains("\"main\""));
        let ran = runner.ran.lock().unwrap().clone();
        assert_eq!(
            ran,
            [
                home.path().join("bin/jstack"),
                home.path().join("bin/jcmd"),
                target.path().join("bin/jstack"),
            ]
        );
    }

    #[test]
    fn search_order_is_flag_java_home_target_path() {
        let search = JdkSearch {
            jdk: Some("/opt/jdk".into()),
            java_home: Some("/opt/home".into()),
            target_exe: Some("/opt/jdk8/jre/bin/java".into()),
        };
        let c = search.candidates("jstack");
        assert_eq!(c[0], PathBuf::from("/opt/jdk/bin/jstack"));
        assert_eq!(c[1], PathBuf::from("/opt/home/bin/jstack"));
        assert_eq!(c[2], PathBuf::from("/opt/jdk8/jre/bin/jstack"));
        assert_eq!(c[3], PathBuf::from("/opt/jdk8/bin/jstack"));
    }
}
