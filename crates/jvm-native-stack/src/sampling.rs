//! `--repeat N --interval D`: N whole samples (Java dump, /proc, native frames; the JVM
//! runs again after each one), and per thread a verdict: the same frames and no CPU time
//! (utime + stime from /proc) in every sample is "stuck"; anything else is "moving".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::diagnose::{Finding, FindingKind, ThreadRef};
use crate::inspect::{self, Outcome, Plan};
use crate::merge::Thread;
use crate::runner::Runner;
use crate::Error;

/// How many samples and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// Number of samples (at least 2).
    pub count: usize,
    /// Pause between the end of one sample and the start of the next.
    pub interval: Duration,
}

/// One thread as one sample saw it: what the verdict compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledThread {
    /// Linux thread id.
    pub lwp: u32,
    /// Thread name.
    pub name: String,
    /// Java state, when the sample had a Java dump.
    pub java_state: Option<String>,
    /// Kernel scheduler state letter.
    pub state: Option<String>,
    /// utime + stime so far, in milliseconds (10 ms ticks).
    pub cpu_ms: Option<u64>,
    /// Java frames, innermost first.
    pub java_frames: Vec<String>,
    /// Native frames by function name, innermost first; absent without gdb.
    pub native_frames: Option<Vec<String>>,
}

impl SampledThread {
    fn of(t: &Thread) -> Option<SampledThread> {
        Some(SampledThread {
            lwp: t.lwp?,
            name: t.name.clone(),
            java_state: t.java_state().map(str::to_string),
            state: t.task.as_ref().map(|k| k.state.to_string()),
            cpu_ms: t.task.as_ref().map(|k| k.cpu_ms),
            java_frames: t
                .java
                .as_ref()
                .map(|j| j.frames.iter().map(|f| f.text.clone()).collect())
                .unwrap_or_default(),
            native_frames: t
                .native_frames
                .as_ref()
                .map(|f| f.iter().map(|f| f.function.clone()).collect()),
        })
    }

    /// Same place: Java frames, native frames (when both samples have them) and state.
    fn same_frames(&self, other: &SampledThread) -> bool {
        self.java_frames == other.java_frames
            && self.java_state == other.java_state
            && match (&self.native_frames, &other.native_frames) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// One sample.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// When it started, in milliseconds since the first sample started.
    pub taken_ms: f64,
    /// Every thread with an LWP.
    pub threads: Vec<SampledThread>,
}

/// A thread's verdict over all samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same frames and no CPU time in every sample.
    Stuck,
    /// Its frames changed or it used CPU.
    Moving,
    /// Not in every sample (started or ended meanwhile).
    Partial,
}

/// A thread's verdict with the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadVerdict {
    /// Linux thread id.
    pub lwp: u32,
    /// Thread name (from the last sample it was in).
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// In how many samples the thread was.
    pub seen: usize,
    /// Its frames differed between two samples.
    pub frames_changed: bool,
    /// CPU time it used from its first sample to its last, in milliseconds.
    pub cpu_used_ms: u64,
}

impl ThreadVerdict {
    /// The text report's tag for the thread header (coarse, so groups stay groups).
    pub fn label(&self) -> String {
        match self.verdict {
            Verdict::Stuck => format!("[stuck: same frames, no CPU in {} samples]", self.seen),
            Verdict::Partial => format!("[in {} samples only]", self.seen),
            Verdict::Moving => match (self.frames_changed, self.cpu_used_ms > 0) {
                (true, true) => "[moving: frames changed, used CPU]".into(),
                (true, false) => "[moving: frames changed]".into(),
                _ => "[moving: used CPU]".into(),
            },
        }
    }
}

/// Every sample and the verdicts (`--json` carries both).
#[derive(Debug, Clone, Serialize)]
pub struct Samples {
    /// The pause between samples, in milliseconds.
    pub interval_ms: f64,
    /// The samples, oldest first.
    pub samples: Vec<Sample>,
    /// One verdict per thread seen in any sample, by LWP.
    pub verdicts: Vec<ThreadVerdict>,
}

