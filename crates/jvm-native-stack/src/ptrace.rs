//! Stopping one thread at a time for microseconds: `PTRACE_SEIZE` + `PTRACE_INTERRUPT`,
//! copy its registers and the top of its stack, `PTRACE_DETACH` at once.
//!
//! Unlike gdb's `PTRACE_ATTACH`, a seize queues no SIGSTOP: if jnstack is SIGKILLed at
//! any moment, the kernel detaches its tracees and each one simply runs on (no group
//! stop is left behind, with or without the resume guard). Only the threads asked for
//! are ever touched; the others never leave their state. The tracer is the calling OS
//! thread: run [`capture`] on a thread of its own, so that its exit detaches anything
//! left seized (a thread in uninterruptible sleep that never reached its stop).

use std::time::{Duration, Instant};

/// The registers the unwinder needs, by DWARF register number (x86-64: 0 rax … 16 rip).
pub type Registers = [u64; 17];

/// DWARF numbers of the x86-64 registers jnstack reads.
pub mod reg {
    /// Frame pointer.
    pub const RBP: usize = 6;
    /// Stack pointer.
    pub const RSP: usize = 7;
    /// Return address column / program counter.
    pub const RIP: usize = 16;
}

/// Bytes below the stack pointer copied too: the x86-64 red zone a leaf function may use.
const RED_ZONE: u64 = 128;

/// What one thread's stop yielded.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The thread.
    pub lwp: u32,
    /// Its registers at the stop.
    pub regs: Registers,
    /// Address of `stack[0]`.
    pub stack_base: u64,
    /// A copy of its stack from just below the stack pointer upwards.
    pub stack: Vec<u8>,
    /// From the moment jnstack saw the thread stopped to its `PTRACE_DETACH`.
    pub stopped: Duration,
}

/// Why a thread could not be captured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The thread exited before or during its stop.
    #[error("thread {lwp} exited")]
    Gone {
        /// The thread.
        lwp: u32,
    },
    /// The kernel refused the seize (permissions, or another tracer holds the thread).
    #[error("ptrace(PTRACE_SEIZE) of thread {lwp} failed: {reason}")]
    Denied {
        /// The thread.
        lwp: u32,
        /// The OS error.
        reason: String,
    },
    /// The thread did not reach its stop in time (uninterruptible sleep, state D): it
    /// stays seized until the capturing thread ends, then the kernel detaches it.
    #[error("thread {lwp} did not stop within {waited:?} (uninterruptible sleep?): its registers are unknown")]
    NoStop {
        /// The thread.
        lwp: u32,
        /// How long jnstack waited.
        waited: Duration,
    },
    /// Reading its registers failed.
    #[error("cannot read the registers of thread {lwp}: {reason}")]
    Registers {
        /// The thread.
        lwp: u32,
        /// The OS error.
        reason: String,
    },
}

fn last_error() -> String {
    std::io::Error::last_os_error().to_string()
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Stops `lwp` (a thread of `pid`), copies its registers and up to `stack_bytes` of its
/// stack (bounded by `stack_end(sp)`, the end of the stack's mapping when known), and
/// detaches it. `no_stop_wait` bounds the wait for the stop.
#[cfg(target_arch = "x86_64")]
pub fn capture(
    pid: u32,
    lwp: u32,
    stack_bytes: usize,
    stack_end: &dyn Fn(u64) -> Option<u64>,
    no_stop_wait: Duration,
) -> Result<Capture, CaptureError> {
    let tid = libc::pid_t::try_from(lwp).map_err(|_| CaptureError::Gone { lwp })?;
    // SAFETY: PTRACE_SEIZE and PTRACE_INTERRUPT take no pointers (addr and data are 0:
    // no options, so no PTRACE_O_EXITKILL: our death must never kill the JVM).
    if unsafe { libc::ptrace(libc::PTRACE_SEIZE, tid, 0, 0) } != 0 {
        return Err(match errno() {
            libc::ESRCH => CaptureError::Gone { lwp },
            _ => CaptureError::Denied {
                lwp,
                reason: last_error(),
            },
        });
    }
    // SAFETY: as above.
    if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0) } != 0 {
        detach(tid, 0);
        return Err(CaptureError::Gone { lwp });
    }
    // Until the thread reaches its stop it runs (or waits for a CPU) as before; it is
    // held from the stop on, which the spinning wait sees within microseconds.
    let (signal, stopped_at) = match wait_stop(tid, no_stop_wait) {
        Stop::Stopped(signal) => (signal, Instant::now()),
        Stop::Exited => return Err(CaptureError::Gone { lwp }),
        Stop::Timeout => {
            return Err(CaptureError::NoStop {
                lwp,
                waited: no_stop_wait,
            })
        }
    };
    let regs = match get_regs(tid) {
        Ok(regs) => regs,
        Err(reason) => {
            detach(tid, signal);
            return Err(CaptureError::Registers { lwp, reason });
        }
    };
    let stack_base = regs[reg::RSP].saturating_sub(RED_ZONE);
    let mut len = stack_bytes as u64;
    if let Some(end) = stack_end(regs[reg::RSP]).filter(|&e| e > stack_base) {
        len = len.min(end - stack_base);
    }
    let stack = read_memory(pid, stack_base, len as usize);
    detach(tid, signal);
    let stopped = stopped_at.elapsed();
    Ok(Capture {
        lwp,
        regs,
        stack_base,
        stack,
        stopped,
    })
}

