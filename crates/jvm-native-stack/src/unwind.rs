//! Unwinding a captured thread offline: DWARF CFI (`.eh_frame` through `.eh_frame_hdr`,
//! with gimli) where the code has it, frame pointers where it has none (the JVM's
//! interpreter, stubs and JIT-compiled code), names from the ELF symbol tables of the
//! mapped objects (`.symtab`, else a separate debug file's, else `.dynsym`; C++ names
//! demangled). The thread runs again long before any of this starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, LittleEndian, RegisterRule,
    UnwindContext, UnwindSection,
};
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

use crate::backtrace::NativeFrame;
use crate::ptrace::{reg, Capture};

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    /// Executable.
    pub exec: bool,
    /// The mapped file (`/usr/lib/…/libc.so.6`), a pseudo name (`[stack]`, `[vdso]`), or empty.
    pub path: String,
}

/// Parses `/proc/PID/maps` text, sorted by address.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(6, ' ');
            let range = fields.next()?;
            let perms = fields.next()?;
            let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
            let (start, end) = range.split_once('-')?;
            let path = fields.nth(2).unwrap_or("").trim().to_string();
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset,
                exec: perms.as_bytes().get(2) == Some(&b'x'),
                path,
            })
        })
        .collect();
    out.sort_by_key(|m| m.start);
    out
}

/// The mapping holding `address`.
pub fn mapping_at(maps: &[Mapping], address: u64) -> Option<&Mapping> {
    let i = maps.partition_point(|m| m.start <= address);
    maps[..i].last().filter(|m| address < m.end)
}

/// A function symbol, at its address in the object's own (unrelocated) address space.
#[derive(Debug, Clone)]
struct Symbol {
    address: u64,
    size: u64,
    name: String,
}

/// One loaded ELF object: its unwind tables and symbols.
struct Module {
    /// Runtime address minus the object's own address.
    bias: u64,
    eh_frame_hdr: Option<(u64, Vec<u8>)>,
    eh_frame: Option<(u64, Vec<u8>)>,
    text: u64,
    got: u64,
    /// Sorted by address.
    symbols: Vec<Symbol>,
}

/// The file behind a mapping: through `/proc/PID/root` (the target's own file system,
/// also inside a container), else the path itself.
fn open_mapped(pid: u32, path: &str) -> Option<std::fs::File> {
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    std::fs::File::open(format!("/proc/{pid}/root{path}"))
        .or_else(|_| std::fs::File::open(path))
        .ok()
}

fn map_file(file: &std::fs::File) -> Option<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private; a library replaced on disk while
    // jnstack reads it gives wrong names at worst (the object parser checks bounds).
    unsafe { memmap2::Mmap::map(file) }.ok()
}

