//! The pipeline: Java dump first (jstack hangs while gdb holds the process), then /proc,
//! then one gdb attach for the selected threads, then the diagnosis.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use crate::diagnose::{self, Finding};
use crate::dump;
use crate::fd;
use crate::gdb::{self, GdbConfig};
use crate::jdk::{self, JdkSearch};
use crate::merge::{self, Filter, MissingDump, Snapshot};
use crate::native::{self, NativeConfig};
use crate::proc;
use crate::runner::Runner;
use crate::vthreads;
use crate::Error;

/// What to inspect.
#[derive(Debug, Clone)]
pub enum Source {
    /// A live JVM.
    Pid(u32),
    /// A saved thread dump (`--from-file`), or a text dump and the JSON dump taken with it.
    File(Vec<PathBuf>),
}

/// A validated request, built from the command line before any work starts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Live process or saved dump.
    pub source: Source,
    /// Where to find jstack/jcmd (`target_exe` is filled in from /proc).
    pub jdk: JdkSearch,
    /// Deadline for jstack/jcmd.
    pub dump_timeout: Duration,
    /// gdb settings, when gdb takes the native frames (`--unwinder gdb`).
    pub gdb: Option<GdbConfig>,
    /// Native unwinder settings, when jnstack takes them itself (`--unwinder native`).
    /// Both `None`: `--no-gdb`, no native frames.
    pub native: Option<NativeConfig>,
    /// `--sample DUR`.
    pub sample: Option<Duration>,
    /// Which threads to show.
    pub filter: Filter,
    /// Tells the user something before jnstack does it (sending SIGQUIT to the target).
    pub notice: fn(&str),
    /// `--full`: findings name every thread instead of the first few and a count.
    pub full: bool,
    /// `--repeat N --interval D` (see [`crate::sampling::run`]).
    pub repeat: Option<crate::sampling::Repeat>,
}

/// The result: merged snapshot, findings, and which threads to show.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Everything collected.
    pub snapshot: Snapshot,
    /// The diagnosis.
    pub findings: Vec<Finding>,
    /// Indices into `snapshot.threads` to print.
    pub selected: Vec<usize>,
    /// `--repeat`: every sample and the per-thread verdicts (this outcome is the last sample).
    pub samples: Option<crate::sampling::Samples>,
}

/// Runs the whole pipeline.
pub fn inspect(plan: &Plan, runner: &dyn Runner, cancel: &AtomicBool) -> Result<Outcome, Error> {
    let (snapshot, pid) = match &plan.source {
        Source::File(paths) => {
            let mut dumps = Vec::new();
            for path in paths {
                dumps.push((path, read_dump(path)?));
            }
            let (text_dumps, json_dumps): (Vec<_>, Vec<_>) =
                dumps.into_iter().partition(|(_, d)| !d.from_json);
            let path = paths.first().cloned().unwrap_or_default();
            let (dump, json) = match (text_dumps.len(), json_dumps.len()) {
                (1, 1) | (1, 0) | (0, 1) => {
                    let mut text = text_dumps.into_iter().chain(json_dumps);
                    let first = text.next().map(|(_, d)| d).unwrap_or_default();
                    (first, text.next().map(|(_, d)| d))
                }
                _ => {
                    return Err(Error::BadDump {
                        reason: "--from-file twice needs one text dump (jstack, jcmd Thread.print) and one JSON dump (jcmd Thread.dump_to_file -format=json)".into(),
                    })
                }
            };
            let dump = match json {
                Some(json) => vthreads::merge_json(dump, json),
                None => dump,
            };
            let earlier = dump.earlier_dumps;
            let mut snapshot = merge::merge(None, dump, Vec::new());
            if earlier > 0 {
                snapshot.warnings.push(format!(
                    "{} holds {} thread dumps; showing the last one",
                    path.display(),
                    earlier + 1
                ));
            }
            (snapshot, None)
        }
        Source::Pid(pid) => (live(plan, *pid, runner, cancel)?, Some(*pid)),
    };
    let mut snapshot = snapshot;
    if let Some(pid) = pid {
        // A restart_syscall the wait channel did not explain: gdb's frames may.
        for t in snapshot.threads.iter_mut().filter(|t| t.wait.is_none()) {
            if let (Some(task), Some(frames)) = (&t.task, &t.native_frames) {
                t.wait = crate::syscall::decode_from_frames(pid, task, frames);
            }
            if let Some([polled]) = t.wait.as_ref().map(|w| w.fds.as_slice()) {
                t.fd = t.fd.take().or_else(|| fd::inspect(pid, polled.fd));
            }
        }
    }
    // A mistyped --lwp/--nid would otherwise show just "0 shown".
    for lwp in &plan.filter.lwps {
        if !snapshot
            .threads
            .iter()
            .any(|t| t.lwp == Some(*lwp) || t.nid() == Some(*lwp))
        {
            let place = match pid {
                Some(pid) => format!("process {pid} (see /proc/{pid}/task)"),
                None => "the dump".to_string(),
            };
            snapshot.warnings.push(format!(
                "--lwp/--nid {lwp} (nid {lwp:#x}) matches no thread of {place}"
            ));
        }
    }
    let selected = plan.filter.select(&snapshot.threads);
    let findings = diagnose::diagnose_with(&snapshot, pid, plan.full);
    Ok(Outcome {
        snapshot,
        findings,
        selected,
        samples: None,
    })
}

