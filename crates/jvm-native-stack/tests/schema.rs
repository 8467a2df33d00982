//! The `--json` output against the schema documented in the README, both ways: every
//! documented key is present with its documented type, and no undocumented key appears.
//! Checked on a live run (gdb, --sample, a deadlock) and on saved dumps (--from-file).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::harness::{fixture_default, fixtures, jnstack, require, Jvm};

/// The README's schema as data (tests/facts.rs checks its reports against it too). Leaves: `u` unsigned integer, `i` integer, `f` number,
/// `s` string, `b` bool, `enum:a|b` one of these strings; a trailing `?` allows null.
/// An object with a `"?": true` entry may be null; `[spec]` is an array of `spec`, and
/// `["s?"]` an array of strings that may be null as a whole.
pub fn schema() -> Value {
    let lock = json!({"address": "s", "class": "s?"});
    let thread_ref = json!({"name": "s", "lwp": "u?"});
    let syscall = json!({"?": true, "number": "u", "name": "s?", "args": ["u"]});
    let fd = json!({
        "?": true,
        "fd": "i", "target": "s",
        "pipe": {"?": true, "queued": "u", "capacity": "u"},
        "readers": [{"pid": "u", "comm": "s", "fd": "i"}],
        "socket": {
            "?": true,
            "protocol": "enum:tcp|udp", "local": "s", "peer": "s?", "state": "s",
            "rx_queue": "u", "tx_queue": "u",
        },
    });
    json!({
        "schema_version": "u",
        "pid": "u?",
        "jvm": "s?",
        "findings": [{
            "kind": "enum:monitor_chain|deadlock|top_cpu|native_only|pinned_carriers|starvation|idle_pool|no_java_dump|samples|child_process",
            "problem": "b",
            "text": "s",
            "lock": {"?": true, "address": "s", "class": "s?"},
            "owner": {"?": true, "name": "s", "lwp": "u?"},
            "threads": [thread_ref],
        }],
        "threads": [{
            "name": "s",
            "lwp": "u?",
            "nid": "s?",
            "java": {
                "?": true,
                "name": "s", "number": "u?", "os_thread_id": "u?", "daemon": "b",
                "prio": "i?", "os_prio": "i?", "cpu_ms": "f?", "elapsed_s": "f?",
                "tid": "s?", "nid": "u?", "header_state": "s", "state": "s?",
                "state_detail": "s?", "is_virtual": "b", "carrying": "u?", "carrier": "u?",
                "frames": [{
                    "text": "s",
                    "locks": [{
                        "action": "enum:locked|waiting_to_lock|waiting_on|waiting_to_relock|parking_to_wait_for",
                        "address": "s",
                        "class": "s?",
                    }],
                }],
                "ownable_synchronizers": [lock],
            },
            "task": {
                "?": true,
                "lwp": "u", "comm": "s", "state": "s", "cpu_ms": "u", "cpu_percent": "f?",
                "wchan": "s?",
                "syscall": syscall,
                "not_run_ms": "u?",
            },
            "native_frames": [{
                "?": true,
                "index": "u", "function": "s", "address": "s?", "source": "s?",
                "library": "s?", "jvm_internal": "b",
            }],
            "fd": fd,
            "wait": {
                "?": true,
                "call": "s", "restarted": "b", "derived_from": "s?",
                "fds": [{"fd": "i", "events": ["s"], "target": "s?"}],
                "timeout_ms": "u?", "no_timeout": "b",
            },
            "started_after_dump": "b",
            "vm_state": "s?",
        }],
        "children": [{
            "pid": "u", "comm": "s", "started_by": "u?", "state": "s", "wchan": "s?",
            "syscall": syscall, "fd": fd, "reading": [{"pid": "u", "lwp": "u"}],
        }],
        "deadlocks": [{
            "edges": [{"thread": "s", "waiting_for": "s", "class": "s?", "held_by": "s"}],
        }],
        "dump_ms": "f?",
        "gdb_timing": {
            "?": true,
            "symbols_ms": "f?", "attach_ms": "f", "backtrace_ms": "f", "detach_ms": "f",
            "stopped_ms": "f",
        },
        "unwinder": {
            "?": true,
            "unwinder": "enum:native", "stopped_lwps": ["u"], "max_stop_us": "f",
            "median_stop_us": "f", "capture_ms": "f", "unwind_ms": "f", "failed": ["s"],
        },
        "warnings": ["s"],
        "missing_dump": {"?": true, "reason": "s", "timed_out": "b"},
        "interrupted": "b",
        "samples": {
            "?": true,
            "interval_ms": "f",
            "samples": [{
                "taken_ms": "f",
                "threads": [{
                    "lwp": "u", "name": "s", "java_state": "s?", "state": "s?", "cpu_ms": "u?",
                    "java_frames": ["s"], "native_frames": ["s?"],
                }],
            }],
            "verdicts": [{
                "lwp": "u", "name": "s", "verdict": "enum:stuck|moving|partial", "seen": "u",
                "frames_changed": "b", "cpu_used_ms": "u",
            }],
        },
    })
}

