//! The native unwinder (issue 10 §2): its frames match gdb's for threads stuck in known
//! native calls; a filtered run stops only the selected thread (observed from outside:
//! every other thread's context-switch count stays the same); and a jnstack SIGKILLed at
//! any moment of its per-thread stops leaves no thread stopped or traced.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness::{
    fixture_25, fixture_default, jnstack, output_within, report_of, require, wait_until, Fixture,
    Jvm, KillOnDrop,
};

/// Field `key` of /proc/PID/task/LWP/status.
fn status_field(pid: u32, lwp: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{lwp}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .parse()
        .ok()
}

/// Context switches of a thread so far: a ptrace stop wakes a sleeping thread, so the
/// count of a thread nobody touched does not move.
fn switches(pid: u32, lwp: u32) -> Option<u64> {
    Some(
        status_field(pid, lwp, "voluntary_ctxt_switches:")?
            + status_field(pid, lwp, "nonvoluntary_ctxt_switches:")?,
    )
}

/// LWP → comm of every thread of `pid`.
fn comms(pid: u32) -> BTreeMap<u32, String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let lwp = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            Some((lwp, comm.trim_end().to_string()))
        })
        .collect()
}

/// Threads of `pid` in tracing or group stop, or with a tracer.
fn stopped_or_traced(pid: u32) -> Vec<(u32, char, u64)> {
    let mut out = Vec::new();
    for lwp in comms(pid).keys() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/task/{lwp}/stat")) else {
            continue;
        };
        let state = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].trim_start().chars().next())
            .unwrap_or('?');
        let tracer = status_field(pid, *lwp, "TracerPid:").unwrap_or(0);
        if matches!(state, 't' | 'T') || tracer != 0 {
            out.push((*lwp, state, tracer));
        }
    }
    out
}

