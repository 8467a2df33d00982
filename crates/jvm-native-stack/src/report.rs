//! Rendering: the text report (diagnosis first, then each thread) and the `--json` document.

use std::fmt::Write as _;

use serde::Serialize;

use crate::backtrace::{GdbTiming, NativeFrame};
use crate::diagnose::Finding;
use crate::dump::Deadlock;
use crate::inspect::Outcome;
use crate::merge::Thread;

/// Version of the `--json` schema; bumped only on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Text rendering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Show JVM-internal native frames instead of folding them.
    pub full: bool,
    /// Emit ANSI colors.
    pub color: bool,
}

/// The `--json` document (schema documented in the README).
#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    pid: Option<u32>,
    jvm: Option<&'a str>,
    findings: &'a [Finding],
    threads: Vec<JsonThread<'a>>,
    deadlocks: &'a [Deadlock],
    dump_ms: Option<f64>,
    gdb_timing: Option<GdbTiming>,
    warnings: &'a [String],
    /// Why there is no Java dump (threads then carry only /proc and gdb data).
    missing_dump: Option<&'a crate::merge::MissingDump>,
    /// Ctrl-C/SIGTERM cut the run short: what was collected until then.
    interrupted: bool,
}

#[derive(Serialize)]
struct JsonThread<'a> {
    /// The JVM's id of the thread (the LWP, or its id in the JVM's PID namespace) in the
    /// hex notation of older dumps.
    nid: Option<String>,
    #[serde(flatten)]
    thread: &'a Thread,
}

/// Renders the `--json` document.
pub fn json(outcome: &Outcome) -> String {
    let s = &outcome.snapshot;
    let report = JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        pid: s.pid,
        jvm: s.jvm.as_deref(),
        findings: &outcome.findings,
        threads: outcome
            .selected
            .iter()
            .map(|&i| {
                let thread = &s.threads[i];
                JsonThread {
                    nid: thread.nid().map(|n| format!("{n:#x}")),
                    thread,
                }
            })
            .collect(),
        deadlocks: &s.deadlocks,
        dump_ms: s.dump_ms,
        gdb_timing: s.gdb_timing,
        warnings: &s.warnings,
        missing_dump: s.missing_dump.as_ref(),
        interrupted: s.interrupted,
    };
    // Serializing plain data structs cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Replaces control characters (terminal escapes in thread names, …) with `\u{…}` escapes.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Renders the text report.
pub fn text(outcome: &Outcome, opts: TextOptions) -> String {
    let style = Style { color: opts.color };
    let s = &outcome.snapshot;
    let mut out = String::new();
    let target = match s.pid {
        Some(pid) => format!("pid {pid}"),
        None => "saved dump".to_string(),
    };
    let jvm = s
        .jvm
        .as_deref()
        .map(|j| format!(", {j}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}",
        sanitize(&format!(
            "jnstack: {target}{jvm}: {} threads, {} shown",
            s.threads.len(),
            outcome.selected.len()
        ))
    );
    for w in &s.warnings {
        let _ = writeln!(out, "{} {}", style.paint("33", "warning:"), sanitize(w));
    }
    let _ = writeln!(out, "\n{}", style.paint("1", "DIAGNOSIS"));
    if outcome.findings.is_empty() {
        let _ = writeln!(
            out,
            "  No blocked threads, deadlocks or busy threads found."
        );
    }
    for f in &outcome.findings {
        let bullet = if f.problem {
            style.paint("1;31", "!")
        } else {
            style.paint("36", "*")
        };
        let _ = writeln!(out, "  {bullet} {}", sanitize(&f.text));
    }
    let _ = writeln!(out, "\n{}", style.paint("1", "THREADS"));
    for &i in &outcome.selected {
        write_thread(
            &mut out,
            &s.threads[i],
            opts,
            &style,
            s.missing_dump.is_some(),
        );
    }
    out
}

/// One thread; `no_dump`: there is no Java dump, so no thread is "native-only" for sure.
fn write_thread(out: &mut String, t: &Thread, opts: TextOptions, style: &Style, no_dump: bool) {
    let mut header = format!("\"{}\"", t.name);
    if let Some(n) = t.java.as_ref().and_then(|j| j.number) {
        let _ = write!(header, " #{n}");
    }
    match t.lwp {
        Some(lwp) => {
            let nid = t.nid().unwrap_or(lwp);
            let _ = write!(header, " nid={nid:#x} tid={lwp}");
        }
        None if t.java.as_ref().is_some_and(|j| j.is_virtual) => header.push_str(" virtual"),
        None => {}
    }
    if let Some(state) = t.java_state() {
        let _ = write!(header, " {state}");
    } else if let Some(n) = t.java.as_ref().and_then(|j| j.carrying) {
        let _ = write!(header, " carrying virtual thread #{n}");
    } else if t.started_after_dump {
        header.push_str(" started after the dump");
    } else if t.java.is_none() && no_dump {
        header.push_str(" (name from /proc, no Java dump)");
    } else if t.java.is_none() {
        header.push_str(" native-only");
    }
    if let Some(task) = &t.task {
        let _ = write!(header, " [{}", task.state);
        if let Some(call) = task.syscall.as_ref().filter(|_| task.state != 'R') {
            let _ = write!(header, " {}", call.display());
        }
        header.push(']');
        let _ = write!(header, " cpu={:.2}s", task.cpu_ms as f64 / 1000.0);
        if let Some(p) = task.cpu_percent {
            let _ = write!(header, " ({p:.0}%)");
        }
    } else if let Some(ms) = t.java.as_ref().and_then(|j| j.cpu_ms) {
        let _ = write!(header, " cpu={:.2}s", ms / 1000.0);
    }
    let _ = writeln!(out, "\n{}", style.paint("1", &sanitize(&header)));
    if let Some(fd) = &t.fd {
        let mut line = format!("    fd {} -> {}", fd.fd, fd.target);
        if let Some(p) = fd.pipe {
            let _ = write!(line, " ({} of {} bytes queued)", p.queued, p.capacity);
        }
        let _ = writeln!(out, "{}", sanitize(&line));
    }
    if let Some(java) = &t.java {
        for frame in &java.frames {
            let _ = writeln!(out, "    at {}", sanitize(&frame.text));
            for lock in &frame.locks {
                let _ = writeln!(
                    out,
                    "    - {} {}",
                    lock.action.verb(),
                    sanitize(&lock.lock.to_string())
                );
            }
        }
        for sync in &java.ownable_synchronizers {
            let _ = writeln!(out, "    - owns <{}>", sanitize(&sync.address));
        }
    }
    if let Some(frames) = &t.native_frames {
        write_native(out, frames, opts.full);
    }
}

fn write_native(out: &mut String, frames: &[NativeFrame], full: bool) {
    let mut folded = 0usize;
    let flush = |out: &mut String, folded: &mut usize| {
        if *folded > 0 {
            let _ = writeln!(
                out,
                "    native: … {folded} JVM-internal frames (--full shows them)"
            );
            *folded = 0;
        }
    };
    for f in frames {
        if f.jvm_internal && !full {
            folded += 1;
            continue;
        }
        flush(out, &mut folded);
        let mut line = format!("    native #{} {}", f.index, f.function);
        if let Some(src) = &f.source {
            let _ = write!(line, " at {src}");
        } else if let Some(lib) = &f.library {
            let _ = write!(line, " from {lib}");
        }
        let _ = writeln!(out, "{}", sanitize(&line));
    }
    flush(out, &mut folded);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_terminal_control() {
        assert_eq!(sanitize("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        assert_eq!(sanitize("plain\tname"), "plain\tname");
    }
}