/// Sockets, polls and child processes: tests/facts.rs checks its reports against this
/// schema and that these are seen there.
pub const FACTS_PATHS: &[&str] = &[".threads[].fd.socket", ".threads[].wait", ".children"];

/// Checks `value` against `spec`; records each path seen with a non-null value.
pub fn check(value: &Value, spec: &Value, path: &str, seen: &mut BTreeSet<String>) {
    if !value.is_null() {
        seen.insert(path.to_string());
    }
    match spec {
        Value::String(leaf) => {
            let (ty, nullable) = match leaf.strip_suffix('?') {
                Some(ty) => (ty, true),
                None => (leaf.as_str(), false),
            };
            let ok = match (ty, value) {
                (_, Value::Null) => nullable,
                ("u", v) => v.is_u64(),
                ("i", v) => v.is_i64() || v.is_u64(),
                ("f", v) => v.is_number(),
                ("s", v) => v.is_string(),
                ("b", v) => v.is_boolean(),
                (e, Value::String(s)) if e.starts_with("enum:") => {
                    e["enum:".len()..].split('|').any(|k| k == s)
                }
                _ => false,
            };
            assert!(ok, "{path}: {value} is not of documented type {leaf}");
        }
        Value::Array(item) => {
            // An array spec is nullable through its element's "?" (native_frames).
            let nullable =
                item[0].get("?").is_some() || item[0].as_str().is_some_and(|s| s.ends_with('?'));
            if value.is_null() {
                assert!(nullable, "{path} is null but documented as an array");
                return;
            }
            let list = value
                .as_array()
                .unwrap_or_else(|| panic!("{path}: {value} is not an array"));
            for v in list {
                let element = match item[0].as_str() {
                    Some(s) => Value::String(s.trim_end_matches('?').to_string()),
                    None => strip_nullable(&item[0]),
                };
                check(v, &element, &format!("{path}[]"), seen);
            }
        }
        Value::Object(fields) => {
            if value.is_null() {
                assert!(
                    fields.contains_key("?"),
                    "{path} is null, documented non-null"
                );
                return;
            }
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{path}: {value} is not an object"));
            for (key, sub) in fields.iter().filter(|(k, _)| *k != "?") {
                let v = object
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is documented but missing"));
                check(v, sub, &format!("{path}.{key}"), seen);
            }
            for key in object.keys() {
                assert!(
                    fields.contains_key(key),
                    "{path}.{key} is in the output but not in the documented schema"
                );
            }
        }
        _ => unreachable!("bad spec at {path}"),
    }
}

fn strip_nullable(spec: &Value) -> Value {
    let mut spec = spec.clone();
    if let Some(fields) = spec.as_object_mut() {
        fields.remove("?");
    }
    spec
}

