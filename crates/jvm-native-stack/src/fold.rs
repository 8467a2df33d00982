//! Folding native frames for the default view: the C library's wait machinery every parked
//! thread carries (futex → pthread_cond_wait, sem_wait …) becomes one line, and so do the
//! JVM's own wait primitives and thread start-up; the JVM frames that say *what* a thread
//! waits for (`VMThread::wait_for_operation`, `SafepointSynchronize::begin`,
//! `GangWorker::loop`, `CompileQueue::get`) stay visible. `--full` shows every frame.

use crate::backtrace::NativeFrame;

/// The C library's futex-based wait frames, innermost first in a backtrace: matched on the
/// function name as glibc 2.34+ (and older, without the `64` suffixes) names them. Seen on
/// this machine's glibc 2.36 under gdb: `__futex_abstimed_wait_common64`,
/// `__futex_abstimed_wait_common`, `__GI___futex_abstimed_wait_cancelable64`,
/// `__pthread_cond_wait_common`, `___pthread_cond_timedwait64` (or `___pthread_cond_wait`),
/// and for semaphores `do_futex_wait`, `__new_sem_wait_slow64`.
const LIBC_WAIT: &[&str] = &[
    "futex_abstimed_wait",
    "futex_wait",
    "lll_lock_wait",
    "lll_mutex_lock",
    "pthread_cond_wait",
    "pthread_cond_timedwait",
    "pthread_cond_clockwait",
    "pthread_mutex_lock",
    "pthread_mutex_timedlock",
    "pthread_clockjoin",
    "pthread_join",
    "pthread_timedjoin",
    "do_futex_wait",
    "sem_wait",
    "sem_timedwait",
    "sem_clockwait",
    "new_sem_wait",
];

/// The public C library call a wait run is in, for the folded line (first match wins,
/// checked on the run's outermost frames first).
const LIBC_API: &[(&str, &str)] = &[
    ("pthread_cond_timedwait", "pthread_cond_timedwait"),
    ("pthread_cond_clockwait", "pthread_cond_clockwait"),
    ("pthread_cond_wait", "pthread_cond_wait"),
    ("sem_wait", "sem_wait"),
    ("sem_timedwait", "sem_timedwait"),
    ("pthread_mutex_lock", "pthread_mutex_lock"),
    ("lll_lock_wait", "pthread_mutex_lock"),
    ("pthread_clockjoin", "pthread_join"),
    ("pthread_join", "pthread_join"),
];

/// JVM frames that are plumbing rather than evidence: the platform wait/lock primitives
/// right above the C library (their caller says what is awaited) and the generic thread
/// entry code below every thread's own loop. Prefixes of the demangled name.
const JVM_PLUMBING: &[&str] = &[
    "os::PlatformMonitor::",
    "os::PlatformEvent::",
    "os::PlatformParker::",
    "os::naked_short_sleep",
    "os::naked_short_nanosleep",
    "PlatformMonitor::",
    "PlatformEvent::",
    "Monitor::wait",
    "Monitor::lock",
    "Mutex::lock",
    "Mutex::wait",
    "PosixSemaphore::",
    "Semaphore::wait",
    "Thread::call_run",
    "thread_native_entry",
    "JavaThread::thread_main_inner",
    "JavaThread::run",
    "JavaCalls::",
    "JavaMain",
    "ThreadJavaMain",
    "call_stub",
];

/// C library frames that start every thread (outermost), folded with the JVM's entry code.
const THREAD_START: &[&str] = &["start_thread", "clone3", "clone", "__clone"];

/// One line of a folded native backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// A frame shown as is.
    Frame(&'a NativeFrame),
    /// The innermost run of wait frames: C library and JVM wait primitives.
    Wait {
        /// The C library call (`pthread_cond_timedwait`), if recognised.
        api: Option<&'static str>,
        /// The JVM primitive right above it (`os::PlatformEvent::park`), if any.
        jvm: Option<&'a str>,
        /// How many frames the line stands for.
        frames: usize,
    },
    /// Frames of the JVM's plumbing (unnamed generated code included) and thread start.
    Plumbing {
        /// JVM-internal frames.
        jvm: usize,
        /// Thread start frames (`start_thread`, `clone3`).
        start: usize,
    },
}