/// The native unwinder reads x86-64 registers only.
#[cfg(not(target_arch = "x86_64"))]
pub fn capture(
    _pid: u32,
    lwp: u32,
    _stack_bytes: usize,
    _stack_end: &dyn Fn(u64) -> Option<u64>,
    _no_stop_wait: Duration,
) -> Result<Capture, CaptureError> {
    Err(CaptureError::Registers {
        lwp,
        reason: "the native unwinder supports x86-64 only: pass --unwinder gdb".into(),
    })
}

enum Stop {
    /// In a ptrace stop; the signal to hand back on detach (0 for our interrupt).
    Stopped(i32),
    Exited,
    Timeout,
}

/// Waits for `tid`'s stop: spins, yielding the CPU (on a busy machine the thread may need
/// it to reach its stop), for the first 20 ms, then polls every 100 µs until `limit`.
fn wait_stop(tid: libc::pid_t, limit: Duration) -> Stop {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer for waitpid.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL | libc::WNOHANG) };
        if r == tid {
            if libc::WIFSTOPPED(status) {
                let sig = libc::WSTOPSIG(status);
                // Our interrupt (or a group stop) shows as PTRACE_EVENT_STOP; anything
                // else is a signal arriving just now, which the thread must still get.
                let event = (status >> 16) & 0xff;
                let pass = if event == libc::PTRACE_EVENT_STOP {
                    0
                } else {
                    sig
                };
                return Stop::Stopped(pass);
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return Stop::Exited;
            }
        } else if r < 0 {
            return Stop::Exited;
        }
        if start.elapsed() >= limit {
            return Stop::Timeout;
        }
        if start.elapsed() < Duration::from_millis(20) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn get_regs(tid: libc::pid_t) -> Result<Registers, String> {
    // SAFETY: user_regs_struct is plain data; all-zero is a valid value.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETREGS writes one user_regs_struct to the pointer given.
    if unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGS,
            tid,
            0,
            &mut r as *mut libc::user_regs_struct,
        )
    } != 0
    {
        return Err(last_error());
    }
    Ok([
        r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12,
        r.r13, r.r14, r.r15, r.rip,
    ])
}

fn detach(tid: libc::pid_t, signal: i32) {
    // SAFETY: PTRACE_DETACH takes the signal to deliver as data, no pointers.
    unsafe {
        libc::ptrace(libc::PTRACE_DETACH, tid, 0, signal as libc::c_long);
    }
}

/// Reads up to `len` bytes of `pid`'s memory at `address` (fewer where the mapping ends).
pub fn read_memory(pid: u32, address: u64, len: usize) -> Vec<u8> {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; len];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: address as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: the local iovec covers `buf` exactly; the remote one is only read by the
    // kernel, which checks it against the target's mappings.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    buf.truncate(usize::try_from(n).unwrap_or(0));
    buf
}