impl Samples {
    /// Builds the verdicts from the samples.
    pub fn new(interval: Duration, samples: Vec<Sample>) -> Samples {
        let mut by_lwp: BTreeMap<u32, Vec<&SampledThread>> = BTreeMap::new();
        for s in &samples {
            for t in &s.threads {
                by_lwp.entry(t.lwp).or_default().push(t);
            }
        }
        let verdicts = by_lwp
            .into_iter()
            .map(|(lwp, seen)| {
                let first = seen[0];
                let last = seen[seen.len() - 1];
                let frames_changed = seen.windows(2).any(|w| !w[0].same_frames(w[1]));
                let cpu_used_ms = match (first.cpu_ms, last.cpu_ms) {
                    (Some(a), Some(b)) => b.saturating_sub(a),
                    _ => 0,
                };
                let verdict = if seen.len() < samples.len() {
                    Verdict::Partial
                } else if frames_changed || cpu_used_ms > 0 {
                    Verdict::Moving
                } else {
                    Verdict::Stuck
                };
                ThreadVerdict {
                    lwp,
                    name: last.name.clone(),
                    verdict,
                    seen: seen.len(),
                    frames_changed,
                    cpu_used_ms,
                }
            })
            .collect();
        Samples {
            interval_ms: interval.as_secs_f64() * 1000.0,
            samples,
            verdicts,
        }
    }

    /// The verdict of the thread with this LWP.
    pub fn verdict(&self, lwp: u32) -> Option<&ThreadVerdict> {
        self.verdicts
            .binary_search_by_key(&lwp, |v| v.lwp)
            .ok()
            .map(|i| &self.verdicts[i])
    }

    /// The summary finding: how many threads were stuck and moving, and the stuck ones that
    /// were not merely waiting (RUNNABLE, BLOCKED, or in state D).
    pub fn finding(&self, full: bool) -> Finding {
        let count = |v: Verdict| self.verdicts.iter().filter(|t| t.verdict == v).count();
        // By LWP: a search per thread would be quadratic at 5,000 threads.
        let last: BTreeMap<u32, &SampledThread> = self
            .samples
            .last()
            .map(|s| s.threads.iter().map(|t| (t.lwp, t)).collect())
            .unwrap_or_default();
        let state_of = |lwp: u32| last.get(&lwp).copied();
        let notable: Vec<&ThreadVerdict> = self
            .verdicts
            .iter()
            .filter(|v| v.verdict == Verdict::Stuck)
            .filter(|v| {
                state_of(v.lwp).is_some_and(|t| {
                    matches!(t.java_state.as_deref(), Some("RUNNABLE" | "BLOCKED"))
                        || t.state.as_deref() == Some("D")
                })
            })
            .collect();
        let mut text = format!(
            "Over {} samples {} apart: {} thread{} stuck (same frames and no CPU in every \
             sample), {} moving",
            self.samples.len(),
            human(self.interval_ms),
            count(Verdict::Stuck),
            if count(Verdict::Stuck) == 1 { "" } else { "s" },
            count(Verdict::Moving),
        );
        let partial = count(Verdict::Partial);
        if partial > 0 {
            text += &format!(", {partial} not in every sample (started or ended meanwhile)");
        }
        text.push('.');
        if !notable.is_empty() {
            let names: Vec<String> = notable
                .iter()
                .map(|v| format!("\"{}\" (LWP {})", v.name, v.lwp))
                .collect();
            text += &format!(
                " Stuck although RUNNABLE, BLOCKED or in state D: {}.",
                crate::diagnose::join_capped(&names, ", ", full)
            );
        }
        Finding {
            kind: FindingKind::Samples,
            problem: false,
            text,
            lock: None,
            owner: None,
            threads: notable
                .iter()
                .map(|v| ThreadRef {
                    name: v.name.clone(),
                    lwp: Some(v.lwp),
                })
                .collect(),
        }
    }
}

