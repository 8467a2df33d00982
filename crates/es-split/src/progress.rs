//! Progress on stderr: indicatif bars and spinners on a terminal, plain step lines otherwise.
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where step messages and progress go.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    tty: bool,
    quiet: bool,
    verbose: bool,
}

impl Ui {
    /// Bars only when stderr is a terminal; `quiet` silences step lines (errors still print);
    /// `verbose` adds detail lines (e.g. every poll while a clone recovers).
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            quiet,
            verbose,
        }
    }

    /// A Ui that never draws (library tests).
    pub fn silent() -> Self {
        Self {
            tty: false,
            quiet: true,
            verbose: false,
        }
    }

    /// Prints one line to stderr.
    pub fn say(&self, msg: &str) {
        if !self.quiet {
            crate::out::err_line(&format!("es-split: {msg}"));
        }
    }

    /// Prints one line with `--verbose` only.
    pub fn detail(&self, msg: &str) {
        if self.verbose {
            crate::out::err_line(&format!("es-split: {msg}"));
        }
    }

    /// Always prints (warnings).
    pub fn warn(&self, msg: &str) {
        crate::out::warn(msg);
    }

    /// A bar for work with a known total of `unit`s (done/total, rate, ETA).
    pub fn bar(&self, msg: &str, unit: &str) -> Progress {
        if !self.tty || self.quiet {
            return Progress(None);
        }
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let template = format!(
            "{{msg:24}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} {{per_sec}} ETA {{eta}}"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
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
