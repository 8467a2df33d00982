//! Parser for Java thread dumps as printed by `jstack -l` and `jcmd Thread.print -l`
//! (JDK 8 to 25), plus the JSON format of `jcmd Thread.dump_to_file -format=json`.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// A whole thread dump: every thread plus any Java-level deadlocks the JVM reported.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThreadDump {
    /// The JVM name and version from the "Full thread dump …:" line, when present.
    pub banner: Option<String>,
    /// Threads in dump order.
    pub threads: Vec<JavaThread>,
    /// Each "Found one Java-level deadlock" section.
    pub deadlocks: Vec<Deadlock>,
    /// Complete dumps that came before this one in the same text (a JVM's stdout after
    /// several `kill -3`): only the last dump is kept.
    #[serde(skip)]
    pub earlier_dumps: usize,
    /// True if this came from a JSON dump (`Thread.dump_to_file -format=json`).
    #[serde(skip)]
    pub from_json: bool,
    /// True if a JSON dump of the same moment was merged in (virtual threads are complete).
    #[serde(skip)]
    pub json_merged: bool,
}

/// One thread of a Java thread dump.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JavaThread {
    /// Thread name, exactly as printed (may contain any character).
    pub name: String,
    /// Java thread id (`#12`); absent for VM-internal threads.
    pub number: Option<u64>,
    /// Native thread id from `#21 [9959]` headers (JDK 19+).
    pub os_thread_id: Option<u32>,
    /// Whether the thread is a daemon thread.
    pub daemon: bool,
    /// Java priority (`prio=`).
    pub prio: Option<i32>,
    /// OS priority (`os_prio=`).
    pub os_prio: Option<i32>,
    /// CPU time the JVM reports (`cpu=`), in milliseconds.
    pub cpu_ms: Option<f64>,
    /// Thread age (`elapsed=`), in seconds.
    pub elapsed_s: Option<f64>,
    /// Address of the JVM's thread structure (`tid=0x…`).
    pub tid: Option<String>,
    /// Native thread id (LWP), from `nid=` in hex or decimal.
    pub nid: Option<u32>,
    /// What the header says the thread does ("waiting for monitor entry").
    pub header_state: String,
    /// `java.lang.Thread.State` (`BLOCKED`, `RUNNABLE`, …).
    pub state: Option<String>,
    /// The parenthesised part of the state line ("on object monitor").
    pub state_detail: Option<String>,
    /// Java frames, innermost first.
    pub frames: Vec<JavaFrame>,
    /// "Locked ownable synchronizers" (e.g. a held `ReentrantLock`).
    pub ownable_synchronizers: Vec<LockRef>,
    /// True for virtual threads (JSON dumps, and "Mounted virtual thread" sections).
    pub is_virtual: bool,
    /// For a carrier thread: the `#id` of the virtual thread it carries.
    pub carrying: Option<u64>,
    /// For a mounted virtual thread: the `#id` of its carrier thread.
    pub carrier: Option<u64>,
    /// The thread container of a JSON dump (`ForkJoinPool-1/…`): a scheduler's carriers
    /// share one.
    #[serde(skip)]
    pub container: Option<String>,
}

/// One Java frame with the lock lines printed under it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JavaFrame {
    /// The frame text after `at ` (`Hang.run(Hang.java:33)`).
    pub text: String,
    /// Lock lines that belong to this frame.
    pub locks: Vec<LockEvent>,
}

/// An object a lock line refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockRef {
    /// Object address (`0x000000076ce5b140`) or identity (`java.lang.Object@1b2c`).
    pub address: String,
    /// Object class (`java.lang.Object`), when printed.
    pub class: Option<String>,
}

impl std::fmt::Display for LockRef {
    /// As the dump prints it: `<0x000000076ce5b140> (a java.lang.Object)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.address)?;
        match &self.class {
            Some(class) => write!(f, " (a {class})"),
            None => Ok(()),
        }
    }
}

