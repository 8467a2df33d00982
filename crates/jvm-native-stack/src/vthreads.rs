//! Virtual threads (JDK 21+): merging the JSON dump of `jcmd Thread.dump_to_file`, the only
//! one that lists unmounted virtual threads, into the text dump; finding the scheduler's
//! carrier threads.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::dump::{JavaThread, ThreadDump};

/// The JDK feature release (`25`) from a dump's banner, when it says.
pub fn jdk_feature(banner: &str) -> Option<u32> {
    static RE: OnceLock<Regex> = OnceLock::new();
    // "… VM (25.0.3+9-LTS mixed mode…" or "JSON thread dump, runtime 21.0.8+9-LTS". JDK 8
    // prints the VM's version there ("25.402-b06"), which has no '+': not matched.
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:\(|runtime )(?P<feature>\d+)(?:\.\d+)*\+").expect("static regex")
    });
    re.captures(banner)?.name("feature")?.as_str().parse().ok()
}

/// True if the dump comes from a JDK with virtual threads (21+, or `[os id]` headers).
pub fn has_virtual_threads(dump: &ThreadDump) -> bool {
    dump.banner.as_deref().and_then(jdk_feature).map_or_else(
        || dump.threads.iter().any(|t| t.os_thread_id.is_some()),
        |f| f >= 21,
    )
}

/// The addresses of the monitors a thread holds, innermost first (no ownable synchronizers).
fn monitors(t: &JavaThread) -> Vec<String> {
    let owned = t.owned_locks();
    let n = owned.len().saturating_sub(t.ownable_synchronizers.len());
    owned[..n].iter().map(|l| l.address.clone()).collect()
}

/// Merges the JSON dump taken right after `text` into it: virtual threads are added (with
/// their stacks, and on JDK 25 their locks), mounted ones get their names and states, and
/// JSON object identities (`java.lang.Object@21cf9fdc`) are translated to the text dump's
/// addresses wherever a platform thread of both dumps names the same lock.
pub fn merge_json(mut text: ThreadDump, json: ThreadDump) -> ThreadDump {
    let mut identities: HashMap<String, String> = HashMap::new();
    // JDK 21's text dump names the carried thread ("Carrying virtual thread #18") but
    // prints no "Mounted" section, and its JSON dump has no "carrier" field.
    let carried_by: HashMap<u64, u64> = text
        .threads
        .iter()
        .filter(|t| !t.is_virtual)
        .filter_map(|t| Some((t.carrying?, t.number?)))
        .collect();
    let mut added = Vec::new();
    for j in json.threads {
        let Some(n) = j.number else { continue };
        if let Some(t) = text
            .threads
            .iter_mut()
            .find(|t| !t.is_virtual && t.number == Some(n))
        {
            if let (Some(a), Some(b)) = (t.waiting_for(), j.waiting_for()) {
                identities.insert(b.lock.address.clone(), a.lock.address.clone());
            }
            let (ta, ja) = (monitors(t), monitors(&j));
            // Frame depths differ between the formats (the JSON omits lambda frames): pair
            // the held monitors only when both list the same number of them.
            if ta.len() == ja.len() {
                identities.extend(ja.into_iter().zip(ta));
            }
            t.container = j.container;
            continue;
        }
        // Every platform thread is in the text dump, so the rest are virtual threads (JDK
        // 21's JSON does not say so itself).
        let mut v = j;
        v.is_virtual = true;
        v.header_state = "virtual".into();
        if v.carrier.is_none() {
            v.carrier = carried_by.get(&n).copied();
        }
        if let Some(m) = text
            .threads
            .iter_mut()
            .find(|t| t.is_virtual && t.number == Some(n))
        {
            // Mounted and already in the text dump with frames and lock addresses.
            m.name = v.name;
            m.state = v.state.or(m.state.take());
            m.container = v.container;
            continue;
        }
        added.push(v);
    }
    for v in &mut added {
        for frame in &mut v.frames {
            for lock in &mut frame.locks {
                if let Some(address) = identities.get(&lock.lock.address) {
                    lock.lock.address = address.clone();
                }
            }
        }
    }
    text.threads.extend(added);
    text.json_merged = true;
    text
}

/// True for a virtual thread that is ready to run but has no carrier: RUNNABLE and not
/// mounted, or (JDK 21 prints no states) one that never ran and has no stack yet.
pub fn waits_for_carrier(t: &JavaThread, mounted: bool) -> bool {
    t.is_virtual
        && !mounted
        && match t.state.as_deref() {
            Some(state) => state == "RUNNABLE",
            None => t.frames.is_empty(),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_release_from_banners() {
        assert_eq!(
            jdk_feature("OpenJDK 64-Bit Server VM (25.0.3+9-LTS mixed mode, sharing)"),
            Some(25)
        );
        assert_eq!(
            jdk_feature("JSON thread dump, runtime 21.0.8+9-LTS"),
            Some(21)
        );
        assert_eq!(
            jdk_feature("OpenJDK 64-Bit Server VM (21+35 mixed mode)"),
            Some(21)
        );
        // JDK 8 prints the HotSpot version, not the JDK's.
        assert_eq!(
            jdk_feature("Java HotSpot(TM) 64-Bit Server VM (25.402-b06 mixed mode)"),
            None
        );
    }
}