/// Reads and parses one saved dump; a file without threads is an error.
fn read_dump(path: &PathBuf) -> Result<dump::ThreadDump, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::ReadDump {
        path: path.clone(),
        error,
    })?;
    let dump = dump::parse(&text).map_err(|e| Error::BadDump {
        reason: format!("{}: {e}", path.display()),
    })?;
    if dump.threads.is_empty() {
        return Err(Error::BadDump {
            reason: format!(
                "no thread found in {}: expected the output of `jstack -l PID`, `jcmd PID Thread.print` or `jcmd PID Thread.dump_to_file -format=json`",
                path.display()
            ),
        });
    }
    Ok(dump)
}

/// Java dump, /proc (sampled if asked) and fd targets, merged; then gdb frames.
///
/// gdb starts right away and loads symbols while jstack runs, but attaches only after
/// the dump is taken (jstack hangs while the process is traced) and the threads to
/// backtrace are known.
fn live(
    plan: &Plan,
    pid: u32,
    runner: &dyn Runner,
    cancel: &AtomicBool,
) -> Result<Snapshot, Error> {
    let exe = proc::check_jvm(pid)?;
    // Another tracer holds the process in tracing stop: jstack would only hang and gdb
    // cannot attach, but /proc still tells a lot.
    if proc::process_state(pid) == Some('t') {
        let tracer = proc::tracer(pid).unwrap_or_else(|| "another process".into());
        let held = format!(
            "process {pid} is held in tracing stop by {tracer}, so jstack cannot attach and gdb cannot either: only the /proc view is shown (resume or end that tracer first)"
        );
        return collect(plan, pid, exe, runner, cancel, Some(held));
    }
    if let Some(config) = plan.native {
        return native_frames(plan, pid, exe, runner, cancel, config);
    }
    let Some(gdb_config) = &plan.gdb else {
        return collect(plan, pid, exe, runner, cancel, None);
    };
    if !crate::runner::is_executable(&gdb_config.program) {
        return Err(Error::GdbMissing);
    }
    // gdb's attach would fail with "Operation not permitted": say who holds the process,
    // and still give the Java and /proc views.
    if let Some(tracer) = proc::tracer_pid(pid) {
        let mut snapshot = collect(plan, pid, exe, runner, cancel, None)?;
        let comm = std::fs::read_to_string(format!("/proc/{tracer}/comm")).unwrap_or_default();
        snapshot.warnings.push(format!(
            "another process ({}, pid {tracer}) is tracing process {pid}, so gdb cannot attach: native frames are missing (only one debugger can attach at a time: detach or end it)",
            comm.trim_end()
        ));
        return Ok(snapshot);
    }
    // If jnstack and gdb are both killed mid-attach, the guard resumes the JVM.
    let guard = match crate::watchdog::Guard::spawn(pid) {
        Ok(guard) => Some(guard),
        Err(e) => {
            (plan.notice)(&format!(
                "warning: cannot start the resume guard ({e}): if jnstack and gdb are both killed during the attach, the JVM stays stopped until `kill -CONT {pid}`"
            ));
            None
        }
    };
    let (gate, gate_rx) = mpsc::channel();
    let result = std::thread::scope(|scope| {
        let gdb_run = scope.spawn(move || gdb::gated(runner, gdb_config, pid, gate_rx, cancel));
        let mut snapshot = match collect(plan, pid, exe, runner, cancel, None) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                drop(gate);
                let _ = gdb_run.join();
                return Err(e);
            }
        };
        if snapshot.interrupted {
            // Ctrl-C before the attach: print what there is, never stop the JVM now.
            drop(gate);
            let _ = gdb_run.join();
            snapshot
                .warnings
                .push("interrupted before gdb attached: native frames are missing".into());
            return Ok(snapshot);
        }
        let lwps = gdb_targets(plan, &snapshot);
        if lwps.is_empty() {
            // Nothing to backtrace: close the gate, gdb exits without attaching.
            drop(gate);
            let _ = gdb_run.join();
            return Ok(snapshot);
        }
        let joined = if snapshot.missing_dump.is_some() && !gdb_config.full_symbols {
            // Without a Java dump the JVM's own frames are the evidence (the VM Thread in
            // SafepointSynchronize::begin), and naming them needs libjvm's debug info,
            // which the gdb loaded during jstack skipped. That gdb never attached: close its
            // gate and let one with full symbols load (the JVM runs meanwhile) and attach.
            drop(gate);
            let _ = gdb_run.join();
            let full = GdbConfig {
                full_symbols: true,
                ..gdb_config.clone()
            };
            let (gate, gate_rx) = mpsc::channel();
            let _ = gate.send(gdb::go_line(&lwps));
            Ok(gdb::gated(runner, &full, pid, gate_rx, cancel))
        } else {
            let _ = gate.send(gdb::go_line(&lwps));
            gdb_run.join()
        };
        let result = match joined {
            Ok(Ok(Some(bt))) => Ok(bt),
            Ok(Ok(None)) => gdb::classic(runner, gdb_config, pid, &lwps, cancel),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                // gated() never reached its own resume(): never leave the JVM stopped.
                gdb::resume(pid);
                Err(Error::GdbFailed {
                    details: "the gdb runner thread panicked".into(),
                })
            }
        };
        match result {
            Ok(bt) => {
                for t in &mut snapshot.threads {
                    if let Some(lwp) = t.lwp.filter(|l| lwps.contains(l)) {
                        t.native_frames = Some(bt.frames.get(&lwp).cloned().unwrap_or_default());
                    }
                }
                snapshot.gdb_timing = bt.timing;
            }
            Err(Error::GdbTimeout { .. } | Error::GdbFailed { .. })
                if !crate::proc::is_alive(pid) =>
            {
                return Err(Error::Exited { pid });
            }
            Err(Error::Interrupted) => {
                snapshot.interrupted = true;
                snapshot.warnings.push(
                    "interrupted while gdb ran (it was killed and the JVM resumed): native frames are missing".into(),
                );
            }
            // A gdb that failed is no reason to throw away the Java and /proc views.
            Err(
                e @ (Error::GdbTimeout { .. }
                | Error::GdbFailed { .. }
                | Error::PtraceDenied { .. }),
            ) => {
                snapshot
                    .warnings
                    .push(format!("{e}; native frames are missing"));
            }
            Err(e) => return Err(e),
        }
        Ok(snapshot)
    });
    // Every path above has resumed the JVM (gated/classic end with resume()).
    if let Some(guard) = guard {
        guard.disarm();
    }
    result
}