/// What a thread does with a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockAction {
    /// `- locked <…>`: entered the monitor (released again if the thread is in `wait()`).
    Locked,
    /// `- waiting to lock <…>`: BLOCKED entering the monitor.
    WaitingToLock,
    /// `- waiting on <…>`: in `Object.wait()`, the monitor is released.
    WaitingOn,
    /// `- waiting to re-lock in wait() <…>`: woken from `wait()`, re-entering.
    WaitingToRelock,
    /// `- parking to wait for <…>`: parked on a `java.util.concurrent` lock.
    ParkingToWaitFor,
}

impl LockAction {
    /// The words the dump prints before the lock (`waiting to lock`).
    pub fn verb(self) -> &'static str {
        match self {
            LockAction::Locked => "locked",
            LockAction::WaitingToLock => "waiting to lock",
            LockAction::WaitingOn => "waiting on",
            LockAction::WaitingToRelock => "waiting to re-lock in wait()",
            LockAction::ParkingToWaitFor => "parking to wait for",
        }
    }
}

/// A lock line under a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockEvent {
    /// The kind of lock line.
    pub action: LockAction,
    /// The object.
    #[serde(flatten)]
    pub lock: LockRef,
}

/// A deadlock cycle reported by the JVM.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Deadlock {
    /// Each thread in the cycle, what it waits for and who holds it.
    pub edges: Vec<DeadlockEdge>,
}

/// One thread of a deadlock cycle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeadlockEdge {
    /// The waiting thread.
    pub thread: String,
    /// Address of the object it waits for.
    pub waiting_for: String,
    /// Class of that object.
    pub class: Option<String>,
    /// Name of the thread holding it.
    pub held_by: String,
}

impl JavaThread {
    /// Locks this thread really owns: `- locked` monitors it has not released by
    /// `Object.wait()`, plus its ownable synchronizers.
    pub fn owned_locks(&self) -> Vec<&LockRef> {
        let released: Vec<&str> = self
            .lock_events()
            .filter(|e| {
                matches!(
                    e.action,
                    LockAction::WaitingOn | LockAction::WaitingToRelock
                )
            })
            .map(|e| e.lock.address.as_str())
            .collect();
        let mut owned: Vec<&LockRef> = self
            .lock_events()
            .filter(|e| {
                e.action == LockAction::Locked && !released.contains(&e.lock.address.as_str())
            })
            .map(|e| &e.lock)
            .collect();
        owned.extend(self.ownable_synchronizers.iter());
        owned
    }

    /// The lock this thread is blocked or parked on, if any.
    pub fn waiting_for(&self) -> Option<&LockEvent> {
        // JDK 11 prints "waiting to re-lock in wait()" for every thread still inside
        // `Object.wait()`, notified or not: only a BLOCKED one really contends for it.
        let relocking = self.state.as_deref().is_none_or(|s| s == "BLOCKED");
        self.lock_events().find(|e| match e.action {
            LockAction::WaitingToLock | LockAction::ParkingToWaitFor => true,
            LockAction::WaitingToRelock => relocking,
            LockAction::Locked | LockAction::WaitingOn => false,
        })
    }

    /// Every lock line of every frame, innermost first.
    pub fn lock_events(&self) -> impl Iterator<Item = &LockEvent> {
        self.frames.iter().flat_map(|f| f.locks.iter())
    }

    /// True if the innermost Java frame is a native method.
    pub fn in_native_method(&self) -> bool {
        self.frames.first().is_some_and(|f| {
            f.text.ends_with("(Native Method)") || f.text.contains("/Native Method)")
        })
    }
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `(?s)`: a name may span lines (a newline in a thread name is printed as is);
        // the greedy name takes the last `" ` that still leaves a valid header tail.
        // Carrier threads of virtual threads (JDK 21+) print no `nid=` and no state, so
        // both are optional; a header needs `tid=` or `nid=` (checked by the caller).
        Regex::new(concat!(
            r#"(?s)^"(?P<name>.*)" "#,
            r"(?:#(?P<num>\d+) )?",
            r"(?:\[(?P<ostid>\d+)\] )?",
            r"(?P<daemon>daemon )?",
            r"(?:prio=(?P<prio>-?\d+) )?",
            r"(?:os_prio=(?P<osprio>-?\d+) )?",
            r"(?:cpu=(?P<cpu>[\d.]+)ms )?",
            r"(?:elapsed=(?P<elapsed>[\d.]+)s )?",
            r"(?:allocated=\S+ )?(?:defined_classes=\S+ )?",
            r"(?:tid=(?P<tid>0x[0-9a-fA-F]+)(?: |$))?",
            r"(?:nid=(?P<nid>0x[0-9a-fA-F]+|\d+))?",
            r"(?P<rest>[^\n]*)$",
        ))
        .expect("static regex")
    })
}