/// gdb's frames per LWP, without the frames gdb reconstructs from debug info that have no
/// stack frame of their own (inlined calls, and tail calls: glibc's
/// `__futex_abstimed_wait_cancelable64` jumps to `__futex_abstimed_wait_common`): (pc,
/// function) pairs, at most 12 per thread.
fn gdb_reference(pid: u32, lwps: &[u32]) -> BTreeMap<u32, Vec<(u64, String)>> {
    let gdb = require("gdb", "apt-get install gdb");
    let want: Vec<String> = lwps.iter().map(u32::to_string).collect();
    let script = format!(
        "python\nwant = set([{}])\nfor t in gdb.selected_inferior().threads():\n    if t.ptid[1] not in want:\n        continue\n    t.switch()\n    f = gdb.newest_frame()\n    n = 0\n    while f is not None and n < 12:\n        if f.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):\n            print('@ref %d %#x %s' % (t.ptid[1], f.pc(), f.name() or '??'))\n            n += 1\n        try:\n            f = f.older()\n        except gdb.error:\n            break\nend\n",
        want.join(",")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ref.gdb");
    std::fs::write(&file, script).unwrap();
    let out = output_within(
        Command::new(gdb)
            .args(["-batch", "-nx", "-iex", "set debuginfod enabled off"])
            .args(["-ex", "set pagination off", "-p", &pid.to_string(), "-x"])
            .arg(&file),
        Duration::from_secs(300),
    );
    let mut frames: BTreeMap<u32, Vec<(u64, String)>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(rest) = line.strip_prefix("@ref ") else {
            continue;
        };
        let mut parts = rest.splitn(3, ' ');
        let (Some(lwp), Some(pc), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let lwp = lwp.parse().unwrap();
        let pc = u64::from_str_radix(pc.trim_start_matches("0x"), 16).unwrap();
        frames.entry(lwp).or_default().push((pc, name.to_string()));
    }
    assert!(
        !frames.is_empty(),
        "the reference gdb printed no frames: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    frames
}

/// A C library function's name without glibc's alias decorations: `__GI___libc_write` →
/// `write`, `___pthread_cond_wait64` → `pthread_cond_wait`, `f.constprop.0` → `f` (the
/// aliases of one address that gdb's debug info and the ELF symbol table name differently).
fn normalized(name: &str) -> String {
    let mut n = name;
    loop {
        n = n.trim_start_matches('_');
        match n.strip_prefix("GI_").or_else(|| n.strip_prefix("libc_")) {
            Some(rest) => n = rest,
            None => break,
        }
    }
    if !n.contains('(') {
        n = n.split('.').next().unwrap_or(n);
    }
    n.strip_suffix("64").unwrap_or(n).to_string()
}

/// The threads of the Hang fixture stuck in known native calls.
const STUCK: [&str; 5] = [
    "pipe-writer",    // JNI write() on a full pipe
    "native-sleeper", // a pthread in nanosleep()
    "blocked-1",      // parked on a monitor (futex)
    "idle-wait",      // Object.wait() (futex)
    "idle-sleep",     // Thread.sleep() (futex with a timeout)
];

fn native_frames_match_gdbs_on(fixture: &'static Fixture) {
    let jvm = Jvm::start(fixture, false);
    let out = jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        // A loaded CI machine can make jstack slow: without the Java dump the diagnosis
        // would add the VM Thread to the threads stopped.
        .args([
            &jvm.pid.to_string(),
            "--json",
            "--dump-timeout",
            "120s",
            "--name",
        ])
        .arg(format!("^({})$", STUCK.join("|")))
        .output()
        .unwrap();
    let report = report_of(&out, 1);
    assert_eq!(report["unwinder"]["unwinder"], "native", "{report}");
    assert!(report["gdb_timing"].is_null());
    let mut lwps = Vec::new();
    let mut native: BTreeMap<u32, (String, Vec<(u64, String)>)> = BTreeMap::new();
    for name in STUCK {
        let t = crate::harness::report_thread(&report, name);
        let lwp = t["lwp"].as_u64().unwrap() as u32;
        let frames = t["native_frames"]
            .as_array()
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no native frames: {t}\nunwinder: {}\nwarnings: {}",
                    report["unwinder"], report["warnings"]
                )
            })
            .iter()
            .map(|f| {
                let pc = f["address"].as_str().unwrap().trim_start_matches("0x");
                (
                    u64::from_str_radix(pc, 16).unwrap(),
                    f["function"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        lwps.push(lwp);
        native.insert(lwp, (name.to_string(), frames));
    }
    // Only the threads asked for were stopped, and those the diagnosis names (the owner
    // of the lock the blocked thread waits for).
    let named: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let owner = f["owner"]["lwp"].as_u64();
            f["threads"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["lwp"].as_u64())
                .chain(owner)
                .collect::<Vec<_>>()
        })
        .collect();
    let stopped: Vec<u32> = report["unwinder"]["stopped_lwps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap() as u32)
        .collect();
    for lwp in &lwps {
        assert!(stopped.contains(lwp), "{lwp} not stopped: {stopped:?}");
    }
    for lwp in &stopped {
        assert!(
            lwps.contains(lwp) || named.contains(&u64::from(*lwp)),
            "{lwp} was stopped, but neither asked for nor named by the diagnosis: {}",
            report["findings"]
        );
    }
    jvm.assert_running_and_answering();

    // The reference: gdb on the same threads, which have not moved since.
    let reference = gdb_reference(jvm.pid, &lwps);
    for (lwp, (name, frames)) in &native {
        let gdb = &reference[lwp];
        // The native frames down to the first one without a symbol (JIT or interpreter
        // code); each must be gdb's frame: the same pc and the same function.
        let top: Vec<&(u64, String)> = frames.iter().take_while(|(_, f)| f != "??").collect();
        assert!(
            top.len() >= 2,
            "{name}: too few named native frames: {frames:?}"
        );
        for (i, (pc, function)) in top.iter().enumerate() {
            let (gdb_pc, gdb_function) = gdb.get(i).unwrap_or_else(|| {
                panic!(
                    "{name}: gdb has only {} frames: {gdb:?}, native {frames:?}",
                    gdb.len()
                )
            });
            assert!(
                pc == gdb_pc && normalized(function) == normalized(gdb_function),
                "{name} frame {i}: native {pc:#x} {function}, gdb {gdb_pc:#x} {gdb_function}\nnative: {frames:?}\ngdb: {gdb:?}"
            );
        }
    }
    let names =
        |lwp: &u32| -> Vec<String> { native[lwp].1.iter().map(|(_, f)| normalized(f)).collect() };
    // The calls themselves, as a person reads them.
    let writer = names(&lwps[0]);
    assert!(
        writer[0] == "write" && writer.contains(&"Java_Hang_writeToFullPipe".to_string()),
        "{writer:?}"
    );
    let sleeper = names(&lwps[1]);
    assert!(
        sleeper.iter().any(|f| f == "nanosleep") && sleeper.contains(&"native_sleeper".into()),
        "{sleeper:?}"
    );
    for lwp in &lwps[2..] {
        let parked = names(lwp);
        assert!(
            parked.iter().any(|f| f.contains("futex"))
                // os::PlatformEvent::park (JDK 17), PlatformEvent::park (JDK 25)
                && parked.iter().any(|f| f.contains("PlatformEvent::park")),
            "{parked:?}"
        );
    }
    jvm.assert_running_and_answering();
}

#[test]
fn native_frames_match_gdbs_for_threads_in_known_native_calls() {
    native_frames_match_gdbs_on(fixture_default());
}

#[test]
fn native_frames_match_gdbs_on_jdk25() {
    native_frames_match_gdbs_on(fixture_25());
}

#[test]
fn a_filtered_run_stops_only_the_selected_thread_of_2000() {
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-Xss256k"],
        "Many",
        &["2000"],
        "idle-1999",
    );
    let idle: Vec<u32> = comms(jvm.pid)
        .into_iter()
        .filter(|(_, c)| c.starts_with("idle-"))
        .map(|(l, _)| l)
        .collect();
    assert!(idle.len() >= 2000, "{} idle threads", idle.len());
    let target = idle[idle.len() / 2];
    let before: BTreeMap<u32, Option<u64>> =
        idle.iter().map(|&l| (l, switches(jvm.pid, l))).collect();
    // Meanwhile, from outside: no other thread is ever seen stopped or traced.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (done, pid, idle) = (Arc::clone(&done), jvm.pid, idle.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut rounds = 0;
            while !done.load(Ordering::SeqCst) {
                for &lwp in idle.iter().filter(|&&l| l != target) {
                    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{lwp}/stat"))
                        .unwrap_or_default();
                    let state = stat.rfind(')').and_then(|i| stat[i + 2..].chars().next());
                    if matches!(state, Some('t' | 'T')) {
                        seen.push(lwp);
                    }
                }
                rounds += 1;
            }
            (seen, rounds)
        })
    };
    let out = jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        // Without the Java dump (a slow jstack on a loaded machine) the diagnosis would
        // add the VM Thread to the threads stopped.
        .args([&jvm.pid.to_string(), "--json", "--dump-timeout", "120s"])
        .args(["--tid", &target.to_string()])
        .output()
        .unwrap();
    done.store(true, Ordering::SeqCst);
    let (seen, rounds) = sampler.join().unwrap();
    let report = report_of(&out, 0);
    assert_eq!(
        report["unwinder"]["stopped_lwps"],
        serde_json::json!([target]),
        "{}",
        report["unwinder"]
    );
    let frames = &report["threads"][0]["native_frames"];
    assert!(
        frames
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["function"] == "JVM_Sleep")),
        "{frames}"
    );
    assert!(seen.is_empty(), "unselected threads seen stopped: {seen:?}");
    assert!(rounds > 0);
    // The selected thread was woken by its stop; not one other idle thread was.
    let moved: Vec<u32> = idle
        .iter()
        .copied()
        .filter(|&l| switches(jvm.pid, l) != before[&l])
        .collect();
    assert_eq!(
        moved,
        vec![target],
        "threads whose context switches changed"
    );
    assert!(stopped_or_traced(jvm.pid).is_empty());
    jvm.assert_running_and_answering();
}

