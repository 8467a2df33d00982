//! The command line: clap definition, duration/nid parsing, and validation into a [`Plan`]
//! before any ptrace or process work starts.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, ValueEnum};
use cli_support::color::ColorArg;
pub use cli_support::Generate;
use jvm_native_stack::dump;
use jvm_native_stack::gdb::GdbConfig;
use jvm_native_stack::inspect::{Plan, Source};
use jvm_native_stack::jdk::JdkSearch;
use jvm_native_stack::merge::Filter;
use jvm_native_stack::native::NativeConfig;

/// One merged Java + native stack view of a live JVM, with a diagnosis.
///
/// Takes a Java thread dump (jstack), reads every thread from /proc, takes the native
/// frames of the threads shown (stopping each alone for microseconds, or with gdb), joins
/// them on nid = LWP and says what is wrong.
///
/// Exit codes: 0 nothing wrong, 1 a problem was found (blocked threads, deadlock),
/// 2 error, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "jnstack", version)]
pub struct Cli {
    /// Process id of the JVM.
    #[arg(
        required_unless_present_any = ["from_file", "generate"],
        conflicts_with = "from_file"
    )]
    pid: Option<u32>,
    /// Parse a saved thread dump (jstack, jcmd Thread.print or JSON) instead of a live JVM;
    /// twice for a text dump plus the JSON dump taken with it (virtual threads merged in).
    #[arg(long, value_name = "DUMP", num_args = 1)]
    from_file: Vec<PathBuf>,
    /// JDK whose jstack/jcmd to use (default: JAVA_HOME, the target's own JDK, PATH).
    #[arg(long, value_name = "DIR")]
    jdk: Option<PathBuf>,
    /// No native frames (neither unwinder): Java frames plus /proc (state, syscall, fd)
    /// only; never stops a thread.
    #[arg(long)]
    no_gdb: bool,
    /// Who takes the native frames: `native` stops each selected thread alone for a few
    /// microseconds (registers and stack copied, then unwound by jnstack: DWARF CFI and
    /// frame pointers, names from ELF symbol tables); `gdb` attaches gdb (source lines of
    /// libraries with debug info, inlined frames), which stops the whole JVM meanwhile.
    #[arg(long, value_enum, value_name = "WHO", default_value_t = UnwinderChoice::default())]
    unwinder: UnwinderChoice,
    /// Kill gdb (and resume the JVM) after this long, e.g. 30s, 500ms.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = parse_gdb_timeout)]
    gdb_timeout: Duration,
    /// Give up on jstack/jcmd after this long and report without the Java dump (/proc and
    /// gdb only), e.g. 5s: a JVM that cannot reach a safepoint never answers.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_dump_timeout)]
    dump_timeout: Duration,
    /// Measure CPU % per thread over this interval (at least 100ms), e.g. 1s.
    #[arg(long, value_name = "DUR", value_parser = parse_sample)]
    sample: Option<Duration>,
    /// Show only this Linux thread id (LWP, decimal); repeatable. `--tid` is an old name
    /// for it (in a jstack dump `tid=` is the JavaThread's address, not the LWP).
    #[arg(long = "lwp", alias = "tid", value_name = "LWP")]
    tid: Vec<u32>,
    /// Show only this nid, hex (0x1611) or decimal (5649); repeatable.
    #[arg(long, value_name = "NID", value_parser = parse_nid)]
    nid: Vec<u32>,
    /// Show only threads whose name matches this regex.
    #[arg(long, value_name = "REGEX")]
    name: Option<String>,
    /// Show only threads in this Java state (BLOCKED, RUNNABLE, …) or kernel state (R, S, D).
    #[arg(long, value_name = "STATE")]
    state: Vec<String>,
    /// Show only the N threads using the most CPU (N ≥ 1).
    #[arg(long, value_name = "N", value_parser = parse_top)]
    top: Option<usize>,
    /// Take N samples (Java dump, /proc, native frames; the JVM runs between them) and
    /// tell per thread "stuck" (same frames and no CPU in every sample) or "moving".
    #[arg(long, value_name = "N", value_parser = parse_repeat)]
    repeat: Option<usize>,
    /// Pause between --repeat samples, e.g. 1s, 500ms.
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_duration, requires = "repeat")]
    interval: Duration,
    /// Show everything: every thread on its own (no grouping of identical stacks), every
    /// native frame (no folding), every thread name in the diagnosis; and read the debug
    /// info (source lines) of system and JDK libraries too (slower).
    #[arg(long)]
    pub full: bool,
    /// Print the merged model as JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub color: ColorArg,
    /// Print a man page or shell completions to stdout and exit.
    #[arg(long, value_enum, value_name = "WHAT", exclusive = true)]
    pub generate: Option<Generate>,
}