/// Parses one thread header (possibly several lines long) into a thread, if it is one.
fn parse_header(text: &str) -> Option<JavaThread> {
    let caps = header_re().captures(text)?;
    let num = |k: &str| caps.name(k).map(|m| m.as_str());
    if num("tid").is_none() && num("nid").is_none() {
        return None;
    }
    let rest = num("rest").unwrap_or("").trim();
    // Without nid= (a carrier) only the stack address may follow tid=.
    if num("nid").is_none() && !(rest.is_empty() || rest.starts_with("[0x")) {
        return None;
    }
    Some(JavaThread {
        name: num("name").unwrap_or("").to_string(),
        number: num("num").and_then(|s| s.parse().ok()),
        os_thread_id: num("ostid").and_then(|s| s.parse().ok()),
        daemon: caps.name("daemon").is_some(),
        prio: num("prio").and_then(|s| s.parse().ok()),
        os_prio: num("osprio").and_then(|s| s.parse().ok()),
        cpu_ms: num("cpu").and_then(|s| s.parse().ok()),
        elapsed_s: num("elapsed").and_then(|s| s.parse().ok()),
        tid: num("tid").map(str::to_string),
        nid: num("nid").and_then(parse_nid),
        header_state: strip_stack_address(rest).to_string(),
        ..JavaThread::default()
    })
}

/// True for a line that belongs to a thread's body, never to its header.
fn is_body_line(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || t.starts_with("java.lang.Thread.State:")
        || t.starts_with("at ")
        || t.starts_with("- ")
        || t.starts_with("Locked ownable synchronizers")
        || t.starts_with("Carrying virtual thread #")
        || t.starts_with("Mounted virtual thread #")
}

/// Most lines one thread name may span: bounds the header search on garbage input.
const MAX_HEADER_LINES: usize = 32;

/// True for the line that ends the thread list of a dump (the deadlock report may follow).
fn is_end_marker(line: &str) -> bool {
    line.starts_with("JNI global refs:") || line.starts_with("JNI global references:")
}

/// `#22` at the end of "Carrying virtual thread #22".
fn trailing_number(s: &str) -> Option<u64> {
    s.rsplit('#').next()?.trim().parse().ok()
}

fn lock_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^<(?P<addr>[^>]*)>\s*(?:\(a (?P<class>[^)]*)\))?").expect("static regex")
    })
}