fn human(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// Runs the plan once, or `--repeat` times with the pause between; the report is the last
/// sample's, with the verdicts. A sample that fails after the first ends the sampling with
/// a warning (the samples so far are kept).
pub fn run(plan: &Plan, runner: &dyn Runner, cancel: &AtomicBool) -> Result<Outcome, Error> {
    let Some(repeat) = plan.repeat else {
        return inspect::inspect(plan, runner, cancel);
    };
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut last: Option<Outcome> = None;
    let mut warnings = Vec::new();
    for n in 0..repeat.count {
        if n > 0 && !pause(repeat.interval, cancel) {
            warnings.push(format!(
                "interrupted after {n} of {} samples: the verdicts use those",
                repeat.count
            ));
            break;
        }
        let taken_ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match inspect::inspect(plan, runner, cancel) {
            Ok(outcome) => outcome,
            Err(e) if last.is_some() => {
                warnings.push(format!(
                    "sample {} of {} failed ({e}): the verdicts use the {n} before it",
                    n + 1,
                    repeat.count
                ));
                break;
            }
            Err(e) => return Err(e),
        };
        samples.push(Sample {
            taken_ms,
            threads: outcome
                .snapshot
                .threads
                .iter()
                .filter_map(SampledThread::of)
                .collect(),
        });
        let interrupted = outcome.snapshot.interrupted;
        last = Some(outcome);
        if interrupted {
            break;
        }
    }
    let Some(mut outcome) = last else {
        return Err(Error::Interrupted);
    };
    let samples = Samples::new(repeat.interval, samples);
    outcome.findings.push(samples.finding(plan.full));
    outcome.snapshot.warnings.extend(warnings);
    outcome.samples = Some(samples);
    Ok(outcome)
}

/// Sleeps `interval` in short steps; false if Ctrl-C came meanwhile.
fn pause(interval: Duration, cancel: &AtomicBool) -> bool {
    let end = Instant::now() + interval;
    while Instant::now() < end {
        if cancel.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    !cancel.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(lwp: u32, cpu_ms: u64, top: &str, native: Option<&str>) -> SampledThread {
        SampledThread {
            lwp,
            name: format!("t{lwp}"),
            java_state: Some("RUNNABLE".into()),
            state: Some("S".into()),
            cpu_ms: Some(cpu_ms),
            java_frames: vec![top.to_string()],
            native_frames: native.map(|n| vec![n.to_string()]),
        }
    }

    #[test]
    fn same_frames_and_no_cpu_is_stuck_anything_else_moves() {
        let samples = vec![
            Sample {
                taken_ms: 0.0,
                threads: vec![
                    thread(1, 50, "A.read", Some("read")),
                    thread(2, 50, "A.spin", Some("loop")),
                    thread(3, 50, "A.a", Some("x")),
                    thread(4, 50, "A.a", Some("x")),
                    thread(5, 50, "A.a", Some("x")),
                ],
            },
            Sample {
                taken_ms: 1000.0,
                threads: vec![
                    thread(1, 50, "A.read", Some("read")),
                    thread(2, 70, "A.spin", Some("loop")),
                    thread(3, 50, "A.b", Some("x")),
                    thread(4, 50, "A.a", Some("y")),
                ],
            },
        ];
        let s = Samples::new(Duration::from_secs(1), samples);
        let v = |lwp| s.verdict(lwp).unwrap();
        assert_eq!(v(1).verdict, Verdict::Stuck);
        assert_eq!(
            (v(2).verdict, v(2).cpu_used_ms, v(2).frames_changed),
            (Verdict::Moving, 20, false)
        );
        assert_eq!(v(3).verdict, Verdict::Moving);
        assert!(v(3).frames_changed);
        assert_eq!(v(4).verdict, Verdict::Moving, "native frames changed");
        assert_eq!(v(5).verdict, Verdict::Partial);
        let f = s.finding(false);
        assert!(
            f.text
                .starts_with("Over 2 samples 1 s apart: 1 thread stuck"),
            "{}",
            f.text
        );
        assert!(f.text.contains("\"t1\" (LWP 1)"), "{}", f.text);
        assert_eq!(v(1).label(), "[stuck: same frames, no CPU in 2 samples]");
    }
}
