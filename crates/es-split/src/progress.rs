//! Progress on stderr: indicatif bars and spinners on a terminal, plain step lines otherwise.
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where step messages and progress go.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    tty: bool,
    quiet: bool,
}

impl Ui {
    /// Bars only when stderr is a terminal; `quiet` silences step lines (errors still print).
    pub fn new(quiet: bool) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    /// A Ui that never draws (library tests).
    pub fn silent() -> Self {
        Self {
            tty: false,
            quiet: true,
        }
    }

    /// Prints one line to stderr.
    pub fn say(&self, msg: &str) {
        if !self.quiet {
            eprintln!("es-split: {msg}");
        }
    }

    /// Always prints (warnings).
    pub fn warn(&self, msg: &str) {
        eprintln!("es-split: warning: {msg}");
    }

    /// A bar when the server reports progress (a polled task), else a spinner.
    pub fn task(&self, polled: bool, msg: &str) -> Progress {
        if polled {
            self.bar(msg)
        } else {
            self.spinner(msg)
        }
    }

    /// A bar for a task with a known total (deleted/total, rate, ETA).
    pub fn bar(&self, msg: &str) -> Progress {
        if !self.tty || self.quiet {
            return Progress(None);
        }
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:24} [{bar:30}] {human_pos}/{human_len} docs {per_sec} ETA {eta}",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(msg.to_string());
        Progress(Some(pb))
    }

    /// A spinner for a call that reports nothing until it ends.
    pub fn spinner(&self, msg: &str) -> Progress {
        if !self.tty || self.quiet {
            return Progress(None);
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            pb.set_style(style);
        }
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(pb))
    }
}

/// A bar or spinner that may be hidden.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// Updates the total and the position.
    pub fn update(&self, done: u64, total: u64) {
        if let Some(pb) = &self.0 {
            pb.set_length(total);
            pb.set_position(done.min(total));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