/// Function symbols of `elf` (its symbol table, or the dynamic one).
fn function_symbols(elf: &object::File<'_>, out: &mut Vec<Symbol>) {
    for sym in elf.symbols().chain(elf.dynamic_symbols()) {
        if sym.kind() != SymbolKind::Text || !sym.is_definition() || sym.address() == 0 {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() {
            continue;
        }
        // Versioned dynamic names (`pthread_cond_wait@@GLIBC_2.3.2`) read like gdb's.
        let name = name.split('@').next().unwrap_or(name);
        out.push(Symbol {
            address: sym.address(),
            size: sym.size(),
            name: name.to_string(),
        });
    }
}

/// How good a name is among aliases at one address: plain public names first
/// (`write` over `__libc_write`), then the shorter.
fn alias_rank(name: &str) -> (usize, usize) {
    (name.len() - name.trim_start_matches('_').len(), name.len())
}

/// The separate debug file of an object without `.symtab` (Debian's `*-dbg` packages):
/// by build id, then by `.gnu_debuglink`.
fn debug_file(elf: &object::File<'_>, path: &str) -> Option<std::fs::File> {
    let root = Path::new("/usr/lib/debug");
    if let Ok(Some(id)) = elf.build_id() {
        if id.len() > 1 {
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let file = root
                .join(".build-id")
                .join(&hex[..2])
                .join(format!("{}.debug", &hex[2..]));
            if let Ok(f) = std::fs::File::open(file) {
                return Some(f);
            }
        }
    }
    let (name, _crc) = elf.gnu_debuglink().ok().flatten()?;
    let name = std::str::from_utf8(name).ok()?;
    let dir = Path::new(path).parent()?;
    let candidates: [PathBuf; 2] = [
        dir.join(".debug").join(name),
        root.join(dir.strip_prefix("/").unwrap_or(dir)).join(name),
    ];
    candidates.iter().find_map(|p| std::fs::File::open(p).ok())
}

impl Module {
    fn load(pid: u32, mapping: &Mapping) -> Option<Module> {
        if mapping.path == "[vdso]" {
            // The kernel's vDSO (clock_gettime, gettimeofday) is an ELF image in memory.
            let image = crate::ptrace::read_memory(
                pid,
                mapping.start,
                usize::try_from(mapping.end - mapping.start).ok()?,
            );
            return Module::parse(&image, mapping);
        }
        let file = open_mapped(pid, &mapping.path)?;
        let data = map_file(&file)?;
        Module::parse(&data, mapping)
    }

    fn parse(data: &[u8], mapping: &Mapping) -> Option<Module> {
        let elf = object::File::parse(data).ok()?;
        let size = mapping.end - mapping.start;
        let segment = elf.segments().find(|s| {
            let (offset, filesz) = s.file_range();
            offset < mapping.offset + size && mapping.offset < offset + filesz.max(1)
        })?;
        let (seg_offset, _) = segment.file_range();
        let bias = mapping
            .start
            .wrapping_sub(mapping.offset)
            .wrapping_sub(segment.address())
            .wrapping_add(seg_offset);
        let section = |name: &str| {
            let s = elf.section_by_name(name)?;
            Some((s.address(), s.data().ok()?.to_vec()))
        };
        let address = |name: &str| elf.section_by_name(name).map_or(0, |s| s.address());
        let mut symbols = Vec::new();
        function_symbols(&elf, &mut symbols);
        if elf.symbol_table().is_none() {
            if let Some(debug) = debug_file(&elf, &mapping.path) {
                if let Some(data) = map_file(&debug) {
                    if let Ok(dbg) = object::File::parse(&*data) {
                        function_symbols(&dbg, &mut symbols);
                    }
                }
            }
        }
        symbols.sort_by(|a, b| {
            a.address
                .cmp(&b.address)
                .then_with(|| alias_rank(&a.name).cmp(&alias_rank(&b.name)))
        });
        symbols.dedup_by_key(|s| s.address);
        Some(Module {
            bias,
            eh_frame_hdr: section(".eh_frame_hdr"),
            eh_frame: section(".eh_frame"),
            text: address(".text"),
            got: address(".got"),
            symbols,
        })
    }

    /// The function containing `svma` (an address in the object's own space).
    fn symbol(&self, svma: u64) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.address <= svma);
        let sym = self.symbols[..i].last()?;
        (sym.size == 0 || svma < sym.address + sym.size).then_some(sym)
    }
}

/// The register values of one frame, by DWARF number (`None`: unknown).
type Regs = [Option<u64>; 17];

/// Word reads from a thread's stack copy.
struct Stack<'a> {
    base: u64,
    bytes: &'a [u8],
}

impl Stack<'_> {
    fn read(&self, address: u64) -> Option<u64> {
        let at = usize::try_from(address.checked_sub(self.base)?).ok()?;
        let word = self.bytes.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(word.try_into().ok()?))
    }

    fn contains(&self, address: u64) -> bool {
        address >= self.base && address - self.base < self.bytes.len() as u64
    }
}

const ENCODING: gimli::Encoding = gimli::Encoding {
    format: gimli::Format::Dwarf32,
    version: 4,
    address_size: 8,
};