/// Java dump and /proc first, then the native unwinder for the selected threads: each is
/// stopped alone for microseconds, the others never, and no resume guard is needed (a
/// killed jnstack leaves nothing stopped).
fn native_frames(
    plan: &Plan,
    pid: u32,
    exe: PathBuf,
    runner: &dyn Runner,
    cancel: &AtomicBool,
    config: NativeConfig,
) -> Result<Snapshot, Error> {
    let mut snapshot = collect(plan, pid, exe, runner, cancel, None)?;
    if let Some(tracer) = proc::tracer_pid(pid) {
        let comm = std::fs::read_to_string(format!("/proc/{tracer}/comm")).unwrap_or_default();
        snapshot.warnings.push(format!(
            "another process ({}, pid {tracer}) is tracing process {pid}, so jnstack cannot read its threads' registers: native frames are missing (only one debugger can attach at a time: detach or end it)",
            comm.trim_end()
        ));
        return Ok(snapshot);
    }
    if snapshot.interrupted {
        snapshot
            .warnings
            .push("interrupted before the native unwinding: native frames are missing".into());
        return Ok(snapshot);
    }
    let lwps = gdb_targets(plan, &snapshot);
    if lwps.is_empty() {
        return Ok(snapshot);
    }
    match native::backtraces(pid, &lwps, config, cancel) {
        Ok((bt, report)) => {
            for t in &mut snapshot.threads {
                if let Some(lwp) = t.lwp.filter(|l| lwps.contains(l)) {
                    t.native_frames = bt.frames.get(&lwp).cloned();
                }
            }
            snapshot.warnings.extend(
                report
                    .failed
                    .iter()
                    .map(|f| format!("{f}; its native frames are missing")),
            );
            snapshot.unwinder = Some(report);
        }
        Err(Error::Interrupted) => {
            snapshot.interrupted = true;
            snapshot.warnings.push(
                "interrupted during the native unwinding (every thread already runs again): native frames are missing".into(),
            );
        }
        Err(e @ (Error::PtraceDenied { .. } | Error::NativeFailed { .. })) => {
            snapshot
                .warnings
                .push(format!("{e}; native frames are missing"));
        }
        Err(e) => return Err(e),
    }
    Ok(snapshot)
}