#[test]
fn killing_jnstack_during_its_per_thread_stops_of_3000_threads_leaves_none_stopped() {
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-Xss256k"],
        "Many",
        &["3000"],
        "idle-2999",
    );
    let threads = comms(jvm.pid).len();
    assert!(threads > 3000, "{threads} threads");
    let mut hit = 0;
    for delay_ms in [0u64, 2, 10, 40, 120] {
        let mut child = KillOnDrop(
            Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
                .env("JAVA_HOME", &jvm.jdk)
                .args([&jvm.pid.to_string(), "--json"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let me = child.0.id();
        // The capture thread appears once the Java dump is in and the stops begin.
        let capturing = wait_until(Duration::from_secs(120), || {
            comms(me)
                .values()
                .any(|c| c == "jnstack-ptrace")
                .then_some(())
        });
        assert!(capturing.is_some(), "jnstack never started its capture");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let during = comms(me).values().any(|c| c == "jnstack-ptrace");
        let _ = child.0.kill();
        let _ = child.0.wait();
        let killed = Instant::now();
        hit += usize::from(during);
        // The kernel detached every tracee as jnstack died: nothing to wait for.
        let clear = wait_until(Duration::from_secs(5), || {
            stopped_or_traced(jvm.pid).is_empty().then_some(())
        });
        assert!(
            clear.is_some(),
            "killed {delay_ms} ms into the stops: {:?} still stopped or traced",
            stopped_or_traced(jvm.pid)
        );
        eprintln!(
            "kill {delay_ms} ms into the stops (capture still running: {during}): every thread running and untraced {:?} after",
            killed.elapsed()
        );
    }
    assert!(hit >= 1, "no kill landed while the capture ran");
    jvm.assert_running_and_answering();
}
