//! Rendering: the text report (diagnosis first, then each thread) and the `--json` document.

use std::fmt::Write as _;

use serde::Serialize;

use crate::backtrace::GdbTiming;
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
    unwinder: Option<&'a crate::native::NativeReport>,
    warnings: &'a [String],
    /// Why there is no Java dump (threads then carry only /proc and gdb data).
    missing_dump: Option<&'a crate::merge::MissingDump>,
    /// Ctrl-C/SIGTERM cut the run short: what was collected until then.
    interrupted: bool,
    /// `--repeat`: every sample and each thread's verdict.
    samples: Option<&'a crate::sampling::Samples>,
    /// The JVM's child processes (read when a thread waits in `Process.waitFor()`).
    children: &'a [crate::child::ChildProcess],
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
        unwinder: s.unwinder.as_ref(),
        warnings: &s.warnings,
        missing_dump: s.missing_dump.as_ref(),
        interrupted: s.interrupted,
        samples: outcome.samples.as_ref(),
        children: &s.children,
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
    cli_support::sanitize::for_terminal(s).into_owned()
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
    let no_dump = s.missing_dump.is_some();
    let verdict = |t: &Thread| {
        outcome
            .samples
            .as_ref()
            .and_then(|samples| t.lwp.and_then(|l| samples.verdict(l)))
            .map(|v| v.label())
            .unwrap_or_default()
    };
    if opts.full {
        for &i in &outcome.selected {
            let t = &s.threads[i];
            let lines = body(t, true);
            let _ = writeln!(
                out,
                "\n{}",
                style.paint("1", &sanitize(&header(t, no_dump, &verdict(t))))
            );
            for line in lines {
                let _ = writeln!(out, "{}", sanitize(&line));
            }
        }
        return out;
    }
    for members in crate::group::group(&s.threads, &outcome.selected, verdict) {
        if members.len() < crate::group::GROUP_MIN {
            for &i in &members {
                let t = &s.threads[i];
                let _ = writeln!(
                    out,
                    "\n{}",
                    style.paint("1", &sanitize(&header(t, no_dump, &verdict(t))))
                );
                for line in body(t, false) {
                    let _ = writeln!(out, "{}", sanitize(&line));
                }
            }
            continue;
        }
        let threads: Vec<&Thread> = members.iter().map(|&i| &s.threads[i]).collect();
        let _ = writeln!(
            out,
            "\n{}",
            style.paint(
                "1",
                &sanitize(&group_header(&threads, no_dump, &verdict(threads[0])))
            )
        );
        for line in group_body(&threads) {
            let _ = writeln!(out, "{}", sanitize(&line));
        }
    }
    out
}

/// How many thread names a group's header lists.
const GROUP_NAMES: usize = 5;
/// Longest thread name a group's header prints in full (names are unbounded).
const NAME_CHARS: usize = 48;

/// `"name"`, cut at [`NAME_CHARS`].
fn short_name(name: &str) -> String {
    if name.chars().count() > NAME_CHARS {
        let cut: String = name.chars().take(NAME_CHARS).collect();
        format!("\"{cut}…\"")
    } else {
        format!("\"{name}\"")
    }
}

/// `500 threads, same stack: "a", "b", … and 495 more; TIMED_WAITING [S futex] cpu=…`.
fn group_header(threads: &[&Thread], no_dump: bool, verdict: &str) -> String {
    let names: Vec<String> = threads
        .iter()
        .take(GROUP_NAMES)
        .map(|t| short_name(&t.name))
        .collect();
    let more = threads.len() - names.len();
    let mut h = format!(
        "{} threads, same stack: {}{}",
        threads.len(),
        names.join(", "),
        if more > 0 {
            format!(" … and {more} more")
        } else {
            String::new()
        }
    );
    let first = threads[0];
    if let Some(state) = first.java_state() {
        let _ = write!(h, "; {state}");
        if let Some(vm) = &first.vm_state {
            let _ = write!(h, " vm={vm}");
        }
    } else if first.java.as_ref().is_some_and(|j| j.is_virtual) {
        h.push_str("; virtual");
    } else if first.started_after_dump {
        h.push_str("; started after the dump");
    } else if first.java.is_none() && no_dump {
        h.push_str("; names from /proc, no Java dump");
    } else if first.java.is_none() {
        h.push_str("; native-only");
    }
    if let Some(task) = &first.task {
        // The members' system calls by name (a futex wait is `restart_syscall` after a stop).
        let mut calls: Vec<&str> = threads
            .iter()
            .filter_map(|t| t.task.as_ref())
            .filter(|k| k.state != 'R')
            .filter_map(|k| k.syscall.as_ref()?.name)
            .collect();
        calls.sort_unstable();
        calls.dedup();
        if calls.is_empty() {
            let _ = write!(h, " [{}]", task.state);
        } else {
            let _ = write!(h, " [{} {}]", task.state, calls.join("/"));
        }
    }
    let cpu: Vec<u64> = threads
        .iter()
        .filter_map(|t| t.task.as_ref().map(|k| k.cpu_ms))
        .collect();
    if let (Some(lo), Some(hi)) = (cpu.iter().min(), cpu.iter().max()) {
        if lo == hi {
            let _ = write!(h, " cpu={:.2}s each", *lo as f64 / 1000.0);
        } else {
            let _ = write!(
                h,
                " cpu={:.2}s–{:.2}s",
                *lo as f64 / 1000.0,
                *hi as f64 / 1000.0
            );
        }
    }
    if !verdict.is_empty() {
        let _ = write!(h, " {verdict}");
    }
    h
}