/// `--unwinder` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnwinderChoice {
    /// jnstack's own: per-thread stops of microseconds, no gdb needed (x86-64).
    Native,
    /// gdb: the whole JVM stopped while it attaches to every thread.
    Gdb,
}

impl Default for UnwinderChoice {
    /// Native where it is implemented (x86-64): its stop does not grow with the thread count.
    fn default() -> UnwinderChoice {
        if cfg!(target_arch = "x86_64") {
            UnwinderChoice::Native
        } else {
            UnwinderChoice::Gdb
        }
    }
}

/// Parses `30s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 30s, 500ms, 2m"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration {s:?}"))
}

/// `--gdb-timeout`: a duration above zero (a zero timeout kills gdb before it can attach).
fn parse_gdb_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be more than 0, e.g. 30s (to skip gdb, pass --no-gdb)".into());
    }
    Ok(d)
}

/// `--dump-timeout`: a duration above zero (jstack needs some time to attach).
fn parse_dump_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be more than 0, e.g. 5s".into());
    }
    Ok(d)
}

/// Shortest `--sample`: CPU time is counted in 10 ms clock ticks, so a shorter interval
/// gives percentages that are mostly rounding noise.
const MIN_SAMPLE: Duration = Duration::from_millis(100);

/// `--sample`: a duration of at least [`MIN_SAMPLE`].
fn parse_sample(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < MIN_SAMPLE {
        return Err("must be at least 100ms (CPU time is counted in 10 ms ticks), e.g. 1s".into());
    }
    Ok(d)
}

/// `--repeat`: at least two samples (one sample has nothing to compare).
fn parse_repeat(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0 | 1) => Err("must be at least 2 (a verdict compares samples), e.g. 3".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of samples, e.g. 3")),
    }
}

/// `--top`: at least one thread.
fn parse_top(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1 (the diagnosis is always printed)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of threads, e.g. 5")),
    }
}

/// One line for an invalid `--name` regex (the regex crate's message spans several lines
/// with a caret diagram).
fn regex_error(pattern: &str, e: &regex::Error) -> String {
    let reason = match e {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or("syntax error")
            .to_string(),
        other => other.to_string(),
    };
    format!(
        "invalid --name regex {pattern:?}: {reason} (escape special characters with a backslash, e.g. \"worker\\(1\\)\")"
    )
}

/// Parses a `--nid` value, hex (`0x1611`) or decimal (`5649`).
fn parse_nid(s: &str) -> Result<u32, String> {
    dump::parse_nid(s)
        .ok_or_else(|| format!("invalid nid {s:?}: use hex like 0x1611 or decimal like 5649"))
}

