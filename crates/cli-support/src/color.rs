//! `--color auto|always|never`, resolved once against the terminal and the environment.
use std::ffi::OsString;
use std::io::IsTerminal;

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`.
    #[default]
    Auto,
    /// Always colour (also into a pipe or file).
    Always,
    /// Never colour.
    Never,
}

/// Which stream the colours would go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl ColorChoice {
    /// Whether to colour `stream`, given this process's terminal and environment.
    pub fn enabled(self, stream: Stream) -> bool {
        let terminal = match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        };
        self.decide(
            terminal,
            std::env::var_os("NO_COLOR"),
            std::env::var_os("TERM"),
        )
    }

    /// The decision itself, from explicit facts (<https://no-color.org>: a `NO_COLOR` that is
    /// set and not empty turns colour off; an explicit `--color always` still wins).
    pub fn decide(
        self,
        terminal: bool,
        no_color: Option<OsString>,
        term: Option<OsString>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal
                    && no_color.is_none_or(|v| v.is_empty())
                    && term.is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// The flag, to `#[command(flatten)]` into a tool's `Cli`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ColorArg {
    /// When to use colours: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn auto_follows_terminal_no_color_and_term() {
        let auto = ColorChoice::Auto;
        assert!(auto.decide(true, None, os("xterm-256color")));
        assert!(auto.decide(true, None, None));
        assert!(!auto.decide(false, None, os("xterm")));
        assert!(!auto.decide(true, os("1"), os("xterm")));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(auto.decide(true, os(""), os("xterm")));
        assert!(!auto.decide(true, None, os("dumb")));
    }

    #[test]
    fn explicit_choices_win() {
        assert!(ColorChoice::Always.decide(false, os("1"), os("dumb")));
        assert!(!ColorChoice::Never.decide(true, None, os("xterm")));
    }
}