/// The members' common body; a line that differs between them (a lock's or fd's address)
/// is printed once with its numbers masked and marked.
fn group_body(threads: &[&Thread]) -> Vec<String> {
    let bodies: Vec<Vec<String>> = threads.iter().map(|t| body(t, false)).collect();
    let first = &bodies[0];
    (0..first.len())
        .map(|n| {
            if bodies.iter().all(|b| b.get(n) == Some(&first[n])) {
                first[n].clone()
            } else {
                format!("{} (differs per thread)", mask_numbers(&first[n]))
            }
        })
        .collect()
}

/// Replaces hex addresses and decimal numbers with `…`.
fn mask_numbers(line: &str) -> String {
    static NUMBERS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = NUMBERS.get_or_init(|| {
        regex::Regex::new(r"0x[0-9a-fA-F]+|\b[0-9]+\b").unwrap_or_else(|_| unreachable!())
    });
    re.replace_all(line, "…").into_owned()
}

/// One thread's header line; `no_dump`: there is no Java dump, so no thread is
/// "native-only" for sure.
fn header(t: &Thread, no_dump: bool, verdict: &str) -> String {
    let mut header = format!("\"{}\"", t.name);
    if let Some(n) = t.java.as_ref().and_then(|j| j.number) {
        let _ = write!(header, " #{n}");
    }
    match t.lwp {
        // Not `tid=`: in a jstack dump `tid=` is the JavaThread's address.
        Some(lwp) => {
            let nid = t.nid().unwrap_or(lwp);
            let _ = write!(header, " nid={nid:#x} lwp={lwp}");
        }
        None if t.java.as_ref().is_some_and(|j| j.is_virtual) => header.push_str(" virtual"),
        None => {}
    }
    if let Some(state) = t.java_state() {
        let _ = write!(header, " {state}");
        if let Some(vm) = &t.vm_state {
            let _ = write!(header, " vm={vm}");
        }
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
            // The decoded wait (a poll's fds, the call behind restart_syscall) if there is one.
            let shown = t
                .wait
                .as_ref()
                .map_or_else(|| call.display(), crate::syscall::Wait::display);
            let _ = write!(header, " {shown}");
        }
        header.push(']');
        let _ = write!(header, " cpu={:.2}s", task.cpu_ms as f64 / 1000.0);
        if let Some(p) = task.cpu_percent {
            let _ = write!(header, " ({p:.0}%)");
        }
    } else if let Some(ms) = t.java.as_ref().and_then(|j| j.cpu_ms) {
        let _ = write!(header, " cpu={:.2}s", ms / 1000.0);
    }
    if !verdict.is_empty() {
        let _ = write!(header, " {verdict}");
    }
    header
}