fn plain(function: &str) -> &str {
    let name = function.split('(').next().unwrap_or(function);
    name.trim_start_matches('_')
}

fn is_libc_wait(f: &NativeFrame) -> bool {
    !f.jvm_internal && {
        let name = plain(&f.function);
        LIBC_WAIT.iter().any(|w| name.contains(w))
    }
}

fn is_jvm_plumbing(f: &NativeFrame) -> bool {
    f.jvm_internal
        && (f.function == "??"
            || JVM_PLUMBING
                .iter()
                .any(|p| f.function.starts_with(p) || plain(&f.function).starts_with(p)))
}

fn is_thread_start(f: &NativeFrame) -> bool {
    !f.jvm_internal && THREAD_START.contains(&plain(&f.function))
}

/// Folds `frames` (innermost first) into the default view's lines.
pub fn fold(frames: &[NativeFrame]) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let libc = frames.iter().take_while(|f| is_libc_wait(f)).count();
    let mut rest = &frames[libc..];
    if libc > 0 {
        // The JVM's wait primitives right above the C library belong to the same wait.
        let prims = rest
            .iter()
            .take_while(|f| f.function != "??" && is_jvm_plumbing(f))
            .count();
        let api = frames[..libc].iter().rev().find_map(|f| {
            let name = plain(&f.function);
            LIBC_API
                .iter()
                .find(|(k, _)| name.contains(k))
                .map(|(_, api)| *api)
        });
        let jvm = rest[..prims]
            .last()
            .map(|f| f.function.split('(').next().unwrap_or(&f.function));
        lines.push(Line::Wait {
            api,
            jvm,
            frames: libc + prims,
        });
        rest = &rest[prims..];
    }
    for f in rest {
        let (jvm, start) = if is_thread_start(f) {
            (0, 1)
        } else if is_jvm_plumbing(f) {
            (1, 0)
        } else {
            lines.push(Line::Frame(f));
            continue;
        };
        match lines.last_mut() {
            Some(Line::Plumbing { jvm: j, start: s }) => {
                *j += jvm;
                *s += start;
            }
            _ => lines.push(Line::Plumbing { jvm, start }),
        }
    }
    lines
}

/// The text of a folded line (without indentation or the `native` prefix of frames).
pub fn describe(line: &Line<'_>) -> String {
    match line {
        Line::Frame(f) => {
            let mut s = format!("#{} {}", f.index, f.function);
            if let Some(src) = &f.source {
                s.push_str(&format!(" at {src}"));
            } else if let Some(lib) = &f.library {
                s.push_str(&format!(" from {lib}"));
            }
            s
        }
        Line::Wait { api, jvm, frames } => {
            let what = match (api, jvm) {
                (Some(api), Some(jvm)) => format!("waiting in {jvm} → {api}"),
                (Some(api), None) => format!("waiting in {api}"),
                (None, Some(jvm)) => format!("waiting in {jvm} → futex"),
                (None, None) => "waiting on a futex".to_string(),
            };
            format!("… {what} ({frames} wait frames, --full shows them)")
        }
        Line::Plumbing { jvm, start } => {
            let mut parts = Vec::new();
            if *jvm > 0 {
                parts.push(format!(
                    "{jvm} JVM-internal frame{}",
                    if *jvm == 1 { "" } else { "s" }
                ));
            }
            if *start > 0 {
                parts.push(format!(
                    "{start} thread-start frame{}",
                    if *start == 1 { "" } else { "s" }
                ));
            }
            format!("… {} (--full shows them)", parts.join(" and "))
        }
    }
}