/// Turns the command line into a validated plan; every usage error surfaces here.
pub fn plan(cli: &Cli) -> anyhow::Result<Plan> {
    if cli.from_file.len() > 2 {
        bail!("--from-file takes one dump, or a text dump and the JSON dump taken with it");
    }
    let source = match (cli.from_file.as_slice(), cli.pid) {
        ([], Some(pid)) => Source::Pid(pid),
        ([], None) => bail!("give a pid or --from-file DUMP"),
        (paths, _) => Source::File(paths.to_vec()),
    };
    let name = match cli.name.as_deref() {
        Some(pattern) => Some(
            regex::Regex::new(pattern).map_err(|e| anyhow::anyhow!(regex_error(pattern, &e)))?,
        ),
        None => None,
    };
    if let Some(dir) = &cli.jdk {
        let has_tool = ["jstack", "jcmd"]
            .iter()
            .any(|tool| jvm_native_stack::runner::is_executable(&dir.join("bin").join(tool)));
        if !has_tool {
            return Err(jvm_native_stack::Error::BadJdkDir { dir: dir.clone() }.into());
        }
    }
    const STATES: [&str; 11] = [
        "NEW",
        "RUNNABLE",
        "BLOCKED",
        "WAITING",
        "TIMED_WAITING",
        "TERMINATED",
        "R",
        "S",
        "D",
        "T",
        "Z",
    ];
    for s in &cli.state {
        if !STATES.iter().any(|k| k.eq_ignore_ascii_case(s)) {
            bail!("invalid --state {s:?}: use one of {}", STATES.join(", "));
        }
    }
    let live = matches!(source, Source::Pid(_));
    let frames = !cli.no_gdb && live;
    if frames && cli.unwinder == UnwinderChoice::Native && !cfg!(target_arch = "x86_64") {
        bail!("--unwinder native supports x86-64 only: pass --unwinder gdb");
    }
    let gdb = if frames && cli.unwinder == UnwinderChoice::Gdb {
        Some(GdbConfig::from_path(cli.gdb_timeout, cli.full)?)
    } else {
        None
    };
    let native = (frames && cli.unwinder == UnwinderChoice::Native).then(NativeConfig::default);
    if cli.sample.is_some() && !live {
        bail!("--sample needs a live pid, not --from-file");
    }
    if cli.repeat.is_some() && !live {
        bail!("--repeat needs a live pid, not --from-file (a saved dump is one sample)");
    }
    let mut lwps = cli.tid.clone();
    lwps.extend(&cli.nid);
    Ok(Plan {
        source,
        jdk: JdkSearch {
            jdk: cli.jdk.clone(),
            java_home: std::env::var_os("JAVA_HOME").map(PathBuf::from),
            target_exe: None,
        },
        dump_timeout: cli.dump_timeout,
        gdb,
        native,
        sample: cli.sample,
        filter: Filter {
            lwps,
            name,
            states: cli.state.iter().map(|s| s.to_ascii_uppercase()).collect(),
            top: cli.top,
        },
        notice: |message| cli_support::output::line("jnstack", message),
        full: cli.full,
        repeat: cli.repeat.map(|count| jvm_native_stack::sampling::Repeat {
            count,
            interval: cli.interval,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn generates_man_page_and_completions() {
        let man = Generate::Man.render(Cli::command());
        assert!(String::from_utf8_lossy(&man).contains("\\-\\-gdb\\-timeout"));
        for shell in &Generate::ALL[1..] {
            let script = shell.render(Cli::command());
            assert!(
                String::from_utf8_lossy(&script).contains("no-gdb"),
                "{shell:?}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn zero_and_tiny_values_are_refused() {
        assert!(parse_gdb_timeout("0").unwrap_err().contains("--no-gdb"));
        assert!(parse_gdb_timeout("0ms").is_err());
        assert_eq!(parse_gdb_timeout("1ms"), Ok(Duration::from_millis(1)));
        assert!(parse_sample("0").is_err());
        assert!(parse_sample("50ms").unwrap_err().contains("at least 100ms"));
        assert_eq!(parse_sample("100ms"), Ok(Duration::from_millis(100)));
        assert!(parse_top("0").unwrap_err().contains("at least 1"));
        assert!(parse_top("x").is_err());
        assert_eq!(parse_top("3"), Ok(3));
        assert!(parse_repeat("1").unwrap_err().contains("at least 2"));
        assert!(parse_repeat("x").is_err());
        assert_eq!(parse_repeat("3"), Ok(3));
    }

    #[test]
    fn invalid_regex_is_one_line() {
        // Built at run time: clippy rejects invalid regex literals.
        let pattern = String::from("(");
        let e = regex::Regex::new(&pattern).unwrap_err();
        let msg = regex_error("(", &e);
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.starts_with("invalid --name regex \"(\": unclosed group"),
            "{msg}"
        );
    }
}