/// One thread's lines below the header: fd, Java frames with locks, native frames.
fn body(t: &Thread, full: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(fd) = &t.fd {
        let mut line = format!("    fd {} -> {}", fd.fd, fd.target);
        if let Some(p) = fd.pipe {
            let _ = write!(line, " ({} of {} bytes queued)", p.queued, p.capacity);
        }
        if let Some(socket) = &fd.socket {
            let _ = write!(line, " ({})", socket.display());
        }
        out.push(line);
    }
    if let Some(note) = t.wait.as_ref().and_then(crate::syscall::Wait::restart_note) {
        out.push(format!("    {note}"));
    }
    if let Some(java) = &t.java {
        for frame in &java.frames {
            out.push(format!("    at {}", frame.text));
            for lock in &frame.locks {
                out.push(format!("    - {} {}", lock.action.verb(), lock.lock));
            }
        }
        for sync in &java.ownable_synchronizers {
            out.push(format!("    - owns <{}>", sync.address));
        }
    }
    if let Some(frames) = &t.native_frames {
        if full {
            for f in frames {
                out.push(format!(
                    "    native {}",
                    crate::fold::describe(&crate::fold::Line::Frame(f))
                ));
            }
        } else {
            for line in crate::fold::fold(frames) {
                let text = crate::fold::describe(&line);
                out.push(match line {
                    crate::fold::Line::Frame(_) => format!("    native {text}"),
                    _ => format!("    native: {text}"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed dump of `idle` sleeping threads, `blocked` threads BLOCKED on one monitor
    /// held by "holder", and three threads each waiting on its own monitor.
    fn outcome(idle: usize, blocked: usize, full: bool) -> Outcome {
        let mut text = String::from(
            "\"holder\" #1 prio=5 os_prio=0 tid=0x1 nid=0x1 waiting on condition  [0x0]\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat java.lang.Thread.sleep(Native Method)\n\tat Many.hold(Many.java:10)\n\t- locked <0x00000000000000aa> (a java.lang.Object)\n\n",
        );
        let mut n = 2;
        for i in 0..idle {
            text += &format!("\"idle-{i}\" #{n} daemon prio=5 os_prio=0 tid=0x{n:x}0 nid=0x{n:x} waiting on condition  [0x0]\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat java.lang.Thread.sleep(Native Method)\n\tat Many.sleepForever(Many.java:54)\n\n");
            n += 1;
        }
        for i in 0..blocked {
            text += &format!("\"waiter-{i}\" #{n} daemon prio=5 os_prio=0 tid=0x{n:x}0 nid=0x{n:x} waiting for monitor entry  [0x0]\n   java.lang.Thread.State: BLOCKED (on object monitor)\n\tat Many.lockIt(Many.java:47)\n\t- waiting to lock <0x00000000000000aa> (a java.lang.Object)\n\n");
            n += 1;
        }
        for i in 0..3 {
            text += &format!("\"own-{i}\" #{n} daemon prio=5 os_prio=0 tid=0x{n:x}0 nid=0x{n:x} in Object.wait()  [0x0]\n   java.lang.Thread.State: WAITING (on object monitor)\n\tat java.lang.Object.wait(Native Method)\n\t- waiting on <0x00000000000001{i:x}0> (a Own)\n\tat Own.run(Own.java:5)\n\n");
            n += 1;
        }
        let snapshot = crate::merge::merge(None, crate::dump::parse_text(&text), Vec::new());
        let findings = crate::diagnose::diagnose_with(&snapshot, None, full);
        Outcome {
            selected: (0..snapshot.threads.len()).collect(),
            snapshot,
            findings,
            samples: None,
        }
    }

    #[test]
    fn identical_stacks_are_one_paragraph_and_names_are_capped() {
        let o = outcome(3000, 2000, false);
        let text = text(&o, TextOptions::default());
        assert!(text.lines().count() < 40, "{text}");
        assert!(text.lines().all(|l| l.chars().count() < 400), "{text}");
        assert!(
            text.contains("3000 threads, same stack: \"idle-0\", \"idle-1\", \"idle-2\", \"idle-3\", \"idle-4\" … and 2995 more; TIMED_WAITING\n    at java.lang.Thread.sleep(Native Method)\n    at Many.sleepForever(Many.java:54)\n"),
            "{text}"
        );
        assert!(
            text.contains("2000 threads, same stack: \"waiter-0\""),
            "{text}"
        );
        // One monitor for all: its line is printed as is.
        assert!(text.contains("    - waiting to lock <0x00000000000000aa> (a java.lang.Object)\n"));
        // Each waits on its own monitor: one line, the address masked and marked.
        assert!(
            text.contains("3 threads, same stack: \"own-0\", \"own-1\", \"own-2\"; WAITING\n    at java.lang.Object.wait(Native Method)\n    - waiting on <…> (a Own) (differs per thread)\n"),
            "{text}"
        );
        let chain = text
            .lines()
            .find(|l| l.contains("2000 threads are BLOCKED"))
            .unwrap();
        assert!(
            chain.contains("\"waiter-7\" … and 1992 more. It is held by \"holder\""),
            "{chain}"
        );
        // The holder is on its own: a group needs three.
        assert!(
            text.contains("\n\"holder\" #1 nid=0x1 lwp=1 TIMED_WAITING\n"),
            "{text}"
        );
    }

    #[test]
    fn full_shows_every_thread_and_name() {
        let o = outcome(30, 20, true);
        let text = text(
            &o,
            TextOptions {
                full: true,
                color: false,
            },
        );
        assert!(!text.contains("same stack"));
        for i in 0..30 {
            assert!(text.contains(&format!("\n\"idle-{i}\" #")), "idle-{i}");
        }
        let chain = text
            .lines()
            .find(|l| l.contains("20 threads are BLOCKED"))
            .unwrap();
        assert!(
            chain.contains("\"waiter-19\"") && !chain.contains(" more"),
            "{chain}"
        );
    }

    #[test]
    fn long_names_are_cut_in_group_headers() {
        let long = "x".repeat(5000);
        let mut o = outcome(4, 0, false);
        for t in &mut o.snapshot.threads {
            if t.name.starts_with("idle-") {
                t.name = format!("{long}{}", t.name);
            }
        }
        let text = text(&o, TextOptions::default());
        assert!(text.lines().all(|l| l.chars().count() < 400), "{text}");
        assert!(text.contains("4 threads, same stack:"), "{text}");
    }

    #[test]
    fn sanitize_escapes_terminal_control() {
        assert_eq!(sanitize("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        // One-line fields: a tab would misalign the report, so it is escaped too.
        assert_eq!(sanitize("plain\tname"), "plain\\u{9}name");
        assert_eq!(sanitize("worker-1"), "worker-1");
    }
}
