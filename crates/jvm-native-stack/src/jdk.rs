//! Finding the JDK tools (`jstack`, `jcmd`) and taking the Java thread dump with them.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

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
        if let Some(exe) = &self.target_exe {
            // …/jre/bin/java in JDK 8 has no jstack; its JDK is one level up.
            if let Some(bin) = exe.parent() {
                dirs.push(bin.to_path_buf());
                if let Some(jre) = bin.parent().filter(|p| p.ends_with("jre")) {
                    dirs.extend(jre.parent().map(|jdk| jdk.join("bin")));
                }
            }
        }
        let mut found: Vec<PathBuf> = dirs.into_iter().map(|d| d.join(tool)).collect();
        found.extend(which(tool));
        found
    }

    /// The first executable `tool`, if any.
    pub fn find(&self, tool: &str) -> Option<PathBuf> {
        self.candidates(tool).into_iter().find(|p| is_executable(p))
    }
}

/// Takes a thread dump of `pid` with `jstack -l`, falling back to `jcmd Thread.print -l`.
pub fn thread_dump(
    runner: &dyn Runner,
    search: &JdkSearch,
    pid: u32,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, Error> {
    let attempts: [(&str, Vec<String>); 2] = [
        ("jstack", vec!["-l".into(), pid.to_string()]),
        (
            "jcmd",
            vec![pid.to_string(), "Thread.print".into(), "-l".into()],
        ),
    ];
    let mut failures = Vec::new();
    for (tool, args) in attempts {
        let Some(program) = search.find(tool) else {
            continue;
        };
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
    if failures.is_empty() {
        return Err(Error::JdkToolsMissing);
    }
    // A JVM that exits mid-attach makes jstack say "No such process" or "Connection
    // refused": that is not a permission problem.
    if !crate::proc::is_alive(pid) {
        return Err(Error::Exited { pid });
    }
    let details = failures.join("; ");
    Err(Error::JstackFailed {
        pid,
        fix: fix_for(pid, &details),
        details,
    })
}

/// How to fix a failed attach, from what jstack/jcmd said.
fn fix_for(pid: u32, details: &str) -> String {
    if details.contains("does not support the attach mechanism") {
        format!(
            "The JVM runs with -XX:+DisableAttachMechanism, so no tool can attach: make it print \
             a dump with `kill -3 {pid}` (it goes to the JVM's stdout or log) and run \
             `jnstack --from-file LOG`"
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