/// Evaluates a CFI expression against the frame's registers and the stack copy.
fn evaluate(
    expr: gimli::Expression<EndianSlice<'_, LittleEndian>>,
    regs: &Regs,
    stack: &Stack<'_>,
    initial: Option<u64>,
) -> Option<u64> {
    use gimli::{EvaluationResult, Location, Value};
    let mut eval = expr.evaluation(ENCODING);
    if let Some(value) = initial {
        eval.set_initial_value(value);
    }
    let mut state = eval.evaluate().ok()?;
    loop {
        state = match state {
            EvaluationResult::Complete => break,
            EvaluationResult::RequiresMemory {
                address, size: 8, ..
            } => {
                let value = stack.read(address)?;
                eval.resume_with_memory(Value::Generic(value)).ok()?
            }
            EvaluationResult::RequiresRegister { register, .. } => {
                let value = (*regs.get(usize::from(register.0))?)?;
                eval.resume_with_register(Value::Generic(value)).ok()?
            }
            _ => return None,
        };
    }
    match eval.result().first()?.location {
        Location::Address { address } => Some(address),
        _ => None,
    }
}

/// Unwinds captured threads of one process; caches loaded objects across threads.
pub struct Unwinder {
    pid: u32,
    maps: Vec<Mapping>,
    modules: HashMap<String, Option<Module>>,
    ctx: UnwindContext<usize>,
}

/// At most this many frames per thread, as with gdb.
pub const MAX_FRAMES: usize = crate::gdb::MAX_FRAMES as usize;

/// After this many frames in a row without a symbol (JIT-compiled or interpreted Java
/// code), stop, as the gdb script does: past them only frame pointers guide the walk.
const MAX_UNKNOWN: usize = 2;

/// The result of one CFI step: the caller's registers and whether the callee was a
/// signal trampoline (then the caller's pc is exact, not a return address).
struct Step {
    regs: Regs,
    signal: bool,
}

impl Unwinder {
    /// An unwinder for `pid` with its memory map.
    pub fn new(pid: u32, maps: Vec<Mapping>) -> Unwinder {
        Unwinder {
            pid,
            maps,
            modules: HashMap::new(),
            ctx: UnwindContext::new(),
        }
    }

    /// The process's memory map.
    pub fn maps(&self) -> &[Mapping] {
        &self.maps
    }

    fn module(&mut self, pc: u64) -> Option<(&Module, &Mapping)> {
        let mapping = mapping_at(&self.maps, pc)?;
        if !mapping.path.starts_with('/') && mapping.path != "[vdso]" {
            return None;
        }
        let pid = self.pid;
        let module = self
            .modules
            .entry(mapping.path.clone())
            .or_insert_with(|| Module::load(pid, mapping))
            .as_ref()?;
        Some((module, mapping))
    }

    /// The frames of a captured thread, innermost first.
    pub fn unwind(&mut self, capture: &Capture) -> Vec<NativeFrame> {
        let stack = Stack {
            base: capture.stack_base,
            bytes: &capture.stack,
        };
        let mut regs: Regs = capture.regs.map(Some);
        let mut frames = Vec::new();
        let mut unknown = 0;
        // The innermost pc is exact; a caller's pc is a return address, which may be one
        // past the call's function (a noreturn call at its end): look up pc - 1.
        let mut exact = true;
        while frames.len() < MAX_FRAMES {
            let Some(pc) = regs[reg::RIP].filter(|&pc| pc != 0) else {
                break;
            };
            let lookup = if exact { pc } else { pc - 1 };
            let (function, library) = match self.module(lookup) {
                Some((module, mapping)) => (
                    module
                        .symbol(lookup.wrapping_sub(module.bias))
                        .map(|s| demangle(&s.name)),
                    Some(mapping.path.clone()),
                ),
                None => (None, None),
            };
            unknown = if function.is_none() { unknown + 1 } else { 0 };
            let function = function.unwrap_or_else(|| "??".to_string());
            let jvm_internal = function == "??"
                || library
                    .as_deref()
                    .is_some_and(|l| l.ends_with("/libjvm.so"));
            frames.push(NativeFrame {
                index: frames.len() as u32,
                function,
                address: Some(format!("{pc:#x}")),
                source: None,
                library,
                jvm_internal,
            });
            if unknown >= MAX_UNKNOWN {
                break;
            }
            let sp = regs[reg::RSP];
            let step = match self.cfi_step(lookup, &regs, &stack) {
                Some(step) => Some(step),
                None => frame_pointer_step(&regs, &stack, &self.maps),
            };
            let Some(step) = step else { break };
            // The stack only grows down: a caller's frame is above its callee's.
            let progressed = match (sp, step.regs[reg::RSP]) {
                (Some(old), Some(new)) => new > old || (step.signal && new != old),
                _ => false,
            };
            if !progressed {
                break;
            }
            exact = step.signal;
            regs = step.regs;
        }
        frames
    }

