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
use crate::merge::{self, Filter, Snapshot};
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
    /// gdb settings; `None` for `--no-gdb`.
    pub gdb: Option<GdbConfig>,
    /// `--sample DUR`.
    pub sample: Option<Duration>,
    /// Which threads to show.
    pub filter: Filter,
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
    // A mistyped --tid/--nid would otherwise show just "0 shown".
    for lwp in &plan.filter.lwps {
        if !snapshot.threads.iter().any(|t| t.lwp == Some(*lwp)) {
            let place = match pid {
                Some(pid) => format!("process {pid} (see /proc/{pid}/task)"),
                None => "the dump".to_string(),
            };
            snapshot.warnings.push(format!(
                "--tid/--nid {lwp} (nid {lwp:#x}) matches no thread of {place}"
            ));
        }
    }
    let selected = plan.filter.select(&snapshot.threads);
    let findings = diagnose::diagnose(&snapshot, pid);
    Ok(Outcome {
        snapshot,
        findings,
        selected,
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
    let Some(gdb_config) = &plan.gdb else {
        return collect(plan, pid, exe, runner, cancel);
    };
    if !crate::runner::is_executable(&gdb_config.program) {
        return Err(Error::GdbMissing);
    }
    // gdb's attach would fail with "Operation not permitted": say who holds the process.
    if let Some(tracer) = proc::tracer(pid) {
        return Err(Error::Traced {
            pid,
            tracer,
            held: false,
        });
    }
    let (gate, gate_rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let gdb_run = scope.spawn(move || gdb::gated(runner, gdb_config, pid, gate_rx, cancel));
        let mut snapshot = match collect(plan, pid, exe, runner, cancel) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                drop(gate);
                let _ = gdb_run.join();
                return Err(e);
            }
        };
        let lwps = gdb_targets(plan, &snapshot);
        if lwps.is_empty() {
            // Nothing to backtrace: close the gate, gdb exits without attaching.
            drop(gate);
            let _ = gdb_run.join();
            return Ok(snapshot);
        }
        let _ = gate.send(gdb::go_line(&lwps));
        let result = match gdb_run.join() {
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
            Err(e @ (Error::GdbTimeout { .. } | Error::GdbFailed { .. })) => {
                snapshot
                    .warnings
                    .push(format!("{e}; native frames are missing"));
            }
            Err(e) => return Err(e),
        }
        Ok(snapshot)
    })
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

/// Java dump first, then /proc, merged, with fd targets resolved.
fn collect(
    plan: &Plan,
    pid: u32,
    exe: PathBuf,
    runner: &dyn Runner,
    cancel: &AtomicBool,
) -> Result<Snapshot, Error> {
    let search = JdkSearch {
        target_exe: Some(exe),
        ..plan.jdk.clone()
    };
    let before = proc::task_ids(pid);
    let started = std::time::Instant::now();
    let text = jdk::thread_dump(runner, &search, pid, plan.dump_timeout, cancel)?;
    let dump_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut dump = dump::parse_text(&text);
    let mut warnings = Vec::new();
    if vthreads::has_virtual_threads(&dump) {
        match jdk::json_dump(runner, &search, pid, plan.dump_timeout, cancel)
            .and_then(|json| dump::parse(&json))
        {
            Ok(json) => dump = vthreads::merge_json(dump, json),
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => warnings.push(format!(
                "no JSON thread dump, so unmounted virtual threads are missing: {e}"
            )),
        }
    }
    let tasks = match plan.sample {
        Some(interval) => proc::sample(pid, interval, cancel)?,
        None => proc::read_tasks(pid)?,
    };
    let mut snapshot = merge::merge(Some(pid), dump, tasks);
    snapshot.dump_ms = Some(dump_ms);
    snapshot.warnings.extend(warnings);
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
    }
    Ok(snapshot)
}