/// The folded view as one comparable key: shown frames by function name (no addresses)
/// and the fold summaries; two threads with the same key read the same.
pub fn key(frames: &[NativeFrame]) -> Vec<String> {
    fold(frames)
        .iter()
        .map(|l| match l {
            Line::Frame(f) => f.function.clone(),
            other => describe(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(spec: &[(&str, bool)]) -> Vec<NativeFrame> {
        spec.iter()
            .enumerate()
            .map(|(i, (f, jvm))| NativeFrame {
                index: i as u32,
                function: (*f).to_string(),
                address: Some(format!("{:#x}", 0x7f00 + i)),
                source: None,
                library: None,
                jvm_internal: *jvm,
            })
            .collect()
    }

    /// The VM Thread of a JDK 17 under gdb on this machine (--full symbols).
    fn vm_thread() -> Vec<NativeFrame> {
        frames(&[
            ("__futex_abstimed_wait_common64", false),
            ("__futex_abstimed_wait_common", false),
            ("__GI___futex_abstimed_wait_cancelable64", false),
            ("__pthread_cond_wait_common", false),
            ("___pthread_cond_timedwait64", false),
            ("os::PlatformMonitor::wait(long)", true),
            ("Monitor::wait_without_safepoint_check(long)", true),
            ("VMThread::wait_for_operation()", true),
            ("VMThread::run()", true),
            ("Thread::call_run()", true),
            ("thread_native_entry(Thread*)", true),
            ("start_thread", false),
            ("clone3", false),
        ])
    }

    #[test]
    fn futex_frames_fold_into_one_line_and_the_vm_thread_loop_stays() {
        let f = vm_thread();
        let lines = fold(&f);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(
            describe(&lines[0]),
            "… waiting in Monitor::wait_without_safepoint_check → pthread_cond_timedwait (7 wait frames, --full shows them)"
        );
        assert_eq!(lines[1], Line::Frame(&f[7]));
        assert_eq!(lines[2], Line::Frame(&f[8]));
        assert_eq!(
            describe(&lines[3]),
            "… 2 JVM-internal frames and 2 thread-start frames (--full shows them)"
        );
    }

    #[test]
    fn safepoint_and_gc_worker_frames_are_not_folded() {
        let f = frames(&[
            ("__GI___clock_nanosleep", false),
            ("__GI___nanosleep", false),
            ("os::naked_short_sleep(long)", true),
            (
                "SafepointSynchronize::synchronize_threads(long, int, int*)",
                true,
            ),
            ("SafepointSynchronize::begin()", true),
            ("VMThread::inner_execute(VM_Operation*)", true),
        ]);
        let shown: Vec<&str> = fold(&f)
            .iter()
            .filter_map(|l| match l {
                Line::Frame(f) => Some(f.function.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            shown.contains(&"SafepointSynchronize::begin()"),
            "{shown:?}"
        );
        assert!(shown.contains(&"SafepointSynchronize::synchronize_threads(long, int, int*)"));
        assert!(
            shown.contains(&"__GI___nanosleep"),
            "not a futex wait: {shown:?}"
        );
        let gc = frames(&[
            ("__futex_abstimed_wait_common64", false),
            ("__GI___futex_abstimed_wait_cancelable64", false),
            ("do_futex_wait", false),
            ("__new_sem_wait_slow64", false),
            ("PosixSemaphore::wait()", true),
            ("GangWorker::loop()", true),
            ("??", true),
        ]);
        let lines = fold(&gc);
        assert_eq!(
            describe(&lines[0]),
            "… waiting in PosixSemaphore::wait → sem_wait (5 wait frames, --full shows them)"
        );
        assert_eq!(lines[1], Line::Frame(&gc[5]));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn keys_ignore_addresses() {
        let a = vm_thread();
        let mut b = vm_thread();
        for f in &mut b {
            f.address = Some("0x1".into());
        }
        assert_eq!(key(&a), key(&b));
        b[7].function = "VMThread::loop()".into();
        assert_ne!(key(&a), key(&b));
    }

    #[test]
    fn an_application_frame_inside_a_wait_run_is_kept() {
        // A JNI function calling pthread_cond_wait: the wait folds, the JNI frame stays.
        let f = frames(&[
            ("__futex_abstimed_wait_common64", false),
            ("___pthread_cond_wait", false),
            ("Java_Hang_waitForever", false),
            ("??", true),
        ]);
        let lines = fold(&f);
        assert_eq!(
            describe(&lines[0]),
            "… waiting in pthread_cond_wait (2 wait frames, --full shows them)"
        );
        assert_eq!(lines[1], Line::Frame(&f[2]));
        assert_eq!(lines[2], Line::Plumbing { jvm: 1, start: 0 });
    }
}