    /// One step by the CFI of the object holding `lookup`, if it has any for it.
    fn cfi_step(&mut self, lookup: u64, regs: &Regs, stack: &Stack<'_>) -> Option<Step> {
        let mapping = mapping_at(&self.maps, lookup)?.clone();
        if !mapping.path.starts_with('/') && mapping.path != "[vdso]" {
            return None;
        }
        let pid = self.pid;
        let module = self
            .modules
            .entry(mapping.path.clone())
            .or_insert_with(|| Module::load(pid, &mapping))
            .as_ref()?;
        let (hdr_addr, hdr) = module.eh_frame_hdr.as_ref()?;
        let (eh_addr, eh) = module.eh_frame.as_ref()?;
        let bases = BaseAddresses::default()
            .set_eh_frame_hdr(*hdr_addr)
            .set_eh_frame(*eh_addr)
            .set_text(module.text)
            .set_got(module.got);
        let hdr = EhFrameHdr::new(hdr, LittleEndian).parse(&bases, 8).ok()?;
        let table = hdr.table()?;
        let eh_frame = EhFrame::new(eh, LittleEndian);
        let svma = lookup.wrapping_sub(module.bias);
        let fde = table
            .fde_for_address(&eh_frame, &bases, svma, EhFrame::cie_from_offset)
            .ok()?;
        let signal = fde.cie().is_signal_trampoline();
        let row = fde
            .unwind_info_for_address(&eh_frame, &bases, &mut self.ctx, svma)
            .ok()?;
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => {
                let base = (*regs.get(usize::from(register.0))?)?;
                base.checked_add_signed(*offset)?
            }
            CfaRule::Expression(expr) => evaluate(expr.get(&eh_frame).ok()?, regs, stack, None)?,
        };
        let mut next: Regs = *regs;
        for (i, slot) in next.iter_mut().enumerate() {
            let rule = row.register(gimli::Register(i as u16));
            *slot = match rule {
                // Unmentioned callee-saved registers keep their value (the usual reading;
                // only the return address column needs a rule).
                RegisterRule::Undefined if i == reg::RIP => None,
                RegisterRule::Undefined | RegisterRule::SameValue => regs[i],
                RegisterRule::Offset(n) => stack.read(cfa.checked_add_signed(n)?),
                RegisterRule::ValOffset(n) => cfa.checked_add_signed(n),
                RegisterRule::Register(r) => *regs.get(usize::from(r.0))?,
                RegisterRule::Expression(expr) => {
                    let at = evaluate(expr.get(&eh_frame).ok()?, regs, stack, Some(cfa))?;
                    stack.read(at)
                }
                RegisterRule::ValExpression(expr) => {
                    evaluate(expr.get(&eh_frame).ok()?, regs, stack, Some(cfa))
                }
                RegisterRule::Constant(c) => Some(c),
                _ => None,
            };
        }
        // The CFA is the caller's stack pointer, unless a rule restores it (signal frames).
        if matches!(
            row.register(gimli::Register(reg::RSP as u16)),
            RegisterRule::Undefined | RegisterRule::SameValue
        ) {
            next[reg::RSP] = Some(cfa);
        }
        Some(Step { regs: next, signal })
    }
}