/// Parses a thread id given as `0x1611` (hex) or `5649` (decimal).
pub fn parse_nid(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses a thread dump, detecting the JSON format by its leading `{`.
pub fn parse(text: &str) -> Result<ThreadDump, crate::Error> {
    if text.trim_start().starts_with('{') {
        return crate::dump_json::parse(text);
    }
    Ok(parse_text(text))
}

/// Parses the text format of `jstack -l` / `jcmd Thread.print -l`.
///
/// Threads are found by structure (a header is a line opening with `"` and ending, maybe
/// some lines later, in `" #id … tid=0x… nid=…`), never by name: a thread name may hold
/// newlines, quotes or a whole fabricated header. The thread list ends at "JNI global
/// refs:", so log lines after the dump (exception traces) are not attached to its last
/// thread.
pub fn parse_text(text: &str) -> ThreadDump {
    let mut dump = ThreadDump::default();
    let mut current: Option<JavaThread> = None;
    let mut in_synchronizers = false;
    // Past the end marker: only a deadlock report or a new dump may follow.
    let mut ended = false;
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        i += 1;
        if line.starts_with("Full thread dump") {
            if dump.banner.is_some() || current.is_some() || !dump.threads.is_empty() {
                // A log with several dumps: mixing them would count every thread twice.
                dump.threads.extend(current.take());
                dump = ThreadDump {
                    earlier_dumps: dump.earlier_dumps + 1,
                    ..ThreadDump::default()
                };
            }
            ended = false;
            let jvm = line
                .trim_start_matches("Full thread dump")
                .trim()
                .trim_end_matches(':');
            dump.banner = Some(jvm.to_string());
            continue;
        }
        if trimmed.starts_with("Found one Java-level deadlock") {
            dump.threads.extend(current.take());
            let mut rest = lines[i..].iter().copied().peekable();
            let before = rest.len();
            dump.deadlocks.push(parse_deadlock(&mut rest));
            i += before - rest.len();
            ended = true;
            continue;
        }
        if ended {
            continue;
        }
        if is_end_marker(line) {
            dump.threads.extend(current.take());
            ended = true;
            continue;
        }
        if line.starts_with('"') {
            // A header is normally one line. Only a thread name holding newlines makes it
            // longer, and then its last line does not open with `"`: the header runs to the
            // last such line that completes it, so a fabricated header inside the name
            // stays part of the name. Only VM threads (fixed names) are printed without a
            // blank line between them, so this never swallows the next real thread.
            let start = i - 1;
            let mut first = None;
            let mut continued = None;
            let mut j = start;
            while j < lines.len() && j < start + MAX_HEADER_LINES {
                if j > start && is_body_line(lines[j]) {
                    break;
                }
                if first.is_none() || !lines[j].starts_with('"') {
                    if let Some(t) = parse_header(&lines[start..=j].join("\n")) {
                        if first.is_none() {
                            first = Some((j, t));
                        } else {
                            continued = Some((j, t));
                        }
                    }
                }
                j += 1;
            }
            let end = continued.or(first);
            dump.threads.extend(current.take());
            in_synchronizers = false;
            match end {
                Some((j, t)) => {
                    current = Some(t);
                    i = j + 1;
                }
                // Not a header we understand: drop its body rather than give it to the
                // thread before.
                None => current = None,
            }
            continue;
        }
        let Some(thread) = current.as_mut() else {
            continue;
        };
        if trimmed.is_empty() {
            continue;
        }
        if let Some(state) = trimmed.strip_prefix("java.lang.Thread.State:") {
            let state = state.trim();
            match state.split_once(" (") {
                Some((s, detail)) => {
                    thread.state = Some(s.to_string());
                    thread.state_detail = Some(detail.trim_end_matches(')').to_string());
                }
                None => thread.state = Some(state.to_string()),
            }
        } else if trimmed.starts_with("Carrying virtual thread #") {
            thread.carrying = trailing_number(trimmed);
        } else if trimmed.starts_with("Mounted virtual thread #") {
            // JDK 25 prints the mounted virtual thread's own frames under the carrier's:
            // they become a thread of their own, linked to the carrier.
            let carrier = thread.number;
            let number = trailing_number(trimmed);
            dump.threads.extend(current.take());
            current = Some(JavaThread {
                number,
                is_virtual: true,
                carrier,
                header_state: "mounted".into(),
                ..JavaThread::default()
            });
        } else if let Some(frame) = trimmed.strip_prefix("at ") {
            thread.frames.push(JavaFrame {
                text: frame.to_string(),
                locks: Vec::new(),
            });
        } else if trimmed.starts_with("Locked ownable synchronizers") {
            in_synchronizers = true;
        } else if let Some(rest) = trimmed.strip_prefix("- ") {
            if in_synchronizers {
                if let Some(lock) = parse_lock_ref(rest) {
                    thread.ownable_synchronizers.push(lock);
                }
            } else if let Some(event) = parse_lock_event(rest) {
                if let Some(frame) = thread.frames.last_mut() {
                    frame.locks.push(event);
                }
            }
        }
    }
    dump.threads.extend(current);
    dump
}

/// Drops the trailing `[0x00007f…]` stack address from a header's state text.
fn strip_stack_address(rest: &str) -> &str {
    if rest.starts_with("[0x") && rest.ends_with(']') {
        // A carrier's header (JDK 21+): no state, only the address.
        return "";
    }
    match rest.rfind(" [0x") {
        Some(i) if rest.ends_with(']') => rest[..i].trim(),
        _ => rest.trim(),
    }
}

