//! Virtual threads (JDK 21+): carrier headers without `nid=`, mounted virtual threads, the
//! JSON dump merged in, pinned carriers and monitors owned by virtual threads; on saved
//! dumps of `fixtures/jni/Pinned.java` and live on JDK 21 and 25.

use std::path::Path;

use jvm_native_stack::dump::{self, JavaThread, ThreadDump};
use serde_json::Value;

use crate::harness::{
    dump_fixture, fixtures, jnstack, pinned_21, pinned_25, report_finding, report_thread, require,
    thread_names, Fixture, Jvm,
};

fn parse(name: &str) -> ThreadDump {
    dump::parse(&dump_fixture(name)).unwrap()
}

fn by_number(d: &ThreadDump, n: u64) -> &JavaThread {
    d.threads
        .iter()
        .find(|t| t.number == Some(n) && !t.is_virtual)
        .unwrap_or_else(|| panic!("no platform thread #{n}"))
}

/// Every carrier of a saved dump: (its `#id`, its `[os id]`, the `#id` it carries).
fn carriers(d: &ThreadDump) -> Vec<(u64, u32, u64)> {
    d.threads
        .iter()
        .filter_map(|t| Some((t.number?, t.os_thread_id?, t.carrying?)))
        .collect()
}

/// The `[os id]`s of the lines `"…" #id [os id] … tid=0x… [0x…]` without `nid=`, read by eye.
fn headers_without_nid(text: &str) -> Vec<u32> {
    text.lines()
        .filter(|l| l.starts_with('"') && l.contains(" tid=0x") && !l.contains(" nid="))
        .map(|l| {
            let open = l.find(" [").unwrap() + 2;
            l[open..open + l[open..].find(']').unwrap()]
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn jdk25_carrier_headers_and_mounted_virtual_threads() {
    let text = dump_fixture("jdk25-pinned.txt");
    let d = parse("jdk25-pinned.txt");
    let found = carriers(&d);
    let expected = headers_without_nid(&text);
    assert_eq!(expected.len(), 2, "fixture has two carriers");
    assert_eq!(
        found.iter().map(|c| c.1).collect::<Vec<_>>(),
        expected,
        "{found:?}"
    );
    for (number, _, carried) in found {
        let carrier = by_number(&d, number);
        // The carrier keeps only its own frames; it has no state line.
        assert!(carrier.state.is_none());
        assert_eq!(carrier.header_state, "");
        assert!(carrier
            .frames
            .last()
            .unwrap()
            .text
            .starts_with("java.util.concurrent.ForkJoinWorkerThread.run"));
        // The mounted virtual thread is a thread of its own, linked to its carrier.
        let v = d
            .threads
            .iter()
            .find(|t| t.is_virtual && t.number == Some(carried))
            .unwrap_or_else(|| panic!("no mounted virtual thread #{carried}"));
        assert_eq!(v.carrier, Some(number));
        assert_eq!(v.frames[0].text, "Pinned.blockingNativeRead(Native Method)");
    }
    // Nothing after a carrier was glued onto the thread before it.
    let attach = d
        .threads
        .iter()
        .find(|t| t.name == "Attach Listener")
        .unwrap();
    assert!(attach.frames.is_empty(), "{:?}", attach.frames);
}

#[test]
fn jdk21_carriers_have_no_mounted_section() {
    let text = dump_fixture("jdk21-pinned.txt");
    let d = parse("jdk21-pinned.txt");
    let found = carriers(&d);
    assert_eq!(
        found.iter().map(|c| c.1).collect::<Vec<_>>(),
        headers_without_nid(&text)
    );
    assert_eq!(found.len(), 2);
    assert!(!d.threads.iter().any(|t| t.is_virtual));
    // The JSON dump names what each carried thread runs.
    let json = parse("jdk21-pinned.json");
    for (_, _, carried) in found {
        let v = json
            .threads
            .iter()
            .find(|t| t.number == Some(carried))
            .unwrap();
        assert_eq!(v.frames[0].text, "Pinned.blockingNativeRead(Native Method)");
    }
}

/// The scheduler options that make the fixture's 2 pinned virtual threads exhaust it.
const TWO_CARRIERS: [&str; 2] = [
    "-Djdk.virtualThreadScheduler.parallelism=2",
    "-Djdk.virtualThreadScheduler.maxPoolSize=2",
];

/// The number of virtual threads `Pinned pinned` starts after pinning both carriers.
const STARVED: usize = 200;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = jnstack().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jnstack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["--json"];
    all.extend(args);
    let (code, out) = run(&all);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{out}")),
    )
}

fn pinned_carriers_live(fixture: &Fixture) {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start_class(fixture, &TWO_CARRIERS, "Pinned", &["pinned"], "main");
    let jdk = jvm.jdk.display().to_string();
    let pid = jvm.pid.to_string();
    let (code, report) = json(&[&pid, "--jdk", &jdk]);
    assert_eq!(code, Some(1), "carriers exhausted is a problem");
    let f = report_finding(&report, "pinned_carriers");
    assert_eq!(f["problem"], true);
    let carriers = thread_names(&f["threads"]);
    assert_eq!(carriers.len(), 2, "{f}");
    let text = f["text"].as_str().unwrap();
    assert!(text.contains("all 2 carriers are pinned"), "{text}");
    for reader in ["pinned-reader-0", "pinned-reader-1"] {
        assert!(text.contains(&format!("\"{reader}\"")), "{text}");
    }
    assert_eq!(
        text.matches("blocked in read(").count(),
        2,
        "both carriers sit in read(): {text}"
    );
    assert!(
        text.contains("inside JNI Pinned.blockingNativeRead"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{STARVED} virtual threads ready to run cannot get a carrier"
        )),
        "{text}"
    );
    // Each carrier is a real task of the JVM sitting in read(), with gdb frames.
    for t in f["threads"].as_array().unwrap() {
        let carrier = report_thread(&report, t["name"].as_str().unwrap());
        let lwp = carrier["lwp"].as_u64().unwrap();
        assert!(Path::new(&format!("/proc/{}/task/{lwp}", jvm.pid)).exists());
        assert_eq!(carrier["task"]["syscall"]["name"], "read", "{carrier}");
        assert!(carrier["java"]["carrying"].is_u64(), "{carrier}");
        let frames: Vec<&str> = carrier["native_frames"]
            .as_array()
            .unwrap_or_else(|| panic!("no native frames: {carrier}"))
            .iter()
            .map(|f| f["function"].as_str().unwrap())
            .collect();
        assert!(
            frames.contains(&"Java_Pinned_blockingNativeRead"),
            "{frames:?}"
        );
    }
    // The virtual threads are in the report, the mounted ones linked to their carriers.
    let threads = report["threads"].as_array().unwrap();
    let virtual_threads: Vec<&Value> = threads
        .iter()
        .filter(|t| t["java"]["is_virtual"] == true)
        .collect();
    assert_eq!(virtual_threads.len(), STARVED + 2);
    for reader in ["pinned-reader-0", "pinned-reader-1"] {
        let v = report_thread(&report, reader);
        assert!(v["lwp"].is_null());
        assert!(v["java"]["carrier"].is_u64(), "{v}");
    }
    // The text report says the same, and exits 1.
    let (code, text) = run(&[&pid, "--jdk", &jdk, "--no-gdb"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("carriers are pinned"), "{text}");
    jvm.assert_running_and_answering();
}

#[test]
fn pinned_carriers_on_jdk25() {
    pinned_carriers_live(pinned_25());
}

#[test]
fn pinned_carriers_on_jdk21() {
    pinned_carriers_live(pinned_21());
}

#[test]
fn unmounted_virtual_thread_owns_a_monitor_on_jdk25() {
    let jvm = Jvm::start_class(pinned_25(), &[], "Pinned", &["owner"], "blocked-on-vthread");
    let jdk = jvm.jdk.display().to_string();
    let (code, report) = json(&[&jvm.pid.to_string(), "--jdk", &jdk, "--no-gdb"]);
    assert_eq!(code, Some(1));
    let chain = report_finding(&report, "monitor_chain");
    assert_eq!(chain["owner"]["name"], "vthread-owner", "{chain}");
    assert!(chain["owner"]["lwp"].is_null());
    assert_eq!(thread_names(&chain["threads"]), ["blocked-on-vthread"]);
    let text = chain["text"].as_str().unwrap();
    assert!(text.contains("not mounted on any carrier"), "{text}");
    assert!(!text.contains("released between samples"), "{text}");
    // The owner's lock, as the text dump names it (an address, not a JSON identity).
    let owner = report_thread(&report, "vthread-owner");
    let waiter = report_thread(&report, "blocked-on-vthread");
    let lock = |t: &Value, action: &str| -> String {
        t["java"]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["locks"].as_array().unwrap())
            .find(|l| l["action"] == action)
            .unwrap_or_else(|| panic!("no {action} lock: {t}"))["address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(lock(owner, "locked"), lock(waiter, "waiting_to_lock"));
    assert!(lock(waiter, "waiting_to_lock").starts_with("0x"));
    jvm.assert_running_and_answering();
}

/// `--from-file` on the saved dumps: the text dump alone, and with its JSON dump.
#[test]
fn saved_pinned_dumps() {
    let dumps = fixtures().join("dumps");
    let path = |name: &str| dumps.join(name).display().to_string();
    for jdk in ["jdk25", "jdk21"] {
        let txt = path(&format!("{jdk}-pinned.txt"));
        let js = path(&format!("{jdk}-pinned.json"));
        let (code, report) = json(&["--from-file", &txt, "--from-file", &js]);
        assert_eq!(code, Some(1), "{jdk}");
        let text = report_finding(&report, "pinned_carriers")["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.contains("all 2 carriers are pinned"), "{text}");
        assert!(
            text.contains(&format!("{STARVED} virtual threads ready to run")),
            "{text}"
        );
        // Nothing was glued onto the threads before the carriers; no carrier is "native".
        assert!(
            !report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["kind"] == "native_only"),
            "{jdk}"
        );
    }
    // JDK 25's text dump alone shows the pinned threads' frames: still exhausted.
    let (code, report) = json(&["--from-file", &path("jdk25-pinned.txt")]);
    assert_eq!(code, Some(1));
    let text = report_finding(&report, "pinned_carriers")["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("all 2 carriers are pinned"), "{text}");
    // JDK 21's does not: it says so instead of guessing, and exits 0.
    let (code, report) = json(&["--from-file", &path("jdk21-pinned.txt")]);
    assert_eq!(code, Some(0));
    let f = report_finding(&report, "pinned_carriers");
    assert_eq!(f["problem"], false);
    assert!(f["text"].as_str().unwrap().contains("pass"), "{f}");
    // An unmounted owner: never "released between samples".
    let (code, report) = json(&["--from-file", &path("jdk25-vthread-owner.txt")]);
    assert_eq!(code, Some(1));
    let text = report_finding(&report, "monitor_chain")["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("likely a virtual thread"), "{text}");
    assert!(!text.contains("released between samples"), "{text}");
    assert!(!text.contains("Take another dump"), "{text}");
    let (_, report) = json(&[
        "--from-file",
        &path("jdk25-vthread-owner.txt"),
        "--from-file",
        &path("jdk25-vthread-owner.json"),
    ]);
    assert_eq!(
        report_finding(&report, "monitor_chain")["owner"]["name"],
        "vthread-owner"
    );
}