/// One step by the frame pointer, for code without CFI: HotSpot's interpreter, stubs and
/// native-method wrappers keep `rbp` as the frame link; compiled Java frames do so only
/// with `-XX:+PreserveFramePointer`. The link must point into the copied stack above the
/// stack pointer and the return address into executable memory, or the walk ends.
fn frame_pointer_step(regs: &Regs, stack: &Stack<'_>, maps: &[Mapping]) -> Option<Step> {
    let rbp = regs[reg::RBP]?;
    let rsp = regs[reg::RSP]?;
    if rbp < rsp || rbp % 8 != 0 || !stack.contains(rbp) {
        return None;
    }
    let ra = stack.read(rbp + 8)?;
    mapping_at(maps, ra).filter(|m| m.exec)?;
    let mut next: Regs = [None; 17];
    // Callee-saved registers other than rbp are unknown past a frame without CFI; a
    // CFI step further up that needs them then ends the walk.
    for i in [3, 12, 13, 14, 15] {
        next[i] = regs[i];
    }
    next[reg::RBP] = stack.read(rbp);
    next[reg::RSP] = Some(rbp + 16);
    next[reg::RIP] = Some(ra);
    Some(Step {
        regs: next,
        signal: false,
    })
}

/// A C++ symbol as gdb prints it (`InterpreterRuntime::monitorenter(JavaThread*, …)`);
/// other names as they are.
pub fn demangle(name: &str) -> String {
    if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name) {
            if let Ok(text) = sym.demangle() {
                return text;
            }
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let maps = parse_maps(
            "7f0000001000-7f0000002000 r-xp 00001000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6\n\
             7f0000000000-7f0000001000 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6\n\
             7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n\
             7f0000003000-7f0000004000 rwxp 00000000 00:00 0 \n",
        );
        assert_eq!(maps.len(), 4);
        assert_eq!(maps[0].start, 0x7f0000000000);
        assert!(maps[1].exec && maps[1].offset == 0x1000);
        assert_eq!(maps[2].path, "");
        assert_eq!(maps[3].path, "[stack]");
        assert_eq!(
            mapping_at(&maps, 0x7f0000001234).map(|m| m.offset),
            Some(0x1000)
        );
        assert!(mapping_at(&maps, 0x7f0000005000).is_none());
    }

    #[test]
    fn names_read_like_gdbs() {
        assert_eq!(
            demangle("_ZN18InterpreterRuntime12monitorenterEP10JavaThreadP15BasicObjectLock"),
            "InterpreterRuntime::monitorenter(JavaThread*, BasicObjectLock*)"
        );
        assert_eq!(demangle("__libc_write"), "__libc_write");
        assert!(alias_rank("write") < alias_rank("__libc_write"));
        assert!(alias_rank("__write") < alias_rank("__libc_write"));
    }

    #[test]
    fn frame_pointer_walk_checks_the_link() {
        let maps = parse_maps("400000-401000 r-xp 00000000 00:00 0 \n");
        // Stack at 0x1000: rbp = 0x1010 → [0x1010] = 0x1040 (saved rbp), [0x1018] = ra.
        let mut bytes = vec![0u8; 0x100];
        bytes[0x10..0x18].copy_from_slice(&0x1040u64.to_le_bytes());
        bytes[0x18..0x20].copy_from_slice(&0x400123u64.to_le_bytes());
        let stack = Stack {
            base: 0x1000,
            bytes: &bytes,
        };
        let mut regs: Regs = [None; 17];
        regs[reg::RSP] = Some(0x1000);
        regs[reg::RBP] = Some(0x1010);
        let step = frame_pointer_step(&regs, &stack, &maps).unwrap();
        assert_eq!(step.regs[reg::RIP], Some(0x400123));
        assert_eq!(step.regs[reg::RSP], Some(0x1020));
        assert_eq!(step.regs[reg::RBP], Some(0x1040));
        // A return address outside executable memory ends the walk.
        bytes[0x18..0x20].copy_from_slice(&0x999999u64.to_le_bytes());
        let stack = Stack {
            base: 0x1000,
            bytes: &bytes,
        };
        assert!(frame_pointer_step(&regs, &stack, &maps).is_none());
        // So does a frame pointer below the stack pointer.
        regs[reg::RBP] = Some(0x0ff0);
        assert!(frame_pointer_step(&regs, &stack, &maps).is_none());
    }
}