fn parse_lock_ref(s: &str) -> Option<LockRef> {
    let caps = lock_re().captures(s.trim())?;
    let addr = caps.name("addr")?.as_str();
    if !addr.starts_with("0x") {
        // "<no object reference available>", "<owner is scalar replaced>".
        return None;
    }
    Some(LockRef {
        address: addr.to_string(),
        class: caps.name("class").map(|m| m.as_str().to_string()),
    })
}

fn parse_lock_event(s: &str) -> Option<LockEvent> {
    // Longest first: "waiting to re-lock in wait()" before "waiting to lock".
    const ACTIONS: [LockAction; 5] = [
        LockAction::WaitingToRelock,
        LockAction::WaitingToLock,
        LockAction::ParkingToWaitFor,
        LockAction::WaitingOn,
        LockAction::Locked,
    ];
    let (rest, action) = ACTIONS
        .iter()
        .find_map(|&action| s.strip_prefix(action.verb()).map(|rest| (rest, action)))?;
    Some(LockEvent {
        action,
        lock: parse_lock_ref(rest)?,
    })
}

/// Parses the body of a "Found one Java-level deadlock" section.
fn parse_deadlock<'a, I: Iterator<Item = &'a str>>(lines: &mut std::iter::Peekable<I>) -> Deadlock {
    static WAIT_RE: OnceLock<Regex> = OnceLock::new();
    let wait_re = WAIT_RE.get_or_init(|| {
        Regex::new(concat!(
            r"waiting (?:to lock monitor \S+ \(object (?P<obj>0x[0-9a-fA-F]+), a (?P<class>[^)]*)\)",
            r"|for ownable synchronizer (?P<sync>0x[0-9a-fA-F]+), \(a (?P<sclass>[^)]*)\))",
        ))
        .expect("static regex")
    });
    let mut deadlock = Deadlock::default();
    let mut edge: Option<DeadlockEdge> = None;
    while let Some(&line) = lines.peek() {
        let trimmed = line.trim();
        if trimmed.starts_with("Java stack information") || trimmed.starts_with("Found ") {
            break;
        }
        lines.next();
        if let Some(name) = line.strip_prefix('"').and_then(|l| l.strip_suffix("\":")) {
            deadlock.edges.extend(edge.take());
            edge = Some(DeadlockEdge {
                thread: name.to_string(),
                ..DeadlockEdge::default()
            });
        } else if let Some(e) = edge.as_mut() {
            if let Some(caps) = wait_re.captures(trimmed) {
                let obj = caps.name("obj").or(caps.name("sync"));
                let class = caps.name("class").or(caps.name("sclass"));
                e.waiting_for = obj.map(|m| m.as_str().to_string()).unwrap_or_default();
                e.class = class.map(|m| m.as_str().to_string());
            } else if let Some(held) = trimmed.strip_prefix("which is held by ") {
                e.held_by = held.trim_matches('"').to_string();
            }
        }
    }
    deadlock.edges.extend(edge);
    // Skip the per-thread stacks that follow; the main thread list already has them.
    while let Some(&line) = lines.peek() {
        if line.trim().starts_with("Found ") {
            if line.trim().starts_with("Found one Java-level deadlock") {
                break;
            }
            lines.next();
            break;
        }
        lines.next();
    }
    deadlock
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nid_in_hex_and_decimal() {
        assert_eq!(parse_nid("0x1611"), Some(5649));
        assert_eq!(parse_nid("5649"), Some(5649));
        assert_eq!(parse_nid("0xZZ"), None);
    }

    #[test]
    fn header_without_java_id_is_a_vm_thread() {
        let d = parse_text("\"VM Thread\" os_prio=0 cpu=1.68ms elapsed=0.91s tid=0x00007f56500b0010 nid=5957 runnable  \n");
        let t = &d.threads[0];
        assert_eq!(t.name, "VM Thread");
        assert_eq!(t.number, None);
        assert_eq!(t.nid, Some(5957));
        assert_eq!(t.header_state, "runnable");
    }

    #[test]
    fn thread_name_with_quotes_and_brackets() {
        let d = parse_text("\"a \"quoted\" [name]\" #7 daemon prio=5 os_prio=0 tid=0x1 nid=0x10 waiting on condition  [0x0000]\n");
        let t = &d.threads[0];
        assert_eq!(t.name, "a \"quoted\" [name]");
        assert!(t.daemon);
        assert_eq!(t.header_state, "waiting on condition");
    }

    #[test]
    fn a_newline_in_a_name_does_not_shift_frames() {
        let text = "\"innocent\" #5 prio=5 os_prio=0 tid=0x5 nid=0x5 waiting on condition  [0x0]\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat X.sleep(X.java:1)\n\n\"GET /a HTTP/1.1\nHost: b\" #6 prio=5 os_prio=0 tid=0x6 nid=0x6 waiting on condition  [0x0]\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat X.hold(X.java:2)\n\t- locked <0x0a> (a java.lang.Object)\n";
        let d = parse_text(text);
        assert_eq!(d.threads.len(), 2);
        assert_eq!(d.threads[0].frames.len(), 1);
        assert!(d.threads[0].owned_locks().is_empty());
        assert_eq!(d.threads[1].name, "GET /a HTTP/1.1\nHost: b");
        assert_eq!(d.threads[1].nid, Some(6));
        assert_eq!(d.threads[1].owned_locks()[0].address, "0x0a");
    }

    #[test]
    fn a_header_inside_a_name_is_not_a_thread() {
        let text = "\"x\n\"fake\" #99 prio=5 os_prio=0 tid=0x1 nid=0x1 runnable\ny\" #6 prio=5 os_prio=0 tid=0x6 nid=0x6 runnable  [0x0]\n   java.lang.Thread.State: RUNNABLE\n\tat X.run(X.java:2)\n";
        let d = parse_text(text);
        assert_eq!(d.threads.len(), 1, "{:?}", d.threads);
        assert_eq!(d.threads[0].number, Some(6));
        assert_eq!(d.threads[0].frames.len(), 1);
    }

    #[test]
    fn log_lines_after_the_dump_are_not_frames() {
        let text = "\"last\" #5 prio=5 os_prio=0 tid=0x5 nid=0x5 runnable  [0x0]\n   java.lang.Thread.State: RUNNABLE\n\tat X.run(X.java:1)\n\nJNI global refs: 4, weak refs: 0\n\njava.lang.IllegalStateException: boom\n\tat App.handle(App.java:9)\n\t- locked <0x0b> (a java.lang.Object)\n";
        let d = parse_text(text);
        assert_eq!(d.threads[0].frames.len(), 1);
    }

    #[test]
    fn object_wait_does_not_own_its_monitor() {
        let text = "\"w\" #2 prio=5 os_prio=0 tid=0x1 nid=0x2 in Object.wait()  [0x0]\n   java.lang.Thread.State: WAITING (on object monitor)\n\tat java.lang.Object.wait(Native Method)\n\t- waiting on <0x0a> (a java.lang.Object)\n\tat X.run(X.java:1)\n\t- locked <0x0a> (a java.lang.Object)\n\t- locked <0x0b> (a java.lang.Object)\n";
        let d = parse_text(text);
        let owned: Vec<&str> = d.threads[0]
            .owned_locks()
            .iter()
            .map(|l| l.address.as_str())
            .collect();
        assert_eq!(owned, vec!["0x0b"]);
    }

    #[test]
    fn relock_line_is_a_wait_only_while_blocked() {
        let text = "\"w\" #2 prio=5 os_prio=0 tid=0x1 nid=0x2 waiting for monitor entry  [0x0]\n   java.lang.Thread.State: BLOCKED (on object monitor)\n\tat java.lang.Object.wait(Native Method)\n\t- waiting on <0x0a> (a java.lang.Object)\n\tat X.run(X.java:1)\n\t- waiting to re-lock in wait() <0x0a> (a java.lang.Object)\n";
        let notified = parse_text(text);
        let w = notified.threads[0].waiting_for().unwrap();
        assert_eq!(
            (w.action, w.lock.address.as_str()),
            (LockAction::WaitingToRelock, "0x0a")
        );
        // JDK 11 prints the same line for a thread still waiting for notify().
        let waiting = parse_text(&text.replace("BLOCKED", "WAITING"));
        assert!(waiting.threads[0].waiting_for().is_none());
        assert!(waiting.threads[0].owned_locks().is_empty());
    }
}