/// The threads gdb should backtrace: the selected ones plus those the diagnosis needs.
fn gdb_targets(plan: &Plan, snapshot: &Snapshot) -> BTreeSet<u32> {
    let mut lwps: BTreeSet<u32> = plan
        .filter
        .select(&snapshot.threads)
        .iter()
        .filter_map(|&i| snapshot.threads[i].lwp)
        .collect();
    lwps.extend(diagnose::interesting_lwps(snapshot));
    lwps
}

/// When jstack/jcmd cannot attach and the JVM's stdout is a regular file, sends SIGQUIT
/// (after saying so) and reads the new dump from the file's end. `None` if that is not
/// possible or no complete dump appeared within the dump timeout.
fn sigquit_dump(
    plan: &Plan,
    pid: u32,
    cancel: &AtomicBool,
    warnings: &mut Vec<String>,
) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let (path, size) = proc::stdout_file(pid)?;
    let shown = std::fs::read_link(&path).unwrap_or_else(|_| path.clone());
    if !proc::catches_sigquit(pid) {
        // -Xrs: SIGQUIT would terminate the JVM instead of printing a dump.
        warnings.push(format!(
            "process {pid} does not handle SIGQUIT (-Xrs), so jnstack did not send one"
        ));
        return None;
    }
    (plan.notice)(&format!(
        "jstack cannot attach; process {pid} writes its stdout to the regular file {}: sending it SIGQUIT (kill -3) and reading the thread dump from the file's end",
        shown.display()
    ));
    let raw = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(raw, libc::SIGQUIT) } != 0 {
        return None;
    }
    let deadline = std::time::Instant::now() + plan.dump_timeout;
    let mut file = std::fs::File::open(&path).ok()?;
    let mut tail = String::new();
    while std::time::Instant::now() < deadline && !cancel.load(std::sync::atomic::Ordering::SeqCst)
    {
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(size)).is_ok() && file.read_to_end(&mut bytes).is_ok() {
            tail = String::from_utf8_lossy(&bytes).into_owned();
            // The dump's last line (JDK 11+ "JNI global refs: …", JDK 8 "JNI global
            // references: …") is written after every thread.
            if tail.contains("JNI global ref") {
                warnings.push(format!(
                    "the Java dump was read from {} after a SIGQUIT (the attach mechanism is not available)",
                    shown.display()
                ));
                return Some(tail);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    warnings.push(format!(
        "no complete thread dump appeared in {} within {:?} of the SIGQUIT ({} bytes written)",
        shown.display(),
        plan.dump_timeout,
        tail.len()
    ));
    None
}

/// Java dump first, then /proc, merged, with fd targets resolved.
fn collect(
    plan: &Plan,
    pid: u32,
    exe: PathBuf,
    runner: &dyn Runner,
    cancel: &AtomicBool,
    held: Option<String>,
) -> Result<Snapshot, Error> {
    let search = JdkSearch {
        target_exe: Some(exe),
        ..plan.jdk.clone()
    };
    let before = proc::task_ids(pid);
    let started = std::time::Instant::now();
    let mut warnings = Vec::new();
    let mut missing = None;
    let mut interrupted = false;
    let dump = match held {
        Some(reason) => Err(reason),
        None => Ok(jdk::thread_dump(
            runner,
            &search,
            pid,
            plan.dump_timeout,
            cancel,
        )),
    };
    let text = match dump {
        Err(reason) => {
            missing = Some(MissingDump {
                reason,
                timed_out: false,
            });
            None
        }
        Ok(Ok(text)) => Some(text),
        Ok(Err(Error::Interrupted)) => {
            interrupted = true;
            missing = Some(MissingDump {
                reason: "interrupted before jstack answered".into(),
                timed_out: false,
            });
            None
        }
        Ok(Err(e @ (Error::JstackFailed { .. } | Error::JdkToolsMissing))) => {
            let timed_out = matches!(
                e,
                Error::JstackFailed {
                    timed_out: true,
                    ..
                }
            );
            // A JVM that cannot reach a safepoint cannot print a SIGQUIT dump either.
            let from_log = if timed_out {
                None
            } else {
                sigquit_dump(plan, pid, cancel, &mut warnings)
            };
            if from_log.is_none() {
                missing = Some(MissingDump {
                    reason: e.to_string(),
                    timed_out,
                });
            }
            from_log
        }
        Ok(Err(e)) => return Err(e),
    };
    let dump_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut dump = text.as_deref().map(dump::parse_text).unwrap_or_default();
    if text.is_some() && vthreads::has_virtual_threads(&dump) {
        match jdk::json_dump(runner, &search, pid, plan.dump_timeout, cancel)
            .and_then(|json| dump::parse(&json))
        {
            Ok(json) => dump = vthreads::merge_json(dump, json),
            Err(Error::Interrupted) => interrupted = true,
            Err(e) => warnings.push(format!(
                "no JSON thread dump, so unmounted virtual threads are missing: {e}"
            )),
        }
    }
    let tasks = match plan.sample {
        Some(interval) if !interrupted => match proc::sample(pid, interval, cancel) {
            Err(Error::Interrupted) => {
                interrupted = true;
                warnings.push("interrupted during --sample: CPU percentages are missing".into());
                proc::read_tasks(pid)?
            }
            other => other?,
        },
        _ => proc::read_tasks(pid)?,
    };
    let mut snapshot = merge::merge(Some(pid), dump, tasks);
    crate::vm_state::fill(pid, &mut snapshot.threads);
    snapshot.dump_ms = text.is_some().then_some(dump_ms);
    snapshot.warnings.extend(warnings);
    snapshot.interrupted = interrupted;
    if missing.is_some() {
        // The suspects of a missing dump: how long they have been stuck is the evidence.
        for task in snapshot.threads.iter_mut().filter_map(|t| t.task.as_mut()) {
            if diagnose::is_stuck_in_kernel(task) {
                task.not_run_ms = proc::not_run_for_ms(pid, task.lwp);
            }
        }
    }
    snapshot.missing_dump = missing;
    if !before.is_empty() {
        for t in &mut snapshot.threads {
            t.started_after_dump = t.java.is_none() && t.lwp.is_some_and(|l| !before.contains(&l));
        }
    }
    for t in &mut snapshot.threads {
        let fd = t
            .task
            .as_ref()
            .and_then(|k| k.syscall.as_ref())
            .and_then(|c| c.fd());
        t.fd = fd.and_then(|fd| fd::inspect(pid, fd));
        t.wait = t.task.as_ref().and_then(|k| crate::syscall::decode(pid, k));
        // A poll on one descriptor (Java's socket read with a timeout) is about that one.
        if let Some([polled]) = t.wait.as_ref().map(|w| w.fds.as_slice()) {
            t.fd = t.fd.take().or_else(|| fd::inspect(pid, polled.fd));
        }
    }
    crate::child::collect(pid, &mut snapshot);
    Ok(snapshot)
}
