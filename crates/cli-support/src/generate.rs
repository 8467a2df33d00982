//! `--generate man|bash|zsh|fish|elvish|powershell`: the man page and shell completions,
//! all from the tool's one clap definition.
use clap_complete::Shell;

/// `--generate` values: a man page or a shell completion script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// A roff man page (`man -l <file>`).
    Man,
    /// Bash completions.
    Bash,
    /// Zsh completions.
    Zsh,
    /// Fish completions.
    Fish,
    /// Elvish completions.
    Elvish,
    /// PowerShell completions.
    Powershell,
}

impl Generate {
    /// Every value, for tests and packaging scripts.
    pub const ALL: [Generate; 6] = [
        Generate::Man,
        Generate::Bash,
        Generate::Zsh,
        Generate::Fish,
        Generate::Elvish,
        Generate::Powershell,
    ];

    /// Renders the page or script for `cmd` into memory. Not straight to stdout:
    /// clap_complete panics on a failed write (a closed pipe), and a buffer cannot fail.
    pub fn render(self, mut cmd: clap::Command) -> Vec<u8> {
        let mut out = Vec::new();
        let shell = match self {
            Generate::Man => {
                // Writing into a Vec cannot fail.
                let _ = clap_mangen::Man::new(cmd).render(&mut out);
                return out;
            }
            Generate::Bash => Shell::Bash,
            Generate::Zsh => Shell::Zsh,
            Generate::Fish => Shell::Fish,
            Generate::Elvish => Shell::Elvish,
            Generate::Powershell => Shell::PowerShell,
        };
        let name = cmd.get_name().to_string();
        clap_complete::generate(shell, &mut cmd, name, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> clap::Command {
        clap::Command::new("demo").arg(clap::Arg::new("frobnicate").long("frobnicate"))
    }

    #[test]
    fn every_kind_names_the_flag() {
        for what in Generate::ALL {
            let text = String::from_utf8(what.render(cmd())).unwrap();
            let flag = if what == Generate::Man {
                "\\-\\-frobnicate"
            } else {
                "frobnicate"
            };
            assert!(text.contains(flag), "{what:?}: {text}");
            assert!(text.contains("demo"), "{what:?}");
        }
    }
}
