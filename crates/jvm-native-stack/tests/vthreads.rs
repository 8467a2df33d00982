//! Virtual threads (JDK 21+): carrier headers without `nid=`, mounted virtual threads, the
//! JSON dump merged in, pinned carriers and monitors owned by virtual threads; on saved
//! dumps of `fixtures/jni/Pinned.java` and live on JDK 21 and 25.

use jvm_native_stack::dump::{self, JavaThread, ThreadDump};

use crate::harness::dump_fixture;

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