/// Every leaf and object path of the schema.
pub fn spec_paths(spec: &Value, path: &str, out: &mut BTreeSet<String>) {
    out.insert(path.to_string());
    match spec {
        Value::Array(item) => spec_paths(&item[0], &format!("{path}[]"), out),
        Value::Object(fields) => {
            for (k, v) in fields.iter().filter(|(k, _)| *k != "?") {
                spec_paths(v, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn json_of(args: &[&str]) -> Value {
    let out = jnstack().arg("--json").args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jnstack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_matches_the_documented_schema_live_and_from_file() {
    require("gdb", "apt-get install gdb");
    let spec = schema();
    let mut seen = BTreeSet::new();
    let dumps = fixtures().join("dumps");
    for name in [
        "jdk17.txt",
        "jdk25.txt",
        "jdk25-virtual-threads.json",
        "jdk25-pinned.txt",
        "jdk8-post.txt",
    ] {
        let report = json_of(&["--from-file", dumps.join(name).to_str().unwrap()]);
        assert!(report["pid"].is_null(), "{name}: pid with --from-file");
        check(&report, &spec, "", &mut seen);
    }
    // A live JVM with the hang, a deadlock and a ReentrantLock; sampled, native frames.
    let jvm = Jvm::start(fixture_default(), true);
    let report = json_of(&[
        &jvm.pid.to_string(),
        "--sample",
        "200ms",
        "--repeat",
        "2",
        "--interval",
        "100ms",
    ]);
    check(&report, &spec, "", &mut seen);
    // The same with gdb taking the native frames (source lines, gdb_timing).
    let report = json_of(&[&jvm.pid.to_string(), "--unwinder", "gdb"]);
    check(&report, &spec, "", &mut seen);
    jvm.assert_running_and_answering();
    // No Java dump (attach disabled): missing_dump is set.
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-XX:+DisableAttachMechanism"],
        "Hang",
        &[],
        "pipe-writer",
    );
    let report = json_of(&[&jvm.pid.to_string(), "--no-gdb"]);
    assert!(!report["missing_dump"].is_null(), "{report}");
    check(&report, &spec, "", &mut seen);

    // Every documented field was seen with a value at least once, so each type above
    // was really checked; these stay null in every run of a healthy fixture.
    let never_set: BTreeSet<&str> = [
        ".warnings[]",                  // no warning on a good run
        ".unwinder.failed[]",           // every fixture thread reaches its stop
        ".threads[].task.syscall.name", // named for every syscall a fixture thread sits in
        // Only for threads stuck in D or a page fault: tests/nodump.rs checks it.
        ".threads[].task.not_run_ms",
    ]
    .into();
    let mut documented = BTreeSet::new();
    spec_paths(&spec, "", &mut documented);
    let missing: Vec<&String> = documented
        .iter()
        .filter(|p| !seen.contains(*p) && !never_set.contains(p.as_str()))
        .filter(|p| !FACTS_PATHS.iter().any(|f| p.starts_with(f)))
        .collect();
    assert!(missing.is_empty(), "never seen with a value: {missing:?}");
}

/// The README's schema block names every key the test checks (the two stay in step).
#[test]
fn readme_documents_every_key() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme
        .find("### JSON schema (`--json`")
        .expect("README has the jnstack JSON schema section");
    let block = &readme[start..];
    let block = &block[..block.find("\n```\n").expect("schema code block ends")];
    let mut documented = BTreeSet::new();
    spec_paths(&schema(), "", &mut documented);
    for path in documented {
        let Some(key) = path.rsplit('.').next().map(|k| k.trim_end_matches("[]")) else {
            continue;
        };
        if !key.is_empty() {
            assert!(
                block.contains(&format!("\"{key}\"")),
                "README's JSON schema does not mention \"{key}\" ({path})"
            );
        }
    }
}
