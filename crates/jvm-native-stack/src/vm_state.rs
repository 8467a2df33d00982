//! Each Java thread's `JavaThread::_thread_state` (`_thread_in_native`, `_thread_in_vm`,
//! `_thread_blocked`, …), read from the running JVM's memory without stopping it.
//!
//! A jstack dump does not print this state, but its `tid=0x…` is the address of the
//! thread's `JavaThread`. The field's offset and the enum's values come from the JVM's own
//! `gHotSpotVMStructs` / `gHotSpotVMIntConstants` tables (exported by every HotSpot
//! libjvm.so for the Serviceability Agent; no debug info needed), found through libjvm's
//! dynamic symbols; the values are read with `pread` on `/proc/<pid>/mem` (needs the same
//! access as ptrace, but stops nothing). The read happens right after the dump and /proc
//! read, so a thread can have changed state in between; a value outside the JVM's own enum
//! is dropped.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use object::{Object, ObjectSymbol};

use crate::merge::Thread;

/// The JVM's thread-state table, opened on one process.
pub struct VmStructs {
    mem: File,
    /// Offset of `_thread_state` in `JavaThread`.
    state_offset: u64,
    /// `JavaThreadState` values to names (`4` → `_thread_in_native`).
    names: HashMap<i32, String>,
}

/// Most entries a table may have (JDK 17 has about 800): a bound on garbage.
const MAX_ENTRIES: u64 = 20_000;

impl VmStructs {
    /// Finds libjvm in `pid`'s mappings and reads the tables; `None` if anything is missing
    /// (not HotSpot, memory unreadable).
    pub fn open(pid: u32) -> Option<VmStructs> {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
        let (base, path) = maps.lines().find_map(|line| {
            let mut f = line.split_whitespace();
            let range = f.next()?;
            let _perms = f.next()?;
            let offset = f.next()?;
            let (_dev, _inode) = (f.next()?, f.next()?);
            let path = f.next()?;
            (path.ends_with("/libjvm.so") && u64::from_str_radix(offset, 16).ok()? == 0)
                .then(|| {
                    Some((
                        u64::from_str_radix(range.split('-').next()?, 16).ok()?,
                        path,
                    ))
                })
                .flatten()
        })?;
        // Through the target's root: a JVM in a container sees its own file system.
        let data = std::fs::read(format!("/proc/{pid}/root{path}"))
            .or_else(|_| std::fs::read(path))
            .ok()?;
        let elf = object::File::parse(&*data).ok()?;
        let symbols: HashMap<&str, u64> = elf
            .dynamic_symbols()
            .filter_map(|s| Some((s.name().ok()?, s.address())))
            .filter(|(n, _)| n.starts_with("gHotSpotVM"))
            .collect();
        let mem = File::open(format!("/proc/{pid}/mem")).ok()?;
        let reader = Reader { mem: &mem };
        let global = |name: &str| reader.u64(base + symbols.get(name)?);
        let structs = global("gHotSpotVMStructs")?;
        let stride = global("gHotSpotVMStructEntryArrayStride")?;
        let type_at = global("gHotSpotVMStructEntryTypeNameOffset")?;
        let field_at = global("gHotSpotVMStructEntryFieldNameOffset")?;
        let offset_at = global("gHotSpotVMStructEntryOffsetOffset")?;
        let state_offset = (0..MAX_ENTRIES).find_map(|i| {
            let entry = structs + i * stride;
            let type_name = reader.u64(entry + type_at)?;
            if type_name == 0 {
                // The end of the table, without a match.
                return Some(None);
            }
            (reader.cstr(type_name)? == "JavaThread"
                && reader.cstr(reader.u64(entry + field_at)?)? == "_thread_state")
                .then(|| reader.u64(entry + offset_at))
        })??;
        let consts = global("gHotSpotVMIntConstants")?;
        let stride = global("gHotSpotVMIntConstantEntryArrayStride")?;
        let name_at = global("gHotSpotVMIntConstantEntryNameOffset")?;
        let value_at = global("gHotSpotVMIntConstantEntryValueOffset")?;
        let mut names = HashMap::new();
        for i in 0..MAX_ENTRIES {
            let entry = consts + i * stride;
            let name = reader.u64(entry + name_at)?;
            if name == 0 {
                break;
            }
            let name = reader.cstr(name)?;
            if name.starts_with("_thread_") {
                names.insert(reader.i32(entry + value_at)?, name);
            }
        }
        (!names.is_empty()).then_some(VmStructs {
            mem,
            state_offset,
            names,
        })
    }

    /// The state of the `JavaThread` at `address` (jstack's `tid=`).
    pub fn state(&self, address: u64) -> Option<&str> {
        let reader = Reader { mem: &self.mem };
        let value = reader.i32(address.checked_add(self.state_offset)?)?;
        self.names.get(&value).map(String::as_str)
    }
}

struct Reader<'a> {
    mem: &'a File,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: u64) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        self.mem.read_exact_at(&mut buf, at).ok()?;
        Some(buf)
    }

    fn u64(&self, at: u64) -> Option<u64> {
        self.bytes::<8>(at).map(u64::from_le_bytes)
    }

    fn i32(&self, at: u64) -> Option<i32> {
        self.bytes::<4>(at).map(i32::from_le_bytes)
    }

    /// A NUL-terminated name of at most 127 bytes (type and field names are short).
    fn cstr(&self, at: u64) -> Option<String> {
        let mut buf = [0u8; 128];
        // A name near the end of a mapping: read what there is.
        let n = self.mem.read_at(&mut buf, at).ok()?;
        let end = buf[..n].iter().position(|&b| b == 0)?;
        String::from_utf8(buf[..end].to_vec()).ok()
    }
}

/// Fills `vm_state` of every platform Java thread whose dump line gave a `tid=`.
pub fn fill(pid: u32, threads: &mut [Thread]) {
    if !threads.iter().any(|t| t.java.is_some()) {
        return;
    }
    let Some(vm) = VmStructs::open(pid) else {
        return;
    };
    for t in threads {
        let address = t
            .java
            .as_ref()
            .filter(|j| !j.is_virtual)
            .and_then(|j| j.tid.as_deref())
            .and_then(|tid| u64::from_str_radix(tid.trim_start_matches("0x"), 16).ok());
        t.vm_state = address.and_then(|a| vm.state(a)).map(str::to_string);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tables_in_a_process_without_libjvm() {
        assert!(VmStructs::open(std::process::id()).is_none());
    }
}
