//! The native unwinder (`--unwinder native`): each selected thread is stopped on its
//! own for the microseconds it takes to copy its registers and the top of its stack
//! ([`crate::ptrace`]), then unwound offline ([`crate::unwind`]). The JVM as a whole is
//! never stopped, threads that are not asked for are never touched, and a jnstack
//! killed at any moment leaves no thread stopped (`PTRACE_SEIZE` queues no SIGSTOP).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::backtrace::Backtraces;
use crate::ptrace::{self, CaptureError};
use crate::unwind::{self, Unwinder};
use crate::Error;

/// Native unwinder settings.
#[derive(Debug, Clone, Copy)]
pub struct NativeConfig {
    /// Bytes of each thread's stack copied during its stop (from the stack pointer up).
    pub stack_bytes: usize,
    /// How long to wait for one thread to reach its stop (a loaded machine may take a
    /// while to give it a CPU).
    pub stop_wait: Duration,
    /// The same for a thread in uninterruptible sleep (D), which stops only once it wakes.
    pub stop_wait_d: Duration,
}

impl Default for NativeConfig {
    fn default() -> NativeConfig {
        NativeConfig {
            // The native part of a stack sits at its top and the walk stops two frames
            // into Java code: 64 KiB is ample, and a copy of it takes a few microseconds.
            stack_bytes: 64 * 1024,
            stop_wait: Duration::from_secs(1),
            stop_wait_d: Duration::from_millis(20),
        }
    }
}

/// What the native unwinder did, for `--json` (`unwinder`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NativeReport {
    /// Always `native`.
    pub unwinder: &'static str,
    /// Threads stopped (each alone, one after another), by LWP.
    pub stopped_lwps: Vec<u32>,
    /// The longest single-thread stop, in microseconds.
    pub max_stop_us: f64,
    /// The median single-thread stop, in microseconds.
    pub median_stop_us: f64,
    /// From the first thread's stop to the last one's resume, in milliseconds (the JVM
    /// runs throughout: at any moment at most one thread is stopped).
    pub capture_ms: f64,
    /// Unwinding and symbolizing the copies (every thread runs meanwhile), in milliseconds.
    pub unwind_ms: f64,
    /// Threads whose frames are missing, and why.
    pub failed: Vec<String>,
}

/// Name of the OS thread that stops and copies the threads (the ptrace tracer).
pub const CAPTURE_THREAD: &str = "jnstack-ptrace";

/// Stops, copies and resumes each thread in `lwps`, one at a time, then unwinds the copies.
pub fn backtraces(
    pid: u32,
    lwps: &BTreeSet<u32>,
    config: NativeConfig,
    cancel: &AtomicBool,
) -> Result<(Backtraces, NativeReport), Error> {
    let maps_text = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|error| {
        if crate::proc::is_alive(pid) {
            Error::ProcUnreadable {
                pid,
                what: "maps",
                error,
                owner: None,
            }
        } else {
            Error::Exited { pid }
        }
    })?;
    let mut unwinder = Unwinder::new(pid, unwind::parse_maps(&maps_text));
    let mut report = NativeReport {
        unwinder: "native",
        ..NativeReport::default()
    };
    let mut out = Backtraces::default();
    let mut stops = Vec::new();
    let mut denied = None;
    let started = Instant::now();
    let mut unwind_time = Duration::ZERO;
    // Bounded: at most this many stack copies wait for the unwinder at once.
    let (tx, rx) = mpsc::sync_channel(64);
    let maps = unwinder.maps().to_vec();
    let capture_ms = std::thread::scope(|scope| {
        // The tracer is this OS thread: when it ends, the kernel detaches whatever it
        // still holds (a thread that never reached its stop).
        let capturer = std::thread::Builder::new()
            .name(CAPTURE_THREAD.into())
            .spawn_scoped(scope, move || {
                // A stopped thread waits for this one: on a busy machine it must not wait for
                // a CPU behind other work (raising priority needs CAP_SYS_NICE; else skipped).
                // SAFETY: gettid and setpriority have no memory-safety preconditions.
                unsafe {
                    let tid = libc::gettid();
                    libc::setpriority(
                        libc::PRIO_PROCESS,
                        tid as libc::id_t,
                        crate::gdb::STOPPED_NICE,
                    );
                }
                let begin = Instant::now();
                let end_of = |sp: u64| unwind::mapping_at(&maps, sp).map(|m| m.end);
                for &lwp in lwps {
                    if cancel.load(Ordering::SeqCst) {
                        break;
                    }
                    // A thread in uninterruptible sleep (D) reaches no stop until it wakes:
                    // do not wait long for it (/proc/TID/stat is the thread's own).
                    let wait = if crate::proc::process_state(lwp) == Some('D') {
                        config.stop_wait_d
                    } else {
                        config.stop_wait
                    };
                    let result = ptrace::capture(pid, lwp, config.stack_bytes, &end_of, wait);
                    let fatal = matches!(result, Err(CaptureError::Denied { .. }));
                    if tx.send(result).is_err() || fatal {
                        break;
                    }
                }
                begin.elapsed()
            });
        let Ok(capturer) = capturer else {
            return None;
        };
        for result in rx {
            match result {
                Ok(capture) => {
                    stops.push(capture.stopped);
                    report.stopped_lwps.push(capture.lwp);
                    let t = Instant::now();
                    let frames = unwinder.unwind(&capture);
                    unwind_time += t.elapsed();
                    out.frames.insert(capture.lwp, frames);
                }
                Err(e @ CaptureError::Denied { .. }) => denied = Some(e),
                Err(CaptureError::Gone { .. }) => {}
                Err(e @ (CaptureError::NoStop { .. } | CaptureError::Registers { .. })) => {
                    report.failed.push(e.to_string());
                }
            }
        }
        Some(capturer.join().unwrap_or(started.elapsed()))
    });
    let Some(capture_ms) = capture_ms else {
        return Err(Error::NativeFailed {
            details: "cannot start its capture thread".into(),
        });
    };
    if cancel.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    if let Some(e) = denied {
        if !crate::proc::is_alive(pid) {
            return Err(Error::Exited { pid });
        }
        if out.frames.is_empty() {
            return Err(Error::PtraceDenied {
                pid,
                scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                    .ok()
                    .map(|s| s.trim().to_string()),
            });
        }
        report.failed.push(e.to_string());
    }
    stops.sort();
    let us = |d: &Duration| d.as_secs_f64() * 1e6;
    report.max_stop_us = stops.last().map(us).unwrap_or(0.0);
    report.median_stop_us = stops.get(stops.len() / 2).map(us).unwrap_or(0.0);
    report.capture_ms = capture_ms.as_secs_f64() * 1000.0;
    report.unwind_ms = unwind_time.as_secs_f64() * 1000.0;
    Ok((out, report))
}
